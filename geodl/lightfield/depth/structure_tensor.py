r"""Classical disparity from the local slopes of epipolar-plane images
(Wanner and Goldluecke, CVPR 2012), with shears against aliasing.

In the horizontal EPI of the centre row, view offset :math:`s = c - c_0`, a
scene point of disparity :math:`d` traces :math:`I(s, x) = f(x + d s)`, so
:math:`\partial_s I = d\, \partial_x I`. Least squares over a Gaussian window
in :math:`(s, x, y)` gives the slope from the structure tensor

.. math:: d = J_{xs} / J_{xx}, \qquad
          \text{coherence} = \frac{\sqrt{(J_{ss} - J_{xx})^2 + 4 J_{xs}^2}}{J_{ss} + J_{xx}},

with :math:`J_{ab} = G_\sigma * (\partial_a I\, \partial_b I)`. Derivatives
across views alias once :math:`|d|` approaches a pixel per view, so the EPI
is first sheared by a set of disparities :math:`d_0` (every view shifted by
:math:`d_0 s`, which turns disparity :math:`d` into :math:`d - d_0`), the
residual slope is measured near zero, and per pixel the shear with the
largest coherence wins (its residual within half a shear step). The vertical
EPIs of the centre column give a second estimate; both are fused by
coherence weights. Confidence is the fused coherence.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.lightfield.depth.estimate import check_disp_range
from geodl.lightfield.depth.filters import gaussian_blur, to_grey
from geodl.lightfield.depth.shifts import ShiftedViews
from geodl.structures import LightField


def _smooth(x: Tensor, sigma: float) -> Tensor:
    """Gaussian smoothing of (H, W) maps over the image plane."""
    return gaussian_blur(x[None, None], sigma)[0, 0]


def _epi_slope(line: Tensor, shear: float, inner: float, outer: float) -> tuple[Tensor, Tensor]:
    """Residual slope and coherence at the centre view of a line of views.

    Args:
        line: (S, H, W) grey views along one direction of the grid, offset
            s = -S//2 .. S//2, with the disparity shift along W (rows are
            transposed by the caller for vertical lines).
        shear: the disparity d0 the views are sheared by first.
    """
    S, H, W = line.shape
    s0 = S // 2
    shifted = ShiftedViews(line[:, None], abs(shear) * s0)
    sheared = torch.stack([shifted.shifted(i, -shear * (i - s0), 0.0)[0] for i in range(S)])
    sheared = gaussian_blur(sheared[:, None], inner)[:, 0]
    # derivatives: central differences along x and along the views
    ix = torch.zeros_like(sheared)
    ix[..., 1:-1] = 0.5 * (sheared[..., 2:] - sheared[..., :-2])
    i_s = torch.zeros_like(sheared)
    i_s[1:-1] = 0.5 * (sheared[2:] - sheared[:-2])
    i_s[0], i_s[-1] = sheared[1] - sheared[0], sheared[-1] - sheared[-2]
    # Gaussian weights across the views, centred on the centre view
    t = torch.arange(S, dtype=line.dtype, device=line.device) - s0
    ws = torch.exp(-t * t / (2 * max(s0, 1) ** 2))[:, None, None]
    jxx = _smooth((ws * ix * ix).sum(0), outer)
    jxs = _smooth((ws * ix * i_s).sum(0), outer)
    jss = _smooth((ws * i_s * i_s).sum(0), outer)
    slope = jxs / jxx.clamp_min(1e-12)
    coherence = torch.sqrt((jss - jxx) ** 2 + 4 * jxs ** 2) / (jss + jxx).clamp_min(1e-12)
    return slope, coherence


def structure_tensor_disparity(lf: LightField, disp_range: tuple[float, float],
                               shear_step: float = 0.5, inner: float = 0.8, outer: float = 2.0
                               ) -> tuple[Tensor, Tensor]:
    """Disparity and confidence (H, W) of the centre view from EPI slopes.

    Args:
        disp_range: (min, max) disparity in px: the shears cover it.
        shear_step: spacing of the shears in px.
        inner: Gaussian sigma (px) on the images before differentiation.
        outer: Gaussian sigma (px) of the structure-tensor window.
    """
    lo, hi = check_disp_range(disp_range)
    if not shear_step > 0:
        raise ValueError(f"shear_step: expected > 0, got {shear_step}")
    U, V, C, H, W = lf.views.shape
    if U < 3 and V < 3:
        raise ValueError(f"views: the structure tensor needs 3 or more views in a row or "
                         f"column, got a {U} x {V} grid")
    r0, c0 = lf.center_index
    grey = to_grey(lf.views.float())
    lines = []
    if V >= 3:
        lines.append((grey[r0], False))  # (V, H, W), disparity along x
    if U >= 3:
        lines.append((grey[:, c0].transpose(1, 2), True))  # (U, W, H), along the rows
    n = int(math.ceil((hi - lo) / shear_step)) + 1
    shears = [lo + k * shear_step for k in range(n)]
    fused = grey.new_zeros(H, W)
    weight = grey.new_zeros(H, W)
    for line, transposed in lines:
        best = grey.new_full((H, W) if not transposed else (W, H), -1.0)
        disp = torch.zeros_like(best)
        for d0 in shears:
            slope, coh = _epi_slope(line, d0, inner, outer)
            # a residual beyond the shear step belongs to another shear
            coh = torch.where(slope.abs() <= shear_step, coh, torch.zeros_like(coh))
            better = coh > best
            best = torch.where(better, coh, best)
            disp = torch.where(better, d0 + slope, disp)
        if transposed:
            best, disp = best.T, disp.T
        best = best.clamp_min(0)
        fused += best * disp
        weight += best
    disparity = torch.where(weight > 0, fused / weight.clamp_min(1e-12), torch.zeros_like(fused))
    confidence = (weight / len(lines)).clamp(0, 1)
    return disparity.clamp(lo, hi), confidence
