"""TEMPORARY stand-in for the `synth` branch's warp.py (deleted after the merge)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def backward_warp(src: Tensor, disparity: Tensor, offset: Tensor) -> Tensor:
    """src (B, C, H, W), disparity (B, H, W), offset (B, 2) = target - source
    (rows, cols) in grid units -> target (B, C, H, W): src at (y + d dr, x + d dc)."""
    B, C, H, W = src.shape
    ys = torch.arange(H, dtype=src.dtype, device=src.device)[:, None] + 0.5
    xs = torch.arange(W, dtype=src.dtype, device=src.device)[None, :] + 0.5
    y = ys + disparity * offset[:, 0, None, None]
    x = xs + disparity * offset[:, 1, None, None]
    grid = torch.stack([2 * x / W - 1, 2 * y / H - 1], dim=-1)
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=False)
