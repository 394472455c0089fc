r"""Sub-pixel shifts of light-field views, the primitive of every cost volume.

To test the hypothesis "the centre pixel ``(x, y)`` has disparity :math:`d`",
view ``(r, c)`` is sampled at ``(x - d (c - c0), y - d (r - r0))``. For one
hypothesis the shift is the same for the whole view, so it is a translation:
an integer part (a slice of the edge-padded view) and a fractional part (two
linear interpolations). That costs a few passes over the image instead of a
``grid_sample`` gather, which is what makes a full 9 x 9 sweep fit in seconds.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


class ShiftedViews:
    """Translate views by sub-pixel amounts (bilinear, edges replicated).

    Args:
        views: (N, C, H, W) images.
        max_shift: the largest ``|shift|`` in pixels that will be asked for.
    """

    def __init__(self, views: Tensor, max_shift: float) -> None:
        if views.dim() != 4:
            raise ValueError(f"views: expected (N, C, H, W), got {tuple(views.shape)}")
        if not math.isfinite(max_shift) or max_shift < 0:
            raise ValueError(f"max_shift: expected a finite number >= 0, got {max_shift}")
        self.pad = int(math.ceil(max_shift)) + 1
        self.H, self.W = views.shape[-2:]
        self.padded = F.pad(views, (self.pad,) * 4, mode="replicate")

    def shifted(self, index: int, dx: float, dy: float) -> Tensor:
        """(C, H, W) view ``index`` sampled at ``(x + dx, y + dy)``."""
        ix, iy = math.floor(dx), math.floor(dy)
        fx, fy = dx - ix, dy - iy
        if max(abs(ix), abs(iy)) + 1 > self.pad:
            raise ValueError(f"shift ({dx:.3g}, {dy:.3g}) exceeds max_shift {self.pad - 1}")
        y0, x0 = self.pad + iy, self.pad + ix
        v = self.padded[index]
        # rows y0 .. y0+H (one extra for the vertical interpolation), same for columns
        block = v[:, y0:y0 + self.H + 1, x0:x0 + self.W + 1]
        rows = torch.lerp(block[:, :-1], block[:, 1:], fy) if fy else block[:, :-1]
        return torch.lerp(rows[..., :-1], rows[..., 1:], fx) if fx else rows[..., :-1]
