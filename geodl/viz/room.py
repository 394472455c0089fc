"""A ``geodl.render.Scene`` (a procedural room) as coloured meshes, one per kind
of object (floor, wall, picture, table, ...), so each kind has its own toggle."""
from __future__ import annotations

import numpy as np

from geodl._optional import trimesh
from geodl.render.scene import Scene, SceneObject
from geodl.viz.primitives import Primitive


def _kind(obj: SceneObject) -> str:
    # "table_top", "table_leg" -> "table"; "wall_x-" -> "wall"
    return (obj.name or "object").split("_")[0]


def _mean_albedo(obj: SceneObject, samples: int = 256) -> np.ndarray:
    """The texture's mean colour over the surface: ``samples`` area-uniform
    points (fixed seed, so the same scene gives the same colours)."""
    v, f = obj.mesh.verts64.numpy(), obj.mesh.faces.numpy()
    tri = v[f]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(n, axis=1)
    rng = np.random.default_rng(0)
    face = rng.choice(len(f), samples, p=area / area.sum())
    a, b = rng.random(samples), rng.random(samples)
    flip = a + b > 1  # fold the unit square onto the triangle
    a, b = np.where(flip, 1 - a, a), np.where(flip, 1 - b, b)
    t = tri[face]
    p = t[:, 0] + a[:, None] * (t[:, 1] - t[:, 0]) + b[:, None] * (t[:, 2] - t[:, 0])
    normals = n[face] / np.maximum(area[face], 1e-300)[:, None]
    return np.clip(obj.texture(p, normals), 0, 1).mean(0)


def _textured(obj: SceneObject, resolution: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The object's mesh split into triangles no longer than ``resolution``,
    un-indexed (each face its own corners, so each corner takes its face's
    normal), coloured by the texture at the corners."""
    v, f = trimesh().remesh.subdivide_to_size(obj.mesh.verts64.numpy(), obj.mesh.faces.numpy(),
                                              max_edge=resolution, max_iter=20)
    tri = v[f]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)
    p = tri.reshape(-1, 3)
    colors = np.clip(obj.texture(p, np.repeat(n, 3, axis=0)), 0, 1)
    return p, np.arange(len(p)).reshape(-1, 3), colors


def scene_primitives(scene: Scene, resolution: float | None = None, prefix: str = "",
                     hidden: tuple[str, ...] = ("ceiling",)) -> list[Primitive]:
    """One mesh primitive per kind of object in ``scene``.

    Args:
        resolution: ``None`` colours each object by its texture's mean colour
            (small pages); a length in metres splits faces to that size and
            colours their corners by the texture (photographs and patterns
            show, at a cost of about ``2 * area / resolution^2`` triangles).
        prefix: put before each kind's name in the legend.
        hidden: kinds that start hidden (the ceiling, so the room can be seen
            from above).
    """
    if resolution is not None and not resolution > 0:
        raise ValueError(f"resolution: expected > 0 metres or None, got {resolution}")
    groups: dict[str, list[SceneObject]] = {}
    for obj in scene.objects:
        groups.setdefault(_kind(obj), []).append(obj)
    prims = []
    for kind, objs in groups.items():
        pos, idx, col, off = [], [], [], 0
        for obj in objs:
            if resolution is None:
                p, f = obj.mesh.verts64.numpy(), obj.mesh.faces.numpy()
                c = np.tile(_mean_albedo(obj), (len(p), 1))
            else:
                p, f, c = _textured(obj, resolution)
            pos.append(p)
            idx.append(f + off)
            col.append(c)
            off += len(p)
        p = np.concatenate(pos)
        prims.append(Primitive(
            f"{prefix}{kind}", "mesh", p, np.concatenate(idx), np.concatenate(col),
            color=tuple(np.concatenate(col).mean(0)), visible=kind not in hidden,
            info=f"{len(objs)} object{'s' * (len(objs) > 1)}, {off} vertices"))
    return prims
