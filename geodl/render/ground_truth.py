"""Benchmark ground truth: high-resolution depth reduced by block median, and
evaluation masks derived from depth, normals and object ids.

The HCI benchmark renders its ground truth at 10x resolution and reduces it
by a 10x10 block median (robust at object boundaries, where a mean would
invent depths between foreground and background). Its evaluation regions are
*discontinuities* (near object or depth edges), *planes* and *smooth
surfaces* (continuous regions with constant or varying normals) and *fine
structures* (thin parts).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor

from geodl.render.raycast import Renderer, facing
from geodl.structures import PinholeCamera

FINE_PARTS = ("table_leg", "chair_leg", "shelf_board", "shelf_side")


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


def render_geometry(renderer: Renderer, camera: PinholeCamera, band_rows: int = 256
                    ) -> tuple[Tensor, Tensor, Tensor]:
    """Geometry seen by ``camera`` (no shading), cast one band of rows at a
    time so that 10x benchmark resolutions (5120 x 5120) fit in memory.

    Returns:
        depth: (H, W) float32 z-depth, inf where nothing is hit;
        normal: (3, H, W) float32 world-frame normals facing the camera;
        object_id: (H, W) int32 (0 = background).
    """
    H, W = camera.height, camera.width
    depth = np.empty((H, W), np.float32)
    normal = np.empty((3, H, W), np.float32)
    ids = np.zeros((H, W), np.int32)
    for top in range(0, H, band_rows):
        rows = min(band_rows, H - top)
        rays = camera.crop(top, 0, rows, W).ray_bundle()
        hit = renderer.cast(rays)
        ids[top:top + rows] = renderer.object_ids(hit["geometry_ids"])
        n = facing(hit["primitive_normals"], rays[..., 3:])
        normal[:, top:top + rows] = n.transpose(2, 0, 1)
        depth[top:top + rows] = hit["t_hit"]
    return torch.from_numpy(depth), torch.from_numpy(normal), torch.from_numpy(ids)


def high_res_depth(renderer: Renderer, camera: PinholeCamera, factor: int = 10
                   ) -> tuple[Tensor, Tensor, Tensor]:
    """``render_geometry`` at ``factor`` x the camera's resolution."""
    if factor < 1:
        raise ValueError(f"factor: expected >= 1, got {factor}")
    return render_geometry(renderer, camera.scaled(factor))


def median_depth(renderer: Renderer, camera: PinholeCamera, factor: int = 10,
                 band_rows: int = 8) -> Tensor:
    """(H, W) depth rendered at ``factor`` x resolution and reduced by
    ``factor`` x ``factor`` block median, as the benchmark's low-resolution
    ground truth; computed ``band_rows`` image rows at a time (bounded memory)."""
    if factor < 1:
        raise ValueError(f"factor: expected >= 1, got {factor}")
    cam = camera.scaled(factor)
    bands = []
    for top in range(0, camera.height, band_rows):
        rows = min(band_rows, camera.height - top)
        rays = cam.crop(top * factor, 0, rows * factor, cam.width).ray_bundle()
        t_hit = renderer.cast(rays)["t_hit"]
        bands.append(block_median(torch.from_numpy(t_hit), factor))
    return torch.cat(bands)


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
