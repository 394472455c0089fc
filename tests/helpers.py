"""What several test files share.

- ``REPO``: the repository's root folder.
- Synthetic light fields of textured planes (fronto-parallel or slanted) for
  the disparity tests: view (r, c) pixel (u, v) shows the texture at
  (x, y) = (u + d (c - c0), v + d (r - r0)) with d = d(x, y) the plane's
  disparity at the centre-view point (x, y).
- The 2-process gloo runs of the training loops: a free port and the
  environment torchrun would set for one rank.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.nn.functional as F

from geodl.structures import LightField, PinholeCamera

REPO = Path(__file__).resolve().parents[1]


def smooth_texture(size: int, seed: int, cells: int = 24) -> torch.Tensor:
    """(1, 1, cells, cells) random values; sampled bicubically it is a smooth texture."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 1, cells, cells, generator=g)


def plane_views(size: int = 64, n: int = 9, a: float = 1.0, bx: float = 0.0, by: float = 0.0,
                seed: int = 0, cells: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, n, size, size) grey views of the plane d(x, y) = a + bx (x - mid) + by (y - mid)
    and its (size, size) centre disparity."""
    tex = smooth_texture(size, seed, cells)
    m = n // 2
    mid = (size - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64),
                            torch.arange(size, dtype=torch.float64), indexing="ij")
    views = torch.empty(n, n, size, size)
    margin = 8.0  # texture coordinates span [-margin, size + margin)
    for r in range(n):
        for c in range(n):
            x, y = xs.clone(), ys.clone()
            for _ in range(30):  # x = u + d(x, y) dc, y = v + d(x, y) dr
                d = a + bx * (x - mid) + by * (y - mid)
                x, y = xs + d * (c - m), ys + d * (r - m)
            gx = 2 * (x + margin) / (size + 2 * margin) - 1
            gy = 2 * (y + margin) / (size + 2 * margin) - 1
            grid = torch.stack([gx, gy], -1)[None].float()
            views[r, c] = F.grid_sample(tex, grid, mode="bicubic", align_corners=True)[0, 0]
    disp = (a + bx * (xs - mid) + by * (ys - mid)).float()
    return views.clamp(0, 1), disp


def plane_lightfield(size: int = 64, n: int = 9, **kw) -> tuple[LightField, torch.Tensor]:
    views, disp = plane_views(size, n, **kw)
    cam = PinholeCamera.look_at((0, 0, 0), (0, 0, 1), up=(0, -1, 0), width=size, height=size,
                                fov_deg=60.0)
    rgb = views[:, :, None].expand(-1, -1, 3, -1, -1).contiguous()
    return LightField(rgb, cam, 0.01, 1.0), disp

# ------------------------------------------------ 2-process gloo runs
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_torchrun_rank(rank: int, world: int, port: int) -> None:
    """Set the variables torchrun gives rank ``rank`` of ``world`` (one CPU
    thread each, so two ranks share two cores)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world),
                      RANK=str(rank), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
