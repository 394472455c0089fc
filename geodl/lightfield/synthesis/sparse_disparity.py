r"""Disparity at any (continuous) grid position from any subset of views: a
plane sweep without a reference image.

The target view is not captured, so there is no image to compare the
sources against; instead the sources are compared with one another. For
each disparity hypothesis :math:`d_k` every source :math:`i` at grid
position :math:`(u_i, v_i)` is translated into the target's frame (the
target pixel :math:`(x, y)` samples it at :math:`(x - d_k (v_i - v_t),
y - d_k (u_i - u_t))`, :class:`~geodl.lightfield.depth.shifts.ShiftedViews`),
and the cost is their disagreement, the standard deviation over the
sources of the grey intensity plus ``alpha`` times those of its x and y
gradients (each truncated; the gradient term is robust to shading
differences between views):

.. math:: C(p, d) = \min\big(\sigma_i(I_i), \tau\big)
          + \alpha \min\big(\sigma_i(\partial_x I_i) + \sigma_i(\partial_y I_i), \tau_g\big).

(The standard deviation, not the mean absolute deviation: it is computed
for every subset from two sums, which makes the sweep several times faster.)

Occlusions: an occluder hides a point from the sources on one side only,
so the cost is the minimum over the whole set and the four half-sets (the
sources left of, right of, above and below the target, each with at least
two views inside the image), as
:mod:`geodl.lightfield.depth.cost_volume` does with half-grids.

Aggregation is edge-aware in two passes: a box mean gives a first
winner-take-all disparity, the sources warped with it and averaged give a
guide image of the target, and the raw costs are then aggregated by the
guided filter with that guide (:mod:`geodl.lightfield.depth.filters`);
winner-take-all with a parabola through the neighbouring costs gives
sub-pixel disparity, and an optional confidence-weighted joint median
removes outliers.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.lightfield.depth.cost_volume import matching_features, subpixel_argmin
from geodl.lightfield.depth.estimate import check_disp_range
from geodl.lightfield.depth.filters import box_mean, guided_filter, to_grey, weighted_median
from geodl.lightfield.depth.shifts import ShiftedViews
from geodl.lightfield.synthesis.warp import backward_warp


def _check_sources(images: Tensor, positions) -> tuple[Tensor, Tensor]:
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise ValueError(f"images: expected (N, C, H, W) source views, got "
                         f"{tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__}")
    pos = torch.as_tensor(positions, dtype=torch.float64)
    if pos.shape != (images.shape[0], 2):
        raise ValueError(f"positions: expected ({images.shape[0]}, 2) grid positions (u, v), "
                         f"one per image, got {tuple(pos.shape)}")
    if not torch.isfinite(pos).all():
        raise ValueError("positions: contains NaN or inf")
    return images, pos


def _subsets(offsets: Tensor) -> list[Tensor]:
    """Index sets: all sources, then each half (left, right, above, below the
    target, the dividing line included) with at least two members and
    fewer than all (each distinct set once)."""
    du, dv = offsets[:, 0], offsets[:, 1]
    eps = 1e-9
    sets, seen = [], set()
    for mask in (torch.ones_like(du, dtype=torch.bool), dv <= eps, dv >= -eps,
                 du <= eps, du >= -eps):
        idx = torch.nonzero(mask).flatten()
        key = tuple(idx.tolist())
        if len(key) >= 2 and key not in seen:
            seen.add(key)
            sets.append(idx)
    if not sets:  # fewer than two sources: nothing to compare
        raise ValueError("images: a plane sweep needs at least two source views")
    return sets


def sweep_costs(images: Tensor, positions, target, labels: Tensor, tau: float = 0.1,
                tau_grad: float = 0.1, alpha: float = 1.0, blur: float = 0.5) -> Tensor:
    """Raw matching cost (D, H, W) of every label (see the module docstring).

    A source whose sample falls outside its image does not count at that
    pixel; a subset with fewer than two sources inside costs the maximum.
    """
    images, pos = _check_sources(images, positions)
    N, C, H, W = images.shape
    t = torch.as_tensor(target, dtype=torch.float64).reshape(2)
    offsets = pos - t  # (N, 2): (u_i - u_t, v_i - v_t)
    sets = _subsets(offsets)
    feats = matching_features(images.float() if C == 3 else images.float().expand(N, 3, H, W), blur)
    reach = float(labels.abs().max()) * float(offsets.abs().max()) if N else 0.0
    shifted = ShiftedViews(feats, reach)
    worst = tau + alpha * tau_grad
    member = feats.new_zeros(len(sets), N)
    for j, idx in enumerate(sets):
        member[j, idx] = 1.0
    out = feats.new_empty(len(labels), H, W)
    xs = torch.arange(W, dtype=torch.float64, device=feats.device)
    ys = torch.arange(H, dtype=torch.float64, device=feats.device)
    for k, d in enumerate(labels.tolist()):
        samples, inside = [], []
        for i in range(N):
            dx, dy = -d * float(offsets[i, 1]), -d * float(offsets[i, 0])
            samples.append(shifted.shifted(i, dx, dy))
            okx = ((xs + dx) >= -1e-9) & ((xs + dx) <= W - 1 + 1e-9)
            oky = ((ys + dy) >= -1e-9) & ((ys + dy) <= H - 1 + 1e-9)
            inside.append((oky[:, None] & okx[None, :]).to(feats.dtype))
        m = torch.stack(inside)  # (N, H, W)
        s = torch.stack(samples) * m[:, None]  # (N, 3, H, W), zero outside
        # every subset's count, mean and spread at once, from sums over its members
        n = torch.einsum("sn,nhw->shw", member, m).clamp_min_(1)[:, None]
        mean = torch.einsum("sn,nchw->schw", member, s) / n
        var = torch.einsum("sn,nchw->schw", member, s * s) / n - mean * mean
        spread = var.clamp_min_(0).sqrt_()  # (S, 3, H, W)
        cost = spread[:, 0].clamp(max=tau) + alpha * spread[:, 1:].sum(1).clamp(max=tau_grad)
        cost.masked_fill_(n[:, 0] < 2, worst)
        out[k] = cost.amin(0)
    return out


def default_step(offsets: Tensor) -> float:
    """Label spacing: the farthest source moves by at most 0.5 px per label,
    kept within [0.05, 0.25] px per view step."""
    reach = float(offsets.abs().max()) if offsets.numel() else 1.0
    return min(0.25, max(0.05, 0.5 / max(reach, 1e-9)))


def plane_sweep_disparity(images: Tensor, positions, target, disp_range: tuple[float, float],
                          step: float | None = None, radius: int = 4, eps: float = 1e-4,
                          median: int = 2, tau: float = 0.1, tau_grad: float = 0.1,
                          alpha: float = 1.0, blur: float = 0.5) -> tuple[Tensor, Tensor]:
    """Disparity (H, W) of the view at ``target`` from source views alone.

    Args:
        images: (N, C, H, W) source views (N >= 2; RGB or grey).
        positions: (N, 2) their grid positions (u, v) (any real numbers).
        target: (u, v) of the wanted view (a source's position is fine too).
        disp_range: (min, max) disparity to search, px per view step (e.g.
            the scene's ``disp_min``/``disp_max``,
            :func:`~geodl.lightfield.depth.scene_disparity_range`).
        step: label spacing in px; default :func:`default_step`.
        radius, eps: box and guided-filter window radius, guided-filter
            regulariser.
        median: radius of the confidence-weighted joint median (0: none).
        tau, tau_grad, alpha, blur: cost truncations, gradient weight and the
            Gaussian pre-blur (px) of :func:`sweep_costs`.

    Returns:
        (disparity (H, W), confidence (H, W) in [0, 1]): confidence is the
        normalised gap between the mean and the best aggregated cost.
    """
    lo, hi = check_disp_range(disp_range)
    images, pos = _check_sources(images, positions)
    t = torch.as_tensor(target, dtype=torch.float64)
    if t.shape != (2,) or not torch.isfinite(t).all():
        raise ValueError(f"target: expected a finite (u, v) position, got {target!r}")
    step = default_step(pos - t) if step is None else float(step)
    if not step > 0:
        raise ValueError(f"step: expected > 0, got {step}")
    n = int(math.ceil((hi - lo) / step)) + 1
    labels = torch.linspace(lo, lo + (n - 1) * step, n, device=images.device)
    raw = sweep_costs(images, pos, t, labels, tau, tau_grad, alpha, blur)
    # pass 1: plain box aggregation; its answer makes a guide image of the target
    d0, _ = subpixel_argmin(box_mean(raw, radius), labels)
    warped, valid = backward_warp(images.float(), d0, pos, t)
    w = valid[:, None].float()
    guide_rgb = (warped * w).sum(0) / w.sum(0).clamp_min(1)
    guide = to_grey(guide_rgb) if guide_rgb.shape[0] in (1, 3) else guide_rgb.mean(0)
    # pass 2: edge-aware aggregation with that guide
    cost = guided_filter(guide, raw, radius, eps)
    disp, idx = subpixel_argmin(cost, labels)
    best = cost.gather(0, idx[None])[0]
    mean = cost.mean(0)
    confidence = ((mean - best) / mean.clamp_min(1e-6)).clamp(0, 1)
    if median:
        disp = weighted_median(disp, confidence + 1e-3, guide_rgb, radius=median)
    return disp.clamp(lo, hi), confidence
