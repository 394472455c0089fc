"""CPU ray-casting renderer on Open3D's ``RaycastingScene`` (Embree).

Per pixel: colour (solid texture at the hit point, Lambert from one
directional light plus ambient, optional supersampling against aliasing),
z-depth, world-space normal and object id. Rays come from
``PinholeCamera.rays()``: their camera-frame z is 1, so Open3D's ``t_hit`` is
the z-depth directly (``cast_rays`` measures t in units of the direction's
length).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from geodl._optional import open3d
from geodl.render.scene import Scene
from geodl.structures import PinholeCamera


@dataclass
class RenderResult:
    """color (3, H, W) in [0, 1]; depth (H, W) z-depth (inf where nothing is
    hit); normal (3, H, W) world frame, facing the camera; object_id (H, W)
    (0 = background)."""

    color: Tensor
    depth: Tensor
    normal: Tensor
    object_id: Tensor


class Renderer:
    """Holds the Open3D scene of a ``Scene`` for repeated renders."""

    def __init__(self, scene: Scene, light_dir=(0.4, 0.3, 1.0), ambient: float = 0.35) -> None:
        o3d = open3d()
        self.scene = scene
        self.rc = o3d.t.geometry.RaycastingScene()
        self.geometry_to_object = {}
        for obj in scene.objects:
            gid = self.rc.add_triangles(
                o3d.core.Tensor(obj.mesh.verts64.numpy().astype(np.float32)),
                o3d.core.Tensor(obj.mesh.faces.numpy().astype(np.uint32)))
            self.geometry_to_object[int(gid)] = obj
        light = np.asarray(light_dir, float)
        self.light = light / np.linalg.norm(light)
        self.ambient = ambient

    def cast(self, origins: np.ndarray, directions: np.ndarray) -> dict:
        o3d = open3d()
        rays = np.concatenate([origins, directions], -1).astype(np.float32)
        return {k: v.numpy() for k, v in self.rc.cast_rays(o3d.core.Tensor(rays)).items()}

    def render(self, camera: PinholeCamera, supersample: int = 1) -> RenderResult:
        if supersample < 1:
            raise ValueError(f"supersample: expected >= 1, got {supersample}")
        cam = camera.scaled(supersample) if supersample > 1 else camera
        origins, dirs = (t.numpy() for t in cam.rays())
        hit = self.cast(origins, dirs)
        t = hit["t_hit"].astype(np.float64)
        gid = hit["geometry_ids"].astype(np.int64)
        normal = hit["primitive_normals"].astype(np.float64)
        # face normals toward the camera (rooms are seen from inside)
        flip = (normal * dirs).sum(-1) > 0
        normal[flip] *= -1
        H, W = t.shape
        color = np.zeros((H, W, 3))
        ids = np.zeros((H, W), np.int64)
        valid = np.isfinite(t)
        points = origins + dirs * np.where(valid, t, 0)[..., None]
        for g, obj in self.geometry_to_object.items():
            m = valid & (gid == g)
            if not m.any():
                continue
            ids[m] = obj.object_id
            albedo = obj.texture(points[m])
            lambert = np.clip(normal[m] @ self.light, 0, None)
            color[m] = albedo * (self.ambient + (1 - self.ambient) * lambert)[:, None]
        if supersample > 1:
            s = supersample
            color = color.reshape(H // s, s, W // s, s, 3).mean((1, 3))
            # geometry from the sample nearest the pixel centre
            c = s // 2
            t, ids, normal = t[c::s, c::s], ids[c::s, c::s], normal[c::s, c::s]
        return RenderResult(torch.from_numpy(np.clip(color, 0, 1)).permute(2, 0, 1).float(),
                            torch.from_numpy(np.where(np.isfinite(t), t, np.inf)),
                            torch.from_numpy(normal).permute(2, 0, 1),
                            torch.from_numpy(ids))
