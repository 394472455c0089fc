"""The HCI benchmark's ground-truth definitions: block-median reduction of a
high-resolution depth and the evaluation regions.

The benchmark renders its ground truth at 10x resolution and reduces it by a
10x10 block median (robust at object boundaries, where a mean would invent
depths between foreground and background). Its evaluation regions are
*discontinuities* (near object or depth edges), *planes* and *smooth
surfaces* (continuous regions with constant or varying normals) and *fine
structures* (thin parts) with their *surroundings*.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor


def block_median(x: Tensor, factor: int) -> Tensor:
    """(H*f, W*f) -> (H, W) median of each f x f block (NaN/inf ignored;
    a block with no finite value gives NaN; for an even count torch returns
    the lower of the two middle values)."""
    if x.shape[0] % factor or x.shape[1] % factor:
        raise ValueError(f"x: shape {tuple(x.shape)} is not a multiple of factor {factor}")
    h, w = x.shape[0] // factor, x.shape[1] // factor
    blocks = x.double().reshape(h, factor, w, factor).permute(0, 2, 1, 3).reshape(h, w, -1)
    blocks = torch.where(torch.isfinite(blocks), blocks, torch.nan)
    return torch.nanmedian(blocks, dim=-1).values


def evaluation_masks(depth: Tensor, normal: Tensor, object_id: Tensor, fine_ids=(),
                     edge_width: int = 2, depth_jump: float = 0.05,
                     plane_angle_deg: float = 1.0, scale: int = 1) -> dict[str, Tensor]:
    """Boolean (H, W) masks ``discontinuities``, ``planes``, ``smooth_surfaces``,
    ``fine`` and ``fine_surrounding`` (the HCI toolkit's mask names).

    Discontinuities: within ``edge_width`` px of a relative depth jump above
    ``depth_jump`` between 4-neighbours, or of the edge of the hit geometry (an
    object change alone, such as a wall meeting the floor, is a crease, not a
    discontinuity). Planes: continuous pixels whose normal differs from those
    of its 8 neighbours by less than ``plane_angle_deg``; smooth surfaces: the
    other continuous pixels. Fine: pixels of the objects in ``fine_ids`` (thin
    parts); fine surrounding: the other hit pixels within ``edge_width`` px of
    them (where a method fattens thin structures).

    ``scale``: the maps are a ``scale`` x render of the view; the widths,
    the per-pixel jump and the neighbour distance above stay in
    low-resolution pixels, so both resolutions mark the same regions.
    """
    if scale < 1:
        raise ValueError(f"scale: expected >= 1, got {scale}")
    edge_width, depth_jump = edge_width * scale, depth_jump / scale
    z = depth.double().numpy()
    ids = object_id.numpy()
    finite = np.isfinite(z)
    edge = np.zeros(z.shape, bool)
    for axis in (0, 1):
        a = [slice(None)] * 2
        b = [slice(None)] * 2
        a[axis], b[axis] = slice(1, None), slice(None, -1)
        za, zb = z[tuple(a)], z[tuple(b)]
        with np.errstate(invalid="ignore", divide="ignore"):
            jump = (np.abs(za - zb) > depth_jump * np.minimum(za, zb)) | \
                (np.isfinite(za) != np.isfinite(zb))
        edge[tuple(a)] |= jump
        edge[tuple(b)] |= jump
    disc = ndimage.binary_dilation(edge, iterations=max(edge_width - 1, 0)) if edge_width > 1 \
        else edge
    cos_min = np.cos(np.radians(plane_angle_deg))
    n = normal.float().numpy()  # float32 halves the memory at 10x resolution
    flat = np.ones(z.shape, bool)
    H, W = z.shape
    for dy in (-scale, 0, scale):
        for dx in (-scale, 0, scale):
            if dy == dx == 0:
                continue
            # pixels (y, x) that have the neighbour (y + dy, x + dx)
            ys, xs = slice(max(0, -dy), H - max(0, dy)), slice(max(0, -dx), W - max(0, dx))
            yn, xn = slice(max(0, dy), H - max(0, -dy)), slice(max(0, dx), W - max(0, -dx))
            flat[ys, xs] &= (n[:, ys, xs] * n[:, yn, xn]).sum(0) >= cos_min
    continuous = finite & ~disc
    fine = np.isin(ids, list(fine_ids))
    near_fine = ndimage.binary_dilation(fine, iterations=edge_width) if fine.any() else fine
    return {"discontinuities": torch.from_numpy(disc & finite),
            "planes": torch.from_numpy(continuous & flat),
            "smooth_surfaces": torch.from_numpy(continuous & ~flat),
            "fine": torch.from_numpy(fine),
            "fine_surrounding": torch.from_numpy(near_fine & ~fine & finite)}
