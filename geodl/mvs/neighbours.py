r"""Neighbour views for multi-view stereo, chosen by baseline and angle.

The score of a source view :math:`j` for a reference :math:`r` is MVSNet's
(Yao et al., ECCV 2018) sum over scene points :math:`p` that both see,

.. math::

    s(r, j) = \sum_p \mathcal G(\theta_p), \qquad
    \mathcal G(\theta) = \begin{cases}
        \exp\!\big(-(\theta - \theta_0)^2 / 2\sigma_1^2\big) & \theta \le \theta_0\\
        \exp\!\big(-(\theta - \theta_0)^2 / 2\sigma_2^2\big) & \theta > \theta_0
    \end{cases}

with :math:`\theta_p` the triangulation angle at :math:`p` between the two
camera centres: near-zero baselines (no depth resolution) score nothing,
angles past a few tens of degrees (different appearance, occlusions) little.
Scene points are the reference's observed 3-D points where the model has
them, else a grid of its pixels at the geometric mean of its depth range.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from geodl.structures import PinholeCamera, PosedImages


def _anchor_points(frames: PosedImages, k: int, ranges: Tensor, grid: tuple[int, int] = (8, 6),
                   max_points: int = 2000) -> Tensor:
    points, visible = frames.meta.get("points3D"), frames.meta.get("visible")
    if points is not None and visible is not None and len(visible[k]) >= 10:
        idx = visible[k]
        if len(idx) > max_points:  # an even subset, deterministic
            idx = idx[torch.linspace(0, len(idx) - 1, max_points).long()]
        return points[idx].double()
    cam = frames.cameras[k]
    z = math.sqrt(float(ranges[k, 0]) * float(ranges[k, 1]))
    u = (torch.arange(grid[0], dtype=torch.float64) + 0.5) * cam.width / grid[0]
    v = (torch.arange(grid[1], dtype=torch.float64) + 0.5) * cam.height / grid[1]
    uv = torch.stack(torch.meshgrid(u, v, indexing="xy"), -1).reshape(-1, 2)
    pc = torch.cat([uv, torch.ones(len(uv), 1, dtype=torch.float64)], 1) @ torch.linalg.inv(cam.K).T
    return (pc * z - cam.t) @ cam.R


def view_score(ref: PinholeCamera, src: PinholeCamera, points: Tensor, theta0: float = 5.0,
               sigma1: float = 1.0, sigma2: float = 10.0) -> float:
    """:math:`s(r, j)` over ``points`` (P, 3) (module docstring; angles in degrees)."""
    uv, z = src.project(points)
    seen = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] <= src.width) & (uv[:, 1] >= 0) \
        & (uv[:, 1] <= src.height)
    if not bool(seen.any()):
        return 0.0
    a = ref.center - points[seen]
    b = src.center - points[seen]
    cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-300)
    theta = torch.rad2deg(torch.arccos(cos.clamp(-1, 1)))
    sigma = torch.where(theta <= theta0, sigma1, sigma2)
    return float(torch.exp(-(theta - theta0) ** 2 / (2 * sigma ** 2)).sum())


def select_neighbors(frames: PosedImages, ranges: Tensor, num: int = 4, theta0: float = 5.0,
                     sigma1: float = 1.0, sigma2: float = 10.0, min_score: float = 1e-3
                     ) -> list[list[int]]:
    """Per view, up to ``num`` source views, best first (score above
    ``min_score`` x the number of anchor points; see the module docstring).

    Args:
        ranges: (N, 2) each view's (near, far) depth (``scene_range``).
    """
    if num < 1:
        raise ValueError(f"num: expected >= 1 neighbour, got {num}")
    out = []
    for k, ref in enumerate(frames.cameras):
        pts = _anchor_points(frames, k, ranges)
        scores = [(view_score(ref, src, pts, theta0, sigma1, sigma2), j)
                  for j, src in enumerate(frames.cameras) if j != k]
        scores.sort(key=lambda s: -s[0])
        out.append([j for s, j in scores[:num] if s > min_score * len(pts)])
    return out


def select_neighbours(frames: PosedImages, ranges: Tensor, num: int = 4, theta0: float = 5.0,
                      sigma1: float = 1.0, sigma2: float = 10.0, min_score: float = 1e-3
                      ) -> list[list[int]]:
    """Deprecated alias of :func:`select_neighbors`."""
    warnings.warn("select_neighbours is deprecated; use select_neighbors", DeprecationWarning,
                  stacklevel=2)
    return select_neighbors(frames, ranges, num, theta0, sigma1, sigma2, min_score)
