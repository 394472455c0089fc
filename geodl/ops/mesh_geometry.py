"""Per-face and per-vertex geometry of triangle meshes (float64 in, same out).

Shapes: ``verts`` (V, 3) float, ``faces`` (F, 3) long.
"""
from __future__ import annotations

import torch
from torch import Tensor


def face_corners(verts: Tensor, faces: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Positions of the three corners of every face, each (F, 3)."""
    return verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]


def face_cross(verts: Tensor, faces: Tensor) -> Tensor:
    """(F, 3) cross product (v1 - v0) x (v2 - v0): twice the area along the normal."""
    a, b, c = face_corners(verts, faces)
    return torch.linalg.cross(b - a, c - a, dim=1)


def face_areas(verts: Tensor, faces: Tensor) -> Tensor:
    """(F,) triangle areas."""
    return 0.5 * face_cross(verts, faces).norm(dim=1)


def face_normals(verts: Tensor, faces: Tensor) -> Tensor:
    """(F, 3) unit normals, right-handed in the face's vertex order (zero for degenerate faces)."""
    n = face_cross(verts, faces)
    return n / n.norm(dim=1, keepdim=True).clamp_min(torch.finfo(n.dtype).tiny)


def vertex_normals(verts: Tensor, faces: Tensor) -> Tensor:
    """(V, 3) unit normals: area-weighted mean of the incident face normals."""
    n = face_cross(verts, faces)
    acc = torch.zeros_like(verts)
    for k in range(3):
        acc.index_add_(0, faces[:, k], n)
    return acc / acc.norm(dim=1, keepdim=True).clamp_min(torch.finfo(acc.dtype).tiny)


def corner_cotangents(verts: Tensor, faces: Tensor) -> Tensor:
    r"""(F, 3) cotangent of the angle at each corner.

    Column ``k`` is the angle at ``faces[:, k]``, opposite the edge
    ``(faces[:, k+1], faces[:, k+2])``: :math:`\cot\theta = a\cdot b / |a\times b|`.
    Each face is first scaled by a power of two that brings its largest
    coordinate near 1 (exact, and the angles do not change), so faces at
    :math:`10^{300}` or :math:`10^{-300}` do not overflow or underflow the
    products; a face with no area gives inf or NaN.
    """
    corners = verts[faces]  # (F, 3, 3)
    _, exponent = torch.frexp(corners.abs().amax(dim=(1, 2)))
    corners = torch.ldexp(corners, -exponent.to(corners.dtype)[:, None, None])
    out = []
    for k in range(3):
        p = corners[:, k]
        a = corners[:, (k + 1) % 3] - p
        b = corners[:, (k + 2) % 3] - p
        out.append((a * b).sum(1) / torch.linalg.cross(a, b, dim=1).norm(dim=1))
    return torch.stack(out, dim=1)


def edge_lengths(verts: Tensor, faces: Tensor) -> Tensor:
    """(F, 3) length of the edge opposite each corner."""
    return torch.stack([(verts[faces[:, (k + 1) % 3]] - verts[faces[:, (k + 2) % 3]]).norm(dim=1)
                        for k in range(3)], dim=1)


def mesh_edges(faces: Tensor) -> Tensor:
    """(E, 2) unique undirected edges, ``i < j``, sorted."""
    e = torch.cat([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    e = torch.sort(e, dim=1).values
    return torch.unique(e, dim=0)


def mesh_edge_index(faces: Tensor) -> Tensor:
    """(2, 2E) directed edge index of the mesh's edge graph (both directions)."""
    e = mesh_edges(faces)
    return torch.cat([e.T, e.T.flip(0)], dim=1)
