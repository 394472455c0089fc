"""Procedural scenes and a ray-casting renderer (Open3D)."""
from geodl.render.ground_truth import (FINE_PARTS, block_median, evaluation_masks,
                                       high_res_depth, median_depth)
from geodl.render.hci_scene import render_hci_scene
from geodl.render.lightfield_rig import render_lightfield, rig_for_depth_range
from geodl.render.raycast import Renderer, RenderResult
from geodl.render.scene import Scene, SceneObject, make_room
from geodl.render.textures import Texture, checker, noise, photo, stripes

__all__ = ["FINE_PARTS", "RenderResult", "Renderer", "Scene", "SceneObject", "Texture",
           "block_median", "checker", "evaluation_masks", "high_res_depth", "make_room",
           "median_depth", "noise", "photo", "render_hci_scene", "render_lightfield",
           "rig_for_depth_range", "stripes"]
