r"""Semantic labels of a room mesh from its ground-truth surfaces.

Four classes, :data:`CLASSES` = floor (0), wall (1), ceiling (2), furniture (3),
from the object names of :func:`geodl.render.make_room`: ``floor`` and
``ceiling`` are themselves, the four ``wall_*`` boxes **and the framed
``picture``\ s hung on them** are wall (a picture is a 2 cm panel on the wall,
part of the wall surface at the resolution of a reconstruction), every other
object (tables, cabinets, pillars, balls, chairs, shelves) is furniture.

A reconstructed mesh has no object ids; each of its vertices takes the id of
the **nearest ground-truth triangle** (Euclidean point-to-triangle distance,
exact, from Open3D's ``RaycastingScene.compute_closest_points``), and vertices
farther than ``tolerance`` from every ground-truth surface (floaters, noise)
get :data:`IGNORE_INDEX` (-1, which ``F.cross_entropy(..., ignore_index=-1)``
and the IoU skip).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
from torch import Tensor

from geodl._optional import open3d
from geodl.datasets.rooms.scene import scene_ground_truth  # noqa: F401 (also importable from here)
from geodl.ops.validation import check_faces, check_points
from geodl.structures import Mesh

#: the class names, indexed by label
CLASSES: tuple[str, ...] = ("floor", "wall", "ceiling", "furniture")
#: the label of a vertex too far from every ground-truth triangle
IGNORE_INDEX = -1
#: default distance (metres) beyond which a vertex is labelled IGNORE_INDEX
DEFAULT_TOLERANCE = 0.10


def class_of_object(name: str) -> int:
    """The class index of a :func:`~geodl.render.make_room` object name
    (pictures are wall; anything unknown is furniture)."""
    if name == "floor":
        return 0
    if name == "ceiling":
        return 2
    if name.startswith("wall") or name == "picture":
        return 1
    return 3


def nearest_object_ids(points: Tensor, gt_mesh: Mesh, gt_vertex_ids: Tensor,
                       tolerance: float = DEFAULT_TOLERANCE) -> tuple[Tensor, Tensor]:
    """Object id of the ground-truth triangle nearest to each point.

    Args:
        points: (N, 3) query points (a reconstruction's vertices), metres.
        gt_mesh: the ground-truth mesh, (V, 3) / (F, 3).
        gt_vertex_ids: (V,) object id of each ground-truth vertex; the three
            vertices of a triangle must share it.
        tolerance: points farther than this from every triangle get -1.

    Returns:
        ``(ids (N,) long, distance (N,) float64)``: the id (or -1) and the
        point-to-triangle distance.
    """
    p = check_points(points, "points", 3, dtype=torch.float64)
    if not (isinstance(tolerance, (int, float)) and np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance: expected a positive finite number, got {tolerance!r}")
    faces = check_faces(gt_mesh.faces, gt_mesh.num_verts)
    ids = torch.as_tensor(gt_vertex_ids)
    if ids.shape != (gt_mesh.num_verts,) or ids.is_floating_point():
        raise ValueError(f"gt_vertex_ids: expected ({gt_mesh.num_verts},) integers, got "
                         f"{tuple(ids.shape)} {ids.dtype}")
    face_ids = ids[faces]
    if not bool((face_ids == face_ids[:, :1]).all()):
        raise ValueError("gt_vertex_ids: the vertices of a triangle carry different object ids")
    face_ids = face_ids[:, 0].long()
    if len(p) == 0:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.float64)
    o3d = open3d()
    rs = o3d.t.geometry.RaycastingScene()
    rs.add_triangles(o3d.core.Tensor(gt_mesh.verts64.numpy().astype(np.float32)),
                     o3d.core.Tensor(faces.numpy().astype(np.uint32)))
    q = p.numpy().astype(np.float32)
    ans = rs.compute_closest_points(o3d.core.Tensor(q))
    prim = torch.from_numpy(ans["primitive_ids"].numpy().astype(np.int64))
    closest = torch.from_numpy(ans["points"].numpy().astype(np.float64))
    dist = (closest - p).norm(dim=1)
    out = face_ids[prim]
    out[dist > tolerance] = IGNORE_INDEX
    return out, dist


def room_labels(points: Tensor, gt_mesh: Mesh, gt_vertex_ids: Tensor,
                names: Mapping[int, str], tolerance: float = DEFAULT_TOLERANCE) -> Tensor:
    """(N,) long class of each point (index into :data:`CLASSES`), or
    :data:`IGNORE_INDEX` farther than ``tolerance`` from the ground truth;
    ``names`` maps object ids to :func:`~geodl.render.make_room` names."""
    ids, _ = nearest_object_ids(points, gt_mesh, gt_vertex_ids, tolerance)
    lut = {int(i): class_of_object(str(n)) for i, n in names.items()}
    missing = set(torch.unique(ids[ids >= 0]).tolist()) - set(lut)
    if missing:
        raise ValueError(f"names: no name for object ids {sorted(missing)}")
    out = torch.full_like(ids, IGNORE_INDEX)
    for i, c in lut.items():
        out[ids == i] = c
    return out
