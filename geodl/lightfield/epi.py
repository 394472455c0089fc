"""Epipolar-plane images (EPIs) of a light field.

Stacking the views along one line of the camera grid and cutting all of them
along the same image line gives an image in which every scene point draws a
straight line whose slope is its disparity (HCI sign: a point with disparity
d moves by -d pixels per view step to the right or down).
"""
from __future__ import annotations

import torch
from torch import Tensor

from geodl.structures import LightField


def epi(lf: LightField, direction: str, index: int) -> Tensor:
    """One EPI through the centre view.

    Args:
        direction: ``"horizontal"`` (views of the centre row, image row
            ``index``) -> (V, C, W); ``"vertical"`` (views of the centre column,
            image column ``index``) -> (U, C, H); ``"diagonal"`` (views (k, k),
            image row ``index``) and ``"antidiagonal"`` (views (k, V-1-k), image
            row ``index``) -> (min(U, V), C, W).
        index: the image row (or column for ``"vertical"``).
    """
    U, V, C, H, W = lf.views.shape
    r0, c0 = lf.center_index
    limit = W if direction == "vertical" else H
    if not 0 <= index < limit:
        raise ValueError(f"index: expected in [0, {limit}), got {index}")
    if direction == "horizontal":
        return lf.views[r0, :, :, index, :]
    if direction == "vertical":
        return lf.views[:, c0, :, :, index]
    n = min(U, V)
    if direction == "diagonal":
        return torch.stack([lf.views[k, k, :, index, :] for k in range(n)])
    if direction == "antidiagonal":
        return torch.stack([lf.views[k, V - 1 - k, :, index, :] for k in range(n)])
    raise ValueError("direction: expected 'horizontal', 'vertical', 'diagonal' or "
                     f"'antidiagonal', got {direction!r}")
