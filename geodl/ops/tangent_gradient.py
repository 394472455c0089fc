r"""Per-vertex tangent frames and least-squares tangent gradient operators.

For vertex :math:`i` with unit normal :math:`n_i`, the frame is
:math:`(e_1, e_2, n_i)`. The gradient of a function :math:`f` at :math:`i`
is the 2-vector :math:`g` (in frame coordinates) minimising
:math:`\sum_j (\langle \bar e_{ij}, g\rangle - (f_j - f_i))^2` over the
neighbours :math:`j`, where :math:`\bar e_{ij}` is the edge
:math:`x_j - x_i` projected to the tangent plane: :math:`g = A_i^{-1}
\sum_j \bar e_{ij}(f_j - f_i)` with :math:`A_i = \sum_j \bar e_{ij}\bar e_{ij}^\top`.
This is exact for linear functions and works identically on meshes (one-ring
neighbours) and point clouds (k nearest), as in DiffusionNet (Sharp et al. 2022).
The operators are returned as sparse entries ``(row, col, gx, gy)``.
"""
from __future__ import annotations

import torch
from torch import Tensor

from geodl.ops.validation import check_edge_index, check_points


def tangent_frames(normals: Tensor) -> Tensor:
    """(V, 3, 3) orthonormal frames with rows ``(e1, e2, n)``."""
    n = check_points(normals, "normals", 3, dtype=torch.float64)
    n = n / n.norm(dim=1, keepdim=True).clamp_min(1e-300)
    # the coordinate axis least aligned with n gives a well-conditioned e1
    axis = torch.zeros_like(n)
    axis[torch.arange(n.shape[0], device=n.device), n.abs().argmin(dim=1)] = 1.0
    e1 = torch.linalg.cross(axis, n, dim=1)
    e1 = e1 / e1.norm(dim=1, keepdim=True)
    e2 = torch.linalg.cross(n, e1, dim=1)
    return torch.stack([e1, e2, n], dim=1)


def gradient_operator_entries(points: Tensor, frames: Tensor, edge_index: Tensor,
                              eps: float = 1e-8) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Sparse entries of the (V, V) tangent gradient operators.

    Args:
        points: (V, 3). frames: (V, 3, 3) from :func:`tangent_frames`.
        edge_index: (2, E) neighbour ``j = edge_index[0]`` of centre ``i = edge_index[1]``.
        eps: Tikhonov term relative to trace(A_i) for vertices with collinear neighbours.

    Returns:
        row, col: (E + V,) entry coordinates; gx, gy: (E + V,) values such that
        ``(Gx f)[i] = sum gx f[col]`` is the e1 component of the gradient at i.
    """
    p = check_points(points, "points", 3, dtype=torch.float64)
    ei = check_edge_index(edge_index, p.shape[0])
    j, i = ei[0], ei[1]
    d = p[j] - p[i]
    u = (d * frames[i, 0]).sum(1)
    v = (d * frames[i, 1]).sum(1)
    n = p.shape[0]
    a = torch.zeros(n, 3, dtype=torch.float64, device=p.device)  # (uu, uv, vv) per centre
    a.index_add_(0, i, torch.stack([u * u, u * v, v * v], 1))
    reg = eps * (a[:, 0] + a[:, 2]).clamp_min(1e-300)
    a00, a01, a11 = a[:, 0] + reg, a[:, 1], a[:, 2] + reg
    det = a00 * a11 - a01 * a01
    if (det <= 0).any():
        bad = torch.nonzero(det <= 0).flatten()[:5].tolist()
        raise ValueError(f"edge_index: vertices {bad} have no neighbours spanning the tangent plane")
    # A^-1 = [[a11, -a01], [-a01, a00]] / det
    cx = (a11[i] * u - a01[i] * v) / det[i]
    cy = (-a01[i] * u + a00[i] * v) / det[i]
    sx = torch.zeros(n, dtype=torch.float64, device=i.device).index_add_(0, i, cx)
    sy = torch.zeros(n, dtype=torch.float64, device=i.device).index_add_(0, i, cy)
    ar = torch.arange(n, device=i.device)
    return torch.cat([i, ar]), torch.cat([j, ar]), torch.cat([cx, -sx]), torch.cat([cy, -sy])
