r"""A piecewise-planar prior for disparity maps: fit the scene's planes, snap to them.

Why it is exact to fit planes *in disparity*: a 3-D plane
:math:`n^\top X = h` (camera frame) seen through a pinhole :math:`K` has
inverse depth :math:`1/Z = n^\top K^{-1} (u, v, 1)^\top / h`, affine in the
pixel :math:`(u, v)`, and the light-field disparity
:math:`d = b f (1/Z - 1/F)` is affine in :math:`1/Z`; so every plane of the
scene is a plane :math:`d = a_0 x + a_1 y + a_2` of the disparity map
(tested against rendered slanted planes).

1. **Fit** (sequential RANSAC, as in piecewise-planar stereo, e.g. Gallup,
   Frahm and Pollefeys, CVPR 2010): among the confident pixels, the affine
   plane with most pixels within ``tol`` px (``hypotheses`` random triples,
   scored on a random subset, refitted by least squares on its inliers) is
   kept if it has at least ``min_fraction`` of the image; its inliers are
   removed and the next plane is searched, up to ``max_planes``.
2. **Snap**: for each plane, the pixels whose estimate lies within
   ``assign`` px of it form connected regions; a region whose pixels are at
   least ``min_support`` (and ``min_region`` in number) confident inliers
   (within ``tol``) takes the plane's disparity. A pixel claimed by several planes takes the nearest.
   Snapped pixels get confidence at least ``snapped_confidence``: the
   plane, fitted to thousands of confident pixels, is a better answer than
   the local match, which is what lets a fusion keep textureless wall
   pixels whose local match was right but unsure.

What it cannot do: surfaces that are not planar stay as estimated; a
region of wrong estimates more than ``assign`` from every plane stays
wrong. The defaults (tol 0.05, assign 0.2) were chosen on training rooms 0,
1 and 3 (4 captures each, the fusion defaults): mean F-score at 5 cm of the
fused rooms 0.826 -> 0.857 with ``cost_volume`` (0.857-0.864 over RANSAC
seeds 0-2) and 0.814 -> 0.862 with ``refine_net``, both reproduced by
``experiments/room_reconstruction.py --seeds 0 1 3 --methods cost_volume
refine_net`` (each method fused with and without the planes). The grid
over the other settings (assign 0.1 / 0.15 / 0.3, tol 0.03 / 0.08,
min_support 0.3 / 0.7: each worse) ran from uncommitted scripts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from geodl.ops.validation import as_tensor


@dataclass
class PlaneSnap:
    """What :func:`snap_to_planes` returns.

    Attributes:
        disparity: (H, W) float64, the planes' disparity where snapped, else the input.
        confidence: (H, W) float64, at least ``snapped_confidence`` where snapped.
        planes: (P, 3) float64 coefficients of :math:`d = a_0 x + a_1 y + a_2`
            in :func:`plane_coordinates`.
        snapped: (H, W) bool.
        plane_index: (H, W) long, the plane each pixel took (-1: none).
    """

    disparity: Tensor
    confidence: Tensor
    planes: Tensor
    snapped: Tensor
    plane_index: Tensor


def plane_coordinates(height: int, width: int, device: torch.device | str | None = None
                      ) -> Tensor:
    """(H, W, 3) float64 rows ``(x, y, 1)`` on ``device`` (None: torch's
    default) with x, y the pixel centre's offset from the image centre divided
    by the width (well conditioned for least squares)."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float64, device=device) + 0.5,
                            torch.arange(width, dtype=torch.float64, device=device) + 0.5,
                            indexing="ij")
    return torch.stack([(xs - width / 2) / width, (ys - height / 2) / width,
                        torch.ones_like(xs)], -1)


def _check_maps(disparity, confidence) -> tuple[Tensor, Tensor]:
    d = as_tensor(disparity, "disparity").double()
    c = as_tensor(confidence, "confidence").double()
    if d.dim() != 2:
        raise ValueError(f"disparity: expected (H, W), got shape {tuple(d.shape)}")
    if c.shape != d.shape:
        raise ValueError(f"confidence: expected shape {tuple(d.shape)} (the disparity's), "
                         f"got {tuple(c.shape)}")
    return d, c


def _check_tolerances(**values: float) -> None:
    for name, v in values.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name}: expected a positive number of pixels, got {v!r}")


def _votes(planes: Tensor, A: Tensor, b: Tensor, tol: float, block: int = 2048) -> Tensor:
    """How many of the points (rows of ``A`` (N, 3), values ``b`` (N,)) lie
    within ``tol`` of each plane (P, 3); in blocks of points, so each
    (P, block) residual stays in cache (12x faster than one (N, P) array)."""
    votes = torch.zeros(len(planes), dtype=torch.long, device=planes.device)
    for i in range(0, len(b), block):
        votes += ((planes @ A[i:i + block].T - b[i:i + block]).abs_() < tol).sum(1)
    return votes


def ransac_plane(A: Tensor, b: Tensor, tol: float, hypotheses: int, score_points: int,
                 generator: torch.Generator) -> tuple[Tensor, Tensor] | None:
    """The plane :math:`b \\approx A a` (``A`` (N, 3) rows of
    :func:`plane_coordinates`, ``b`` (N,) disparities) with most points within
    ``tol``: ``hypotheses`` random triples, scored on ``score_points`` random
    points, the best refitted by least squares on its inliers twice (the
    inlier set moves). Returns the plane (3,) and its inliers (N,) bool, or
    None where every triple is collinear."""
    triples = torch.randint(len(b), (hypotheses, 3), generator=generator, device=generator.device)
    M, rhs = A[triples], b[triples]
    ok = torch.linalg.det(M).abs() > 1e-9  # collinear triples fit no plane
    if not ok.any():
        return None
    candidates = torch.linalg.solve(M[ok], rhs[ok][..., None])[..., 0]  # (h, 3)
    sub = torch.randint(len(b), (min(score_points, len(b)),), generator=generator,
                        device=generator.device)
    plane = candidates[_votes(candidates, A[sub], b[sub], tol).argmax()]
    for _ in range(2):
        inliers = (A @ plane - b).abs() < tol
        if inliers.sum() < 3:
            break
        # normal equations: well conditioned here (x, y in [-0.5, 0.5]), and
        # bitwise repeatable where LAPACK's threaded lstsq is not
        Ai = A[inliers]
        plane = torch.linalg.solve(Ai.T @ Ai, Ai.T @ b[inliers])
    return plane, (A @ plane - b).abs() < tol


def ransac_plane_along(A: Tensor, b: Tensor, direction: Tensor, tol: float, hypotheses: int,
                       generator: torch.Generator) -> tuple[Tensor, Tensor] | None:
    r"""The plane of a one-parameter family, :math:`b \approx s\,A a` with the
    direction ``a`` (3,) fixed and the scale :math:`s` free, with most points
    within ``tol``: each of ``hypotheses`` random points proposes
    :math:`s = b_i / (A a)_i`, the best is refitted by least squares on its
    inliers twice. Where a scene's plane has a known normal (a floor, a
    Manhattan wall), its plane in disparity (or displacement) is such a family
    (:mod:`geodl.mvs.manhattan`): one point fixes it, so points on a line, which
    leave :func:`ransac_plane` free to tilt about that line, still determine it.
    Returns the plane :math:`s a` (3,) and its inliers (N,) bool, or None where
    no point has :math:`(A a)_i \neq 0`."""
    g = A @ direction.to(A)
    usable = g.abs() > 1e-12
    if not usable.any():
        return None
    proposals = (b[usable] / g[usable])
    pick = torch.randint(len(proposals), (min(hypotheses, len(proposals)),), generator=generator,
                         device=generator.device)
    scales = proposals[pick]
    votes = _votes(scales[:, None] * direction.to(A)[None], A, b, tol)
    s = scales[votes.argmax()]
    for _ in range(2):
        inliers = (s * g - b).abs() < tol
        if not inliers.any():
            break
        s = (b[inliers] * g[inliers]).sum() / (g[inliers] ** 2).sum()
    return s * direction.to(A), (s * g - b).abs() < tol


def fit_disparity_planes(disparity: Tensor, confidence: Tensor, min_confidence: float = 0.1,
                         tol: float = 0.05, max_planes: int = 20, min_fraction: float = 0.005,
                         hypotheses: int = 256, score_points: int = 20_000, seed: int = 0
                         ) -> Tensor:
    """The dominant planes of a disparity map (step 1 of the module docstring).

    Args:
        disparity, confidence: (H, W); pixels with ``confidence >=
            min_confidence`` and a finite disparity vote.
        tol: inlier distance in px.
        max_planes, min_fraction: at most this many planes, each with at
            least ``min_fraction`` of the H W pixels as inliers.
        hypotheses, score_points, seed: RANSAC triples per plane, the size of
            the random subset that scores them, and the generator's seed
            (the result is deterministic).

    Returns:
        (P, 3) float64 plane coefficients in :func:`plane_coordinates`, best
        first, on the disparity's device (the seeded RANSAC runs on the CPU).
    """
    d, c = _check_maps(disparity, confidence)
    _check_tolerances(tol=tol)
    if not 0 < min_fraction < 1:
        raise ValueError(f"min_fraction: expected in (0, 1), got {min_fraction!r}")
    device, d, c = d.device, d.cpu(), c.cpu()
    H, W = d.shape
    coords = plane_coordinates(H, W, device="cpu").reshape(-1, 3)
    values = d.reshape(-1)
    remaining = ((c >= min_confidence) & torch.isfinite(d)).reshape(-1)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    min_inliers = max(3, int(min_fraction * H * W))
    planes = []
    for _ in range(max_planes):
        idx = remaining.nonzero()[:, 0]
        if len(idx) < min_inliers:
            break
        A, b = coords[idx], values[idx]
        fit = ransac_plane(A, b, tol, hypotheses, score_points, gen)
        if fit is None or fit[1].sum() < min_inliers:
            break
        planes.append(fit[0])
        remaining[idx[fit[1]]] = False
    found = torch.stack(planes) if planes else torch.zeros(0, 3, dtype=torch.float64, device="cpu")
    return found.to(device)


def snap_to_planes(disparity: Tensor, confidence: Tensor, min_confidence: float = 0.1,
                   tol: float = 0.05, assign: float = 0.2, min_support: float = 0.5,
                   snapped_confidence: float = 0.5, min_region: int = 50, **fit_options
                   ) -> PlaneSnap:
    """Fit the planes (:func:`fit_disparity_planes`) and snap the pixels of
    each plane's supported regions to it (step 2 of the module docstring).

    Args:
        disparity, confidence: (H, W) maps (e.g. ``estimate_disparity``'s).
        min_confidence, tol: which pixels vote, and the inlier distance (px).
        assign: a pixel may snap to a plane within this many px.
        min_support, min_region: a region snaps when at least this fraction
            of its pixels, and this many, are confident inliers (a few
            stray inliers of another plane claim nothing).
        snapped_confidence: the least confidence of a snapped pixel.
        fit_options: passed to :func:`fit_disparity_planes`.

    Returns:
        a :class:`PlaneSnap` on the disparity's device (the RANSAC and scipy's
        region labelling run on the CPU).
    """
    d, c = _check_maps(disparity, confidence)
    _check_tolerances(tol=tol, assign=assign)
    if not 0 <= min_support <= 1:
        raise ValueError(f"min_support: expected in [0, 1], got {min_support!r}")
    from scipy import ndimage  # connected regions: scipy's labelling, not a copy of it

    device, d, c = d.device, d.cpu(), c.cpu()
    planes = fit_disparity_planes(d, c, min_confidence, tol, **fit_options)
    H, W = d.shape
    coords = plane_coordinates(H, W, device="cpu")
    confident = ((c >= min_confidence) & torch.isfinite(d)).numpy()
    nearest = torch.full((H, W), math.inf, dtype=torch.float64, device="cpu")
    out = d.clone()
    index = torch.full((H, W), -1, dtype=torch.long, device="cpu")
    for k, plane in enumerate(planes):
        on_plane = coords @ plane
        residual = torch.nan_to_num((d - on_plane).abs(), nan=math.inf)
        regions, n = ndimage.label((residual < assign).numpy())
        if n == 0:
            continue
        size = np.bincount(regions.ravel(), minlength=n + 1)
        support = np.bincount(regions.ravel(), minlength=n + 1,
                              weights=(confident & (residual < tol).numpy()).ravel())
        keep_region = (support >= min_support * size) & (support >= min_region)
        keep_region[0] = False  # label 0: not within assign
        take = torch.from_numpy(keep_region[regions]) & (residual < nearest)
        out[take], nearest[take], index[take] = on_plane[take], residual[take], k
    snapped = index >= 0
    conf = torch.where(snapped, c.clamp(min=snapped_confidence), c)
    return PlaneSnap(*(t.to(device) for t in (out, conf, planes, snapped, index)))
