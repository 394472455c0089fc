r"""A stand-in for a reconstructed room mesh, made from the room's own scene.

What a TSDF reconstruction gives, without cameras: one connected triangle
mesh of roughly uniform edge length (marching cubes at ``voxel`` metres) of
the room's inner surfaces, furniture merged with the floor it stands on, thin
parts thickened, normals facing the free space, plus noise.

Recipe: the unsigned distance :math:`d(x) = \min_{t} \mathrm{dist}(x, t)` to
the scene's triangles (exact, Open3D ``RaycastingScene.compute_distance``) on
a grid of spacing ``voxel`` spanning the room's interior (between the inner
faces of floor, ceiling and walls), the level set :math:`d = 0.6\,\mathrm{voxel}`
by marching cubes (scikit-image), zero-area triangles removed, and Gaussian
noise of ``noise`` metres (per coordinate) on the vertices. Every surface moves
0.6 voxel into the room, so the labels transfer with a tolerance above that.

Unlike a reconstruction it sees every surface (under tables, behind
cabinets), has no depth-estimation errors and no holes.
"""
from __future__ import annotations

import numpy as np
import torch

from geodl._optional import open3d
from geodl.render import Scene, make_room
from geodl.structures import Mesh


def room_interior(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """``(low (3,), high (3,))`` corners of the free space between the inner
    faces of the floor, ceiling and the four walls of a ``make_room`` scene."""
    by_name = {o.name: o.mesh.verts64.numpy() for o in scene.objects}
    need = ("floor", "ceiling", "wall_x-", "wall_x+", "wall_y-", "wall_y+")
    missing = [n for n in need if n not in by_name]
    if missing:
        raise ValueError(f"scene: expected a make_room scene, missing objects {missing}")
    low = np.array([by_name["wall_x-"][:, 0].max(), by_name["wall_y-"][:, 1].max(),
                    by_name["floor"][:, 2].max()])
    high = np.array([by_name["wall_x+"][:, 0].min(), by_name["wall_y+"][:, 1].min(),
                     by_name["ceiling"][:, 2].min()])
    return low, high


def clean_mesh(verts: np.ndarray, faces: np.ndarray, min_area: float = 1e-12) -> Mesh:
    """Drop zero-area and repeated-vertex triangles, repeated triangles (the
    same three vertices in any order: keeps the first) and the vertices no
    triangle uses (the cotangent Laplacian is undefined on zero-area faces)."""
    v = np.asarray(verts, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    area = 0.5 * np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)
    ok = (area > min_area) & (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])
    f = f[ok]
    _, first = np.unique(np.sort(f, axis=1), axis=0, return_index=True)
    f = f[np.sort(first)]
    used = np.unique(f)
    remap = np.full(len(v), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return Mesh(torch.from_numpy(v[used]), torch.from_numpy(remap[f]))


def cluster_vertices(mesh: Mesh, cell: float) -> Mesh:
    """A coarser, still roughly uniform mesh: Open3D's vertex clustering
    (vertices averaged per ``cell``-metre grid cell, triangles kept between
    distinct cells), then :func:`clean_mesh`."""
    if not (isinstance(cell, (int, float)) and cell > 0):
        raise ValueError(f"cell: expected a positive number of metres, got {cell!r}")
    o3d = open3d()
    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.verts64.numpy()),
                                  o3d.utility.Vector3iVector(mesh.faces.numpy().astype(np.int32)))
    m = m.simplify_vertex_clustering(voxel_size=float(cell),
                                     contraction=o3d.geometry.SimplificationContraction.Average)
    return clean_mesh(np.asarray(m.vertices), np.asarray(m.triangles))


def standin_room_mesh(seed: int, voxel: float = 0.08, noise: float = 0.005) -> Mesh:
    """The stand-in reconstruction of room ``seed`` (``make_room(seed)``),
    float64 vertices (about 20k at 8 cm), seeded noise."""
    if not (isinstance(voxel, (int, float)) and 0.01 <= voxel <= 0.5):
        raise ValueError(f"voxel: expected metres in [0.01, 0.5], got {voxel!r}")
    if not (isinstance(noise, (int, float)) and 0 <= noise < voxel):
        raise ValueError(f"noise: expected metres in [0, voxel), got {noise!r}")
    from skimage.measure import marching_cubes

    scene = make_room(seed)
    gt = scene.to_mesh()
    low, high = room_interior(scene)
    axes = [np.arange(lo, hi + voxel / 2, voxel) for lo, hi in zip(low, high)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).astype(np.float32)
    o3d = open3d()
    rs = o3d.t.geometry.RaycastingScene()
    rs.add_triangles(o3d.core.Tensor(gt.verts64.numpy().astype(np.float32)),
                     o3d.core.Tensor(gt.faces.numpy().astype(np.uint32)))
    dist = rs.compute_distance(o3d.core.Tensor(grid.reshape(-1, 3))).numpy()
    dist = dist.reshape(grid.shape[:3])
    # "descent" winds the triangles so that their normals point to growing
    # distance, away from the surfaces into the free space, as a TSDF mesh's
    # do (checked by the tests: the floor's normals point up)
    v, f, _, _ = marching_cubes(dist, level=0.6 * voxel, spacing=(voxel,) * 3,
                                gradient_direction="descent")
    v = v + low
    rng = np.random.default_rng([seed, 77])
    v = v + rng.normal(0.0, noise, v.shape)
    return clean_mesh(v, f)
