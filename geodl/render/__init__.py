"""Procedural scenes and a ray-casting renderer (Open3D)."""
from geodl.render.ground_truth import (FINE_PARTS, block_median, evaluation_masks,
                                       high_res_depth, median_depth)
from geodl.render.hci_scene import render_hci_scene
from geodl.render.lightfield_rig import render_lightfield, rig_for_depth_range
from geodl.render.raycast import Renderer, RenderResult
from geodl.render.scene import Scene, SceneObject, checker, make_room, noise, stripes

__all__ = ["FINE_PARTS", "RenderResult", "block_median", "evaluation_masks", "high_res_depth",
           "median_depth",
           "render_hci_scene", "render_lightfield", "rig_for_depth_range", "Renderer", "Scene", "SceneObject", "checker", "make_room", "noise",
           "stripes"]
