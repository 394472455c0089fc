"""Procedural scenes and a ray-casting renderer (Open3D)."""
from geodl.render.geometry import high_res_depth, render_geometry
from geodl.render.raycast import Renderer, RenderResult
from geodl.render.render_lightfield import render_lightfield, rig_for_depth_range
from geodl.render.scene import Scene, SceneObject, make_room
from geodl.render.textures import Texture, checker, noise, photo, stripes

__all__ = ["RenderResult", "Renderer", "Scene", "SceneObject", "Texture", "checker",
           "high_res_depth", "make_room", "noise", "photo", "render_geometry",
           "render_lightfield", "rig_for_depth_range", "stripes"]
