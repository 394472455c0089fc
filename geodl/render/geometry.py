"""Geometry seen by a camera, without shading: depth, normals and object ids,
cast in bands of rows so that 10x benchmark resolutions (5120 x 5120) fit in
memory. The benchmark's ground truth (block median, evaluation masks) is made
from these maps in ``geodl.lightfield.benchmark``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from geodl.render.raycast import Renderer, facing
from geodl.structures import PinholeCamera


def render_geometry(renderer: Renderer, camera: PinholeCamera, band_rows: int = 256
                    ) -> tuple[Tensor, Tensor, Tensor]:
    """Geometry seen by ``camera`` (no shading), cast one band of rows at a
    time so that 10x benchmark resolutions (5120 x 5120) fit in memory.

    Returns:
        depth: (H, W) float32 z-depth, inf where nothing is hit;
        normal: (3, H, W) float32 world-frame normals facing the camera;
        object_id: (H, W) int32 (0 = background).
    """
    H, W = camera.height, camera.width
    depth = np.empty((H, W), np.float32)
    normal = np.empty((3, H, W), np.float32)
    ids = np.zeros((H, W), np.int32)
    for top in range(0, H, band_rows):
        rows = min(band_rows, H - top)
        rays = camera.crop(top, 0, rows, W).ray_bundle()
        hit = renderer.cast(rays)
        ids[top:top + rows] = renderer.object_ids(hit["geometry_ids"])
        n = facing(hit["primitive_normals"], rays[..., 3:])
        normal[:, top:top + rows] = n.transpose(2, 0, 1)
        depth[top:top + rows] = hit["t_hit"]
    return torch.from_numpy(depth), torch.from_numpy(normal), torch.from_numpy(ids)


def high_res_depth(renderer: Renderer, camera: PinholeCamera, factor: int = 10
                   ) -> tuple[Tensor, Tensor, Tensor]:
    """``render_geometry`` at ``factor`` x the camera's resolution."""
    if factor < 1:
        raise ValueError(f"factor: expected >= 1, got {factor}")
    return render_geometry(renderer, camera.scaled(factor))
