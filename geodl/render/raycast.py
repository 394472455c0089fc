"""CPU ray-casting renderer on Open3D's ``RaycastingScene`` (Embree).

Per pixel: colour (texture at the hit point, Lambert from one
directional light plus ambient, optional supersampling against aliasing),
z-depth, world-space normal and object id. Rays come from
``PinholeCamera.ray_bundle()``: their camera-frame z is 1, so Open3D's ``t_hit`` is
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


def facing(normals: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """(..., 3) normals flipped where needed to face against the (..., 3) ray
    directions, i.e. towards the camera (rooms are seen from inside)."""
    away = np.einsum("...k,...k->...", normals, directions) > 0
    return np.where(away[..., None], -normals, normals)


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
        # geometry id -> object id; Open3D's ids are 0, 1, ... in insertion order
        self._object_of_geometry = np.zeros(len(scene.objects) + 1, np.int32)
        for g, obj in self.geometry_to_object.items():
            self._object_of_geometry[g] = obj.object_id
        light = np.asarray(light_dir, float)
        self.light = light / np.linalg.norm(light)
        self.ambient = ambient

    def object_ids(self, geometry_ids: np.ndarray) -> np.ndarray:
        """Object ids (0 = nothing hit) of Open3D's per-ray ``geometry_ids``,
        where a miss is INVALID_ID = 2^32 - 1."""
        g = geometry_ids.astype(np.int64)
        last = len(self._object_of_geometry) - 1  # stays 0: the "miss" slot
        return self._object_of_geometry[np.where(g < last, g, last)]

    def cast(self, rays: np.ndarray) -> dict:
        """Open3D's ``cast_rays`` of (..., 6) float32 ``[origin, direction]``
        rows (``PinholeCamera.ray_bundle``), results as NumPy arrays."""
        o3d = open3d()
        return {k: v.numpy() for k, v in self.rc.cast_rays(o3d.core.Tensor(rays)).items()}

    def render(self, camera: PinholeCamera, supersample: int = 1) -> RenderResult:
        if supersample < 1:
            raise ValueError(f"supersample: expected >= 1, got {supersample}")
        cam = camera.scaled(supersample) if supersample > 1 else camera
        # float32 throughout: what Open3D casts with, and half the memory traffic
        rays = cam.ray_bundle()
        dirs = rays[..., 3:]
        hit = self.cast(rays)
        t = hit["t_hit"]
        H, W = t.shape
        ids = self.object_ids(hit["geometry_ids"])
        normal = facing(hit["primitive_normals"], dirs)
        # Shade the hit pixels grouped by object (one sort instead of a full-image
        # mask per object): rows bounds[k-1]:bounds[k] of `order` belong to object k.
        flat_ids = ids.ravel()
        hit_px = np.flatnonzero(flat_ids)
        order = hit_px[np.argsort(flat_ids[hit_px], kind="stable")]
        bounds = np.cumsum(np.bincount(flat_ids[order], minlength=len(self.scene.objects) + 1))
        n = normal.reshape(-1, 3)[order]
        centre = cam.center.numpy().astype(np.float32)  # every ray starts there
        p = centre + dirs.reshape(-1, 3)[order] * t.ravel()[order, None]
        albedo = np.zeros((len(order), 3), np.float32)
        for obj in self.scene.objects:
            a, b = bounds[obj.object_id - 1], bounds[obj.object_id]
            if b > a:
                albedo[a:b] = obj.texture(p[a:b], n[a:b])
        lambert = np.clip(n @ self.light.astype(np.float32), 0, None)
        color = np.zeros((H * W, 3), np.float32)
        color[order] = albedo * (self.ambient + (1 - self.ambient) * lambert)[:, None]
        color = color.reshape(H, W, 3)
        if supersample > 1:
            s = supersample
            color = color.reshape(H // s, s, W // s, s, 3).mean((1, 3))
            # geometry from the sample nearest the pixel centre
            c = s // 2
            t, ids, normal = t[c::s, c::s], ids[c::s, c::s], normal[c::s, c::s]
        return RenderResult(torch.from_numpy(np.clip(color, 0, 1)).permute(2, 0, 1).float(),
                            torch.from_numpy(np.where(np.isfinite(t), t, np.inf).astype(np.float64)),
                            torch.from_numpy(normal.astype(np.float64)).permute(2, 0, 1),
                            torch.from_numpy(ids.astype(np.int64)))
