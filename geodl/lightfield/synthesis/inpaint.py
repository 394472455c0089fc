r"""Push-pull hole filling (Gortler et al., The Lumigraph, SIGGRAPH 1996).

Pull: a pyramid of weighted averages, each level halving the resolution,
:math:`I_{l+1} = \mathrm{pool}(w_l I_l) / \mathrm{pool}(w_l)`,
:math:`w_{l+1} = \min(1, \mathrm{pool}(w_l) \cdot 4)`; the coarse levels
see past every hole. Push: from the coarsest level up, each level's known
pixels are kept and its holes take the bilinearly upsampled coarser level,
blended by the weight, :math:`\hat I_l = w_l I_l + (1 - w_l)\,\mathrm{up}(\hat I_{l+1})`.
Holes thus get a smooth interpolation of the pixels around them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def push_pull(image: Tensor, known: Tensor) -> Tensor:
    """Fill the pixels of ``image`` (C, H, W) where ``known`` (H, W; bool or
    a weight in [0, 1]) is False / 0; known pixels are returned unchanged.
    An image with no known pixel is returned as is."""
    if image.dim() != 3:
        raise ValueError(f"image: expected (C, H, W), got {tuple(image.shape)}")
    if tuple(known.shape) != tuple(image.shape[-2:]):
        raise ValueError(f"known: expected {tuple(image.shape[-2:])}, got {tuple(known.shape)}")
    w = known.to(image.dtype).clamp(0, 1)
    if not bool((w > 0).any()):
        return image
    levels = [(image * w, w)]
    img, wt = image[None] * w, w[None, None]
    while min(img.shape[-2:]) > 1 and bool((wt < 1).any()):
        num = F.avg_pool2d(img, 2, ceil_mode=True)
        den = F.avg_pool2d(wt, 2, ceil_mode=True)
        img = num / den.clamp_min(1e-12) * (den > 0)
        wt = (den * 4).clamp(max=1)
        img = img * wt
        levels.append((img[0], wt[0, 0]))
    filled = levels[-1][0] / levels[-1][1].clamp_min(1e-12)
    for premult, wl in reversed(levels[:-1]):
        up = F.interpolate(filled[None], size=wl.shape, mode="bilinear", align_corners=False)[0]
        colour = premult / wl.clamp_min(1e-12)
        filled = torch.where(wl > 0, wl * colour + (1 - wl) * up, up)
    return torch.where(known.bool() if known.dtype == torch.bool else w >= 1, image, filled)
