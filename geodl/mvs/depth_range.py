r"""Each view's depth range and the scene's scale, in the model's own units.

With 3-D points (a structure-from-motion model), a view's range is the
robust spread of the depths of the points it sees: the ``percentiles``
(1 %, 99 %) widened by ``margin``. A model of cameras only (poses from a
calibration) has no points: the range then comes from where the views'
frusta overlap. Points are sampled along a grid of each view's rays at
depths in a geometric series; each counts the other views that see it
(in front of the camera, inside the image), and the range spans the samples
seen by at least ``overlap`` x the best-seen sample's count (the region most
views look at: the object of an object-centred ring). For a sequence
looking ahead the frusta overlap far beyond the scene;
:mod:`~geodl.mvs.swept_range` then finds the range in the photos.

Scale: the median of the views' median depths; the pixel footprint there,
``scale / f``, sets voxel sizes and truncations that follow the scene's
units (millimetres, metres or arbitrary).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from geodl.structures import PinholeCamera, PosedImages

#: the fewest points a view must see for a range from points
MIN_POINTS = 10


@dataclass
class SceneRange:
    """``ranges`` (N, 2) float64 (near, far) per view; ``median_depth`` (N,);
    ``scale`` the scene's typical depth; ``footprint`` the size of a pixel at
    that depth (scale / median focal length); ``source`` ``"points"``,
    ``"frusta"``, both joined by ``+``, or ``"frusta+swept"``
    (:mod:`~geodl.mvs.swept_range`)."""

    ranges: Tensor
    median_depth: Tensor
    scale: float
    footprint: float
    source: str


def _in_view(cam: PinholeCamera, pts: Tensor) -> Tensor:
    uv, z = cam.project(pts)
    return (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] <= cam.width) & (uv[:, 1] >= 0) \
        & (uv[:, 1] <= cam.height)


def camera_spread(cameras: list[PinholeCamera]) -> float:
    """The median distance of the camera centres from their mean; ``ValueError``
    when it is 0 (no baseline, no depth)."""
    c = torch.stack([cam.center for cam in cameras])
    spread = float((c - c.mean(0)).norm(dim=1).median())
    if not spread > 0:
        raise ValueError("cameras: every camera sits at the same centre; without 3-D points "
                         "the depth range cannot be found (give depth_range)")
    return spread


def frusta_depths(cameras: list[PinholeCamera], k: int, overlap: float = 0.75,
                  grid: tuple[int, int] = (12, 9), samples: int = 96) -> Tensor:
    """Depths along view ``k``'s rays (a ``grid`` of pixels, ``samples``
    depths from 0.01 to 100 x the cameras' spread) of the points seen by at
    least ``overlap`` x the best-seen point's number of other views; empty
    when no point is seen by another view."""
    cam = cameras[k]
    spread = camera_spread(cameras)
    u = (torch.arange(grid[0], dtype=torch.float64) + 0.5) * cam.width / grid[0]
    v = (torch.arange(grid[1], dtype=torch.float64) + 0.5) * cam.height / grid[1]
    uv1 = torch.stack(torch.meshgrid(u, v, indexing="xy"), -1).reshape(-1, 2)
    rays = torch.cat([uv1, torch.ones(len(uv1), 1, dtype=torch.float64)], 1) \
        @ torch.linalg.inv(cam.K).T  # camera frame, z = 1
    z = torch.logspace(math.log10(0.01 * spread), math.log10(100 * spread), samples,
                       dtype=torch.float64)
    pc = (rays[:, None, :] * z[None, :, None]).reshape(-1, 3)
    pw = (pc - cam.t) @ cam.R  # R^T (p - t)
    count = torch.zeros(len(pw), dtype=torch.long)
    for j, other in enumerate(cameras):
        if j != k:
            count += _in_view(other, pw).long()
    if int(count.max()) == 0:
        return torch.zeros(0, dtype=torch.float64)
    keep = count >= max(1, math.ceil(overlap * int(count.max())))
    return z.repeat(len(rays))[keep]


def scene_range(frames: PosedImages, percentiles: tuple[float, float] = (0.01, 0.99),
                margin: float = 0.1, overlap: float = 0.75) -> SceneRange:
    """Depth range per view and the scene's scale (module docstring).

    Uses ``frames.meta["points3D"]`` ((P, 3)) and ``meta["visible"]`` (per
    view the indices of the points it observes) where a reader gave them;
    a view that observes fewer than :data:`MIN_POINTS` takes the points
    that project into it, and with none of those either, the frusta.
    """
    lo_q, hi_q = percentiles
    if not 0 <= lo_q < hi_q <= 1:
        raise ValueError(f"percentiles: expected 0 <= low < high <= 1, got {percentiles}")
    if not margin >= 0:
        raise ValueError(f"margin: expected >= 0, got {margin}")
    points = frames.meta.get("points3D")
    visible = frames.meta.get("visible")
    ranges, medians, sources = [], [], set()
    for k, cam in enumerate(frames.cameras):
        z = torch.zeros(0, dtype=torch.float64)
        if points is not None and len(points):
            pts = points.double()
            if visible is not None and len(visible[k]) >= MIN_POINTS:
                pts = pts[visible[k]]
            else:
                pts = pts[_in_view(cam, pts)]
            z = cam.world_to_camera(pts)[:, 2]
            z = z[z > 0]
        if len(z) >= MIN_POINTS:
            sources.add("points")
            near, far = torch.quantile(z, lo_q), torch.quantile(z, hi_q)
        else:
            z = frusta_depths(frames.cameras, k, overlap)
            if len(z) == 0:
                raise ValueError(f"frames[{k}] ({frames.names[k]}): no other view sees what it "
                                 "sees and the model has no 3-D points: no depth range (give "
                                 "depth_range)")
            sources.add("frusta")
            near, far = z.min(), z.max()
        ranges.append(torch.stack([near / (1 + margin), far * (1 + margin)]))
        medians.append(z.median())
    return scene_of(torch.stack(ranges), torch.stack(medians), frames.cameras,
                    "+".join(sorted(sources)))


def scene_of(ranges: Tensor, median_depth: Tensor, cameras: list[PinholeCamera], source: str
             ) -> SceneRange:
    """The :class:`SceneRange` of per-view ``ranges`` (N, 2) and median depths
    (N,): the scale is the median of the medians, the footprint the scale over
    the cameras' median focal length."""
    scale = float(median_depth.median())
    f = float(torch.tensor([float(c.K[0, 0] + c.K[1, 1]) / 2 for c in cameras]).median())
    return SceneRange(ranges, median_depth, scale, scale / f, source)
