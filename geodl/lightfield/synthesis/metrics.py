r"""Image-quality metrics for synthesised views: PSNR and SSIM.

Both take images (C, H, W) or (H, W) (torch or NumPy) in the same units,
compare them after cropping ``border`` pixels from every side (warping has
no data there, and published light-field tables crop too), and average over
every remaining pixel and channel.

* PSNR: :math:`10 \log_{10}(L^2 / \mathrm{MSE})`, :math:`L` the data range
  (1 for [0, 1] images), MSE the mean over pixels and channels; ``inf``
  for identical images.
* SSIM (Wang et al., IEEE TIP 2004) is scikit-image's
  :func:`skimage.metrics.structural_similarity`, with the paper's settings:
  an 11 x 11 Gaussian window of sigma 1.5 (``gaussian_weights=True``),
  population (not sample) covariances, :math:`K_1 = 0.01, K_2 = 0.03`,
  ``data_range`` given explicitly (never guessed from the dtype), each
  channel separately (``channel_axis``) and the SSIM map averaged over
  pixels and channels. (scikit-image's own default, a 7 x 7 uniform window
  with sample covariance, gives slightly different numbers.)
"""
from __future__ import annotations

import math

import numpy as np
import torch


def _pair(pred, target, border: int) -> tuple[np.ndarray, np.ndarray]:
    def arr(x) -> np.ndarray:
        return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, float)
    a, b = arr(pred), arr(target)
    if a.shape != b.shape:
        raise ValueError(f"pred, target: shapes differ, {a.shape} vs {b.shape}")
    if a.ndim not in (2, 3):
        raise ValueError(f"pred: expected (C, H, W) or (H, W), got shape {a.shape}")
    if not isinstance(border, int) or border < 0 or 2 * border >= min(a.shape[-2:]):
        raise ValueError(f"border: expected an int in [0, {min(a.shape[-2:]) // 2}), got {border!r}")
    if border:
        a, b = a[..., border:-border, border:-border], b[..., border:-border, border:-border]
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("pred, target: contain NaN or inf")
    return a, b


def _range(data_range: float) -> float:
    if not (isinstance(data_range, (int, float)) and math.isfinite(data_range) and data_range > 0):
        raise ValueError(f"data_range: expected a positive number, got {data_range!r}")
    return float(data_range)


def psnr(pred, target, data_range: float = 1.0, border: int = 0) -> float:
    """Peak signal-to-noise ratio in dB (see the module docstring)."""
    L = _range(data_range)
    a, b = _pair(pred, target, border)
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(L * L / mse)


def ssim(pred, target, data_range: float = 1.0, border: int = 0) -> float:
    """Mean structural similarity (see the module docstring); images (C, H, W)
    are compared channel by channel, (H, W) as one channel. Needs at least
    11 x 11 pixels after the crop."""
    from skimage.metrics import structural_similarity
    L = _range(data_range)
    a, b = _pair(pred, target, border)
    if min(a.shape[-2:]) < 11:
        raise ValueError(f"pred: SSIM's 11 x 11 window needs images of at least 11 x 11 "
                         f"pixels after the border crop, got {a.shape[-2:]}")
    return float(structural_similarity(a, b, data_range=L, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False,
                                       channel_axis=0 if a.ndim == 3 else None))
