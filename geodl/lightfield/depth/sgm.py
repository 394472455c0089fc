r"""Semi-global aggregation of a cost volume (Hirschmüller, PAMI 2008).

A local window (the guided filter of ``cost_volume``) aggregates matching
costs over a fixed support; on slanted floors and thin structures that support
is wrong, and on textureless walls it is too small. Semi-global matching
instead approximates a 2-D smoothness prior by 1-D dynamic programmes along
scanlines. Along a direction :math:`r`, with :math:`p - r` the previous pixel,

.. math::

    L_r(p, d) = C(p, d) + \min\big(L_r(p-r, d),\ L_r(p-r, d \pm 1) + P_1,\
    \min_k L_r(p-r, k) + P_2(p)\big) - \min_k L_r(p-r, k),

a small penalty :math:`P_1` for a change of one label (slants) and a larger
:math:`P_2` for any jump (depth edges). :math:`P_2` is lowered where the
guide image changes between :math:`p - r` and :math:`p`, as depth edges
mostly coincide with colour edges: :math:`P_2(p) = \max(P_1, P_2 / (1 +
|I(p) - I(p-r)| / \gamma))`. The aggregated cost is the mean over the four
horizontal and vertical directions, :math:`S = \tfrac14 \sum_r L_r`
(the mean, not the sum, keeps :math:`S` on the scale of :math:`C`).

Written here rather than taken from a library: OpenCV's ``StereoSGBM`` takes a
rectified image pair, not a precomputed cost volume over a light field's views.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _scan_both_ways(cost: Tensor, guide: Tensor, p1: float, p2: float, gamma: float,
                    shift: int = 0) -> Tensor:
    """Sum of the path costs along the first axis, first to last and last to first.

    Args:
        cost: (N, D, A) matching costs: A scanlines of length N, D labels
            (scan axis first, so that each step reads one contiguous block).
        guide: (N, A) grey guide image.
        shift: 0 for paths along the first axis; +1 or -1 for diagonal paths,
            whose predecessor of element (i, a) is (i - 1, a - shift) going
            forward and (i + 1, a + shift) going backward. A pixel whose
            predecessor lies outside starts its path: :math:`L = C` there.

    Returns:
        (N, D, A) :math:`L_{+r} + L_{-r}`.
    """
    N, A = cost.shape[0], cost.shape[2]
    if shift not in (-1, 0, 1):
        raise ValueError(f"shift: expected -1, 0 or 1, got {shift}")
    # guide change between each element and its predecessor, forward (at i, from
    # i - 1) and backward (at j, from j + 1); the diagonal ones are shifted by one
    if shift == 0:
        fwd_jump = bwd_jump = guide.diff(dim=0).abs_()  # (N - 1, A): element i + 1 against i
    else:
        fwd_jump = (guide[1:] - guide[:-1].roll(shift, dims=1)).abs_()
        bwd_jump = (guide[:-1] - guide[1:].roll(-shift, dims=1)).abs_()

    def penalty(jump: Tensor) -> Tensor:
        return (p2 / (1 + jump / gamma)).clamp_(min=p1)[:, None]  # (N - 1, 1, A)

    fwd_pen, bwd_pen = penalty(fwd_jump), penalty(bwd_jump)
    # columns whose predecessor lies outside (it wraps around under the roll)
    start_fwd, start_bwd = (0, A - 1) if shift > 0 else (A - 1, 0)
    total = torch.zeros_like(cost)
    # Both directions as one batch of 2 (forward at i, backward at N - 1 - i).
    prev = torch.stack([cost[0], cost[N - 1]])  # (2, D, A)
    total[0] += prev[0]
    total[N - 1] += prev[1]
    for i in range(1, N):
        j = N - 1 - i
        if shift:  # bring each pixel's predecessor into its column
            prev = torch.stack([prev[0].roll(shift, dims=1), prev[1].roll(-shift, dims=1)])
        low = prev.amin(1, keepdim=True)  # (2, 1, A)
        best = torch.minimum(prev, low + torch.stack([fwd_pen[i - 1], bwd_pen[j]]))
        best[:, 1:] = torch.minimum(best[:, 1:], prev[:, :-1] + p1)  # from label d - 1
        best[:, :-1] = torch.minimum(best[:, :-1], prev[:, 1:] + p1)  # from label d + 1
        prev = torch.stack([cost[i], cost[j]]).add_(best).sub_(low)
        if shift:  # the column whose predecessor wrapped around starts afresh
            prev[0, :, start_fwd] = cost[i, :, start_fwd]
            prev[1, :, start_bwd] = cost[j, :, start_bwd]
        total[i] += prev[0]
        total[j] += prev[1]
    return total


def semi_global_aggregation(cost: Tensor, guide: Tensor, p1: float = 0.002, p2: float = 0.01,
                            gamma: float = 0.05, paths: int = 4) -> Tensor:
    """Aggregate a (D, H, W) cost volume along 4 or 8 paths.

    Args:
        cost: (D, H, W) matching cost per label (lower is better); labels are
            assumed evenly spaced (``P1`` is the penalty of one label step).
        guide: (H, W) grey image whose changes lower ``P2``.
        p1, p2: penalties for a one-label change and for any larger jump, in
            the cost's units (``cost_volume``'s truncated differences).
        gamma: guide change (grey levels in [0, 1]) that halves ``P2``.
        paths: 4 (horizontal and vertical) or 8 (and the two diagonals, both ways).

    Returns:
        (D, H, W) aggregated cost :math:`S`, the mean of the path costs.
    """
    if cost.dim() != 3:
        raise ValueError(f"cost: expected (D, H, W), got shape {tuple(cost.shape)}")
    if guide.shape != cost.shape[1:]:
        raise ValueError(f"guide: expected shape {tuple(cost.shape[1:])}, got {tuple(guide.shape)}")
    if not 0 <= p1 <= p2:
        raise ValueError(f"penalties: expected 0 <= p1 <= p2, got p1={p1}, p2={p2}")
    if not gamma > 0:
        raise ValueError(f"gamma: expected > 0, got {gamma}")
    if paths not in (4, 8):
        raise ValueError(f"paths: expected 4 or 8, got {paths}")
    guide = guide.to(cost.dtype)
    rows = _scan_both_ways(cost.permute(2, 0, 1).contiguous(), guide.T, p1, p2, gamma)  # along x
    total = rows.permute(1, 2, 0)
    columns = cost.permute(1, 0, 2).contiguous()  # (H, D, W): along y, and the diagonals
    total += _scan_both_ways(columns, guide, p1, p2, gamma).permute(1, 0, 2)
    if paths == 8:
        for shift in (1, -1):
            total += _scan_both_ways(columns, guide, p1, p2, gamma, shift).permute(1, 0, 2)
    return total.div_(paths)
