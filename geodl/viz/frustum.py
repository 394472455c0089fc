"""Camera frustums as line segments: a pinhole camera and a light-field rig."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from geodl.structures import LightField, PinholeCamera


def frustum_lines(camera: PinholeCamera, depth: float) -> tuple[np.ndarray, np.ndarray]:
    """The pyramid a camera sees up to z-depth ``depth``, and a small triangle
    on its top edge (image row 0) that shows which way is up.

    The image corners ``(u, v)`` in ``{0, W} x {0, H}`` back-project to
    ``X = C + depth * R^T K^{-1} (u, v, 1)`` (z-depth ``depth`` in the camera
    frame), joined to the centre ``C`` and to each other.

    Returns:
        points: (8, 3) centre, 4 corners (top-left, top-right, bottom-right,
        bottom-left), and the up-marker's 3 corners;
        segments: (11, 2) indices into ``points``.
    """
    if not depth > 0:
        raise ValueError(f"depth: expected > 0, got {depth}")
    W, H = camera.width, camera.height
    uv = torch.tensor([[0, 0, 1], [W, 0, 1], [W, H, 1], [0, H, 1],
                       [0.3 * W, 0, 1], [0.7 * W, 0, 1], [0.5 * W, -0.25 * H, 1]],
                      dtype=torch.float64)
    rays = uv @ torch.linalg.inv(camera.K).T @ camera.R  # rows: R^T K^-1 (u, v, 1)
    pts = torch.cat([camera.center[None], camera.center + depth * rays]).numpy()
    seg = np.array([[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [2, 3], [3, 4], [4, 1],
                    [5, 7], [7, 6], [6, 5]], dtype=np.int64)
    return pts, seg


def cameras_lines(cameras: Sequence[PinholeCamera], depth: float,
                  colors: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All frustums of ``cameras`` in one set of segments, camera ``i`` in
    ``colors[i]``: (points, segments, per-point colours)."""
    pts, segs, cols = [], [], []
    for i, (cam, col) in enumerate(zip(cameras, colors, strict=True)):
        p, s = frustum_lines(cam, depth)
        segs.append(s + 8 * i)
        pts.append(p)
        cols.append(np.tile(np.asarray(col, np.float64), (len(p), 1)))
    return np.concatenate(pts), np.concatenate(segs), np.concatenate(cols)


def rig_cameras(lf: LightField) -> list[PinholeCamera]:
    """Every view's camera of ``lf``, row by row (``LightField.camera_at``)."""
    U, V = lf.grid_shape
    return [lf.camera_at(r, c) for r in range(U) for c in range(V)]
