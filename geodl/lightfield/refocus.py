r"""Backward warping of views to the centre, and shift-and-sum refocusing.

With the HCI convention, the centre pixel :math:`(x, y)` of disparity
:math:`d` appears in view :math:`(r, c)` at
:math:`(x - d(c - c_0),\; y - d(r - r_0))`. Sampling every view there
(bilinearly, fractional shifts allowed) brings it into the centre view's
frame; averaging the warped views with one constant :math:`d` is synthetic
refocusing on the depth plane of disparity :math:`d`: that plane is sharp, the
rest blurs in proportion to its disparity difference.
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor

from geodl.ops.sampling import sample_at_pixels, within_pixel_centers
from geodl.structures import LightField


def warp_lightfield_to_center(lf: LightField, disparity: Tensor | float) -> tuple[Tensor, Tensor]:
    r"""Every view of ``lf`` resampled into the centre view's pixel grid:
    view :math:`(r, c)` sampled bilinearly at
    :math:`(x - d(c - c_0), y - d(r - r_0))` for each centre pixel
    :math:`(x, y)` (pixel indices, :mod:`geodl.ops.sampling`; computed in
    float64 on the views' device, returned in the views' dtype).
    (:func:`geodl.lightfield.depth.cost_volume.warp_views_to_center` does the
    same for view tensors at given offsets.)

    Args:
        disparity: scalar or (H, W) centre-view disparity map.

    Returns:
        warped: (U, V, C, H, W); valid: (U, V, H, W) bool, False where the
        sample falls outside the view.
    """
    U, V, C, H, W = lf.views.shape
    device = lf.views.device
    d = torch.as_tensor(disparity, dtype=torch.float64, device=device)
    if d.dim() not in (0, 2) or (d.dim() == 2 and tuple(d.shape) != (H, W)):
        raise ValueError(f"disparity: expected a scalar or shape ({H}, {W}), got {tuple(d.shape)}")
    if not torch.isfinite(d).all():
        raise ValueError("disparity: contains NaN or inf")
    r0, c0 = lf.center_index
    grid = {"dtype": torch.float64, "device": device}
    ys, xs = torch.meshgrid(torch.arange(H, **grid), torch.arange(W, **grid), indexing="ij")
    dr = (torch.arange(U, **grid) - r0)[:, None, None, None]
    dc = (torch.arange(V, **grid) - c0)[None, :, None, None]
    sx = xs - d * dc  # (U, V, H, W) sample positions in pixel indices
    sy = ys - d * dr
    sx, sy = torch.broadcast_to(sx, (U, V, H, W)), torch.broadcast_to(sy, (U, V, H, W))
    views = lf.views.reshape(U * V, C, H, W)
    warped = sample_at_pixels(views.to(torch.float64), sx.reshape(U * V, H, W),
                              sy.reshape(U * V, H, W))
    valid = within_pixel_centers(sx, sy, H, W)
    return warped.reshape(U, V, C, H, W).to(lf.views.dtype), valid


def refocus(lf: LightField, disparity: float) -> Tensor:
    """(C, H, W) shift-and-sum image focused at ``disparity`` (pixels per view step)."""
    warped, valid = warp_lightfield_to_center(lf, float(disparity))
    w = valid[:, :, None].to(warped.dtype)
    return (warped * w).sum((0, 1)) / w.sum((0, 1)).clamp_min(1)


def warp_to_center(lf: LightField, disparity: Tensor | float) -> tuple[Tensor, Tensor]:
    """Deprecated alias of :func:`warp_lightfield_to_center`."""
    warnings.warn("warp_to_center is deprecated; use warp_lightfield_to_center", DeprecationWarning,
                  stacklevel=2)
    return warp_lightfield_to_center(lf, disparity)
