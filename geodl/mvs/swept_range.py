r"""Depth ranges from the photos themselves, for a model of cameras only.

Without 3-D points, :func:`~geodl.mvs.depth_range.scene_range` takes each
view's range from where the frusta overlap. That suits cameras around an
object (the Middlebury temple), not a sequence looking ahead (a tracked
hand-held camera walking through a room): far points lie in every frustum,
so the overlap sits beyond the scene (Microsoft 7-Scenes colour frames:
2.7-66 m from the frusta, 0.8-3.0 m in the sensor's depth), and a sweep over
that range finds nothing. As for a light field without parameters
(:mod:`geodl.lightfield.depth.disparity_range`), this module sweeps wide at
a low resolution and keeps the distinct matches, for the views whose
frusta's range spans more than ``wide`` x its near end (converging cameras
bound the depth well: the temple's views span 1.6x, and a few distinct
matches on its black backdrop would only mislead):

1. per view, its image and those of the ``views`` nearest cameras that look
   within ``max_angle`` of its direction (not the stereo neighbours: their
   score needs the very depth sought, and from the frusta's range it favours
   baselines too wide to match) shrunk so the longer side is ``size`` px;
   :math:`L` hypotheses evenly spaced in inverse depth :math:`\rho` from
   :math:`\rho_{max} / L` to :math:`\rho_{max}`, where :math:`\rho_{max}`
   moves some pixel of a 3 x 3 grid by half the image width even in the
   view where the grid moves least (nothing nearer can match in any view),
   and :math:`L` gives about one coarse pixel of motion per label in the
   view where it moves most (8 to ``MAX_LABELS``);
2. the best-k ZNCC cost of every hypothesis
   (:func:`~geodl.mvs.plane_sweep.sweep_cost`); a pixel counts where its
   least cost is below ``max_cost``, distinct (below ``peak_ratio`` x the
   least cost more than two labels away: the peak ratio of stereo confidence
   measures) and not on the sweep's first or last label;
3. the view's range is the ``percentiles`` of those pixels' depths widened
   by ``margin`` (as the range from points), its median depth theirs; a view
   with fewer than ``min_pixels`` keeps the frusta's range;
4. each view's range then spans its own and those of the views it was swept
   against, as one view's distinct matches may miss the near chair or the far
   wall that its next frames see; a swept-worthy view with too few matches
   of its own takes its nearest views' span and median, or, with none of
   them swept either, the span and median of all swept views.
   ``source`` becomes ``"frusta+swept"`` once any view was swept.

The scene's scale and pixel footprint follow the new median depths, so the
voxel sizes that derive from them do too.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from geodl.lightfield.depth.filters import to_grey
from geodl.mvs.depth_range import SceneRange, camera_spread, scene_of
from geodl.mvs.plane_sweep import source_homography, sweep_cost
from geodl.structures import PinholeCamera, PosedImages

#: the longest side of the shrunk images, since a room's depth range needs no
#: finer matches and 50 views then sweep in about 8 s on 2 cores
SIZE = 96
#: least cost (1 - ZNCC) of a counted match, and the peak ratio a counted
#: minimum must beat (the light field's range estimate uses 0.5 likewise)
MAX_COST, PEAK_RATIO = 0.3, 0.5
#: the most hypotheses per view (one per coarse pixel of motion below it)
MAX_LABELS = 128
#: the fewest counted pixels for a view's own range
MIN_PIXELS = 50
#: the frusta's far / near ratio above which a view's range is swept (the
#: temple's is 1.6, a hand-held sequence's 20-50)
WIDE = 10.0
#: the nearest cameras swept against, and the most their viewing directions may
#: differ in degrees (a sequence's next frames, a ring's next views)
VIEWS, MAX_ANGLE = 4, 30.0


def nearest_views(cameras: list[PinholeCamera], k: int, views: int = VIEWS,
                  max_angle: float = MAX_ANGLE) -> list[int]:
    """The up to ``views`` cameras nearest to camera ``k`` whose optical axes
    are within ``max_angle`` degrees of its own, nearest first."""
    centres = torch.stack([c.center for c in cameras]).double()
    axes = torch.stack([c.R[2] for c in cameras]).double()  # the optical axes in world
    distance = (centres - centres[k]).norm(dim=1)
    distance[k] = math.inf
    distance[axes @ axes[k] < math.cos(math.radians(max_angle))] = math.inf
    order = distance.argsort()[:views]
    return [int(j) for j in order if math.isfinite(float(distance[j])) and distance[j] > 0]


def _image_motion(ref: PinholeCamera, src: PinholeCamera, rho: Tensor) -> Tensor:
    """The most pixels any of a 3 x 3 grid of the reference's pixels moves in
    ``src`` between inverse depth 0 and each ``rho`` (R,) (inf where a point
    is behind ``src``). A grid, not the centre alone: a camera moving ahead
    barely moves its image centre (the focus of expansion)."""
    A, b = source_homography(ref, src)
    u = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(u * ref.width, u * ref.height, indexing="xy"), -1).reshape(-1, 2)
    pixels = torch.cat([grid, torch.ones(len(grid), 1, dtype=torch.float64)], 1)  # (9, 3)
    h0 = pixels @ A.T  # (9, 3)
    h = h0[None] + rho[:, None, None] * b  # (R, 9, 3)
    moved = (h[..., :2] / h[..., 2:] - h0[:, :2] / h0[:, 2:]).norm(dim=-1)
    moved = torch.where((h[..., 2] > 0) & (h0[:, 2] > 0), moved, torch.full_like(moved, math.inf))
    return moved.max(1).values


def _largest_inverse_depth(ref: PinholeCamera, sources: list[PinholeCamera], spread: float
                           ) -> tuple[float, int] | None:
    """:math:`\\rho_{max}` of step 1 and the labels :math:`L`: on a log grid
    from 1 / (1000 spread) to 1000 / spread, the largest inverse depth that
    moves the 3 x 3 grid at most half the image width in the source where it
    moves least (None: even the farthest moves more)."""
    rho = torch.logspace(math.log10(1e-3 / spread), math.log10(1e3 / spread), 400,
                         dtype=torch.float64)
    motion = torch.stack([_image_motion(ref, s, rho) for s in sources])  # (S, R)
    within = motion.min(0).values <= ref.width / 2
    if not bool(within.any()):
        return None
    last = int(within.nonzero().max())
    widest = float(motion[:, last][torch.isfinite(motion[:, last])].max())
    return float(rho[last]), int(min(MAX_LABELS, max(8, math.ceil(widest))))


def _distinct_depths(cost: Tensor, rho: Tensor, max_cost: float, peak_ratio: float) -> Tensor:
    """Depths (M,) of the pixels of a cost volume (D, h, w) that step 2 counts."""
    best, idx = cost.min(0)
    labels = torch.arange(len(rho), device=cost.device)[:, None, None]
    far_from_best = (labels - idx[None]).abs() > 2
    rival = torch.where(far_from_best, cost, torch.full_like(cost, math.inf)).min(0).values
    keep = (best < max_cost) & (best < peak_ratio * rival) & (idx > 0) & (idx < len(rho) - 1)
    return 1.0 / rho.to(cost.device)[idx[keep]].double()


def swept_range(frames: PosedImages, scene: SceneRange, size: int = SIZE,
                percentiles: tuple[float, float] = (0.01, 0.99),
                margin: float = 0.1, max_cost: float = MAX_COST, peak_ratio: float = PEAK_RATIO,
                min_pixels: int = MIN_PIXELS, views: int = VIEWS, max_angle: float = MAX_ANGLE,
                wide: float = WIDE, radius: int = 2, best_k: int = 2) -> SceneRange:
    """Each view's depth range from a wide low-resolution sweep (module docstring).

    Args:
        frames: the photos and their cameras.
        scene: the range from the frusta (kept for views without enough matches).
        size: :data:`SIZE`; percentiles, margin: as
            :func:`~geodl.mvs.depth_range.scene_range`'s; max_cost,
            peak_ratio, min_pixels: :data:`MAX_COST`, :data:`PEAK_RATIO`,
            :data:`MIN_PIXELS`; views, max_angle: :data:`VIEWS`, :data:`MAX_ANGLE`;
            wide: :data:`WIDE`;
            radius, best_k: the sweep's window and sources.

    Returns:
        a new :class:`~geodl.mvs.depth_range.SceneRange` (``source`` gains
        ``"swept"`` where a view's range came from here).
    """
    lo_q, hi_q = percentiles
    if not 0 <= lo_q < hi_q <= 1:
        raise ValueError(f"percentiles: expected 0 <= low < high <= 1, got {percentiles}")
    if not (isinstance(size, int) and size >= 16):
        raise ValueError(f"size: expected at least 16 px, got {size!r}")
    for name, value, least in (("min_pixels", min_pixels, 1), ("views", views, 1)):
        if not (isinstance(value, int) and value >= least):
            raise ValueError(f"{name}: expected an int >= {least}, got {value!r}")
    if not margin >= 0:
        raise ValueError(f"margin: expected >= 0, got {margin!r}")
    if not wide >= 1:
        raise ValueError(f"wide: expected a far / near ratio >= 1, got {wide!r}")
    if not 0 < peak_ratio <= 1:
        raise ValueError(f"peak_ratio: expected a ratio in (0, 1], got {peak_ratio!r}")
    H, W = frames.image_size
    factor = min(1.0, size / max(H, W))
    cams = [c.scaled(factor) for c in frames.cameras] if factor < 1 else list(frames.cameras)
    h, w = cams[0].height, cams[0].width
    grey = to_grey(F.interpolate(frames.images.float(), size=(h, w), mode="area"))
    spread = camera_spread(cams)
    ranges, medians = scene.ranges.clone(), scene.median_depth.clone()
    swept = torch.zeros(len(cams), dtype=torch.bool)
    worthy = scene.ranges[:, 1] > wide * scene.ranges[:, 0]  # the frusta bound nothing
    nearest = [nearest_views(cams, k, views, max_angle) for k in range(len(cams))]
    for k, nbrs in enumerate(nearest):
        if not nbrs or not bool(worthy[k]):
            continue
        src = [cams[j] for j in nbrs]
        found = _largest_inverse_depth(cams[k], src, spread)
        if found is None:
            continue
        rho_max, count = found
        rho = torch.linspace(rho_max / count, rho_max, count, dtype=torch.float64)
        cost = sweep_cost(grey[k], cams[k], [grey[j] for j in nbrs], src, rho, radius, best_k)
        z = _distinct_depths(cost, rho, max_cost, peak_ratio)
        if len(z) < min_pixels:
            continue
        near, far = torch.quantile(z, lo_q).cpu(), torch.quantile(z, hi_q).cpu()
        ranges[k] = torch.stack([near / (1 + margin), far * (1 + margin)])
        medians[k] = z.median().cpu()
        swept[k] = True
    if not bool(swept.any()):
        return scene
    everyone = swept.nonzero()[:, 0].tolist()
    pooled, pooled_medians = ranges.clone(), medians.clone()
    for k, nbrs in enumerate(nearest):
        if not bool(worthy[k]):
            continue
        group = [j for j in [k, *nbrs] if swept[j]] or everyone
        pooled[k, 0], pooled[k, 1] = ranges[group, 0].min(), ranges[group, 1].max()
        if not bool(swept[k]):
            pooled_medians[k] = medians[group].median()
    return scene_of(pooled, pooled_medians, frames.cameras, scene.source + "+swept")
