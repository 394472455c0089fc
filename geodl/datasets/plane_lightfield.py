r"""Light fields of a textured plane with known disparity: the smallest scene
on which every disparity estimator must be exact.

The centre view shows a smooth random colour texture :math:`T`; the plane's
disparity is affine in the centre view, :math:`d(x) = d_0 + g\,(x - W/2)`
(``slope`` g: a slanted plane). View ``(r, c)`` shows at pixel ``u`` the
texture at the centre pixel ``x`` that lands there, ``u = x - d(x) (c - c0)``
(HCI sign; the same vertically), found by fixed-point iteration and sampled
bilinearly from an oversized texture.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from geodl.ops.sampling import sample_at_pixels
from geodl.structures import GroundTruth, LightField, PinholeCamera


def smooth_texture(height: int, width: int, cell: int = 4, seed: int = 0) -> Tensor:
    """(3, H, W) colour texture in [0, 1]: uniform noise on a grid of ``cell``
    px, bicubically upsampled (band-limited, so shifts are well defined)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, -(-height // cell), -(-width // cell), generator=g)
    return F.interpolate(coarse, size=(height, width), mode="bicubic",
                         align_corners=False)[0].clamp(0, 1)


def textured_plane(disparity: float, slope: float = 0.0, size: int = 64, grid: int = 9,
                   seed: int = 0) -> LightField:
    """A ``grid`` x ``grid`` light field of ``size`` x ``size`` views of a
    plane with disparity ``disparity + slope * (x - size / 2)``; its ground
    truth holds that disparity map."""
    if size < 8 or grid < 1:
        raise ValueError(f"size, grid: expected size >= 8 and grid >= 1, got {size}, {grid}")
    c0 = grid // 2
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64),
                            torch.arange(size, dtype=torch.float64), indexing="ij")
    disp = disparity + slope * (xs - size / 2)
    reach = int(abs(disparity) * c0 + abs(slope) * size * c0) + 4
    full = size + 2 * reach
    texture = smooth_texture(full, full, seed=seed)
    views = torch.empty(grid, grid, 3, size, size)
    for r in range(grid):
        for c in range(grid):
            x = xs.clone()
            for _ in range(30):  # u = x - d(x) dc  <=>  x = u + d(x) dc
                x = xs + (disparity + slope * (x - size / 2)) * (c - c0)
            y = ys + (disparity + slope * (x - size / 2)) * (r - c0)
            views[r, c] = sample_at_pixels(texture[None], x + reach, y + reach,
                                           padding_mode="zeros")[0]
    cam = PinholeCamera.look_at([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], up=[0, -1, 0], width=size,
                                height=size)
    return LightField(views, cam, 0.1, 1.0, ground_truth=GroundTruth(disparity=disp),
                      meta={"scene": f"plane_{disparity:+.2f}_{slope:+.3f}"})
