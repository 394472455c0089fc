r"""A target view from several source views and the target's disparity.

Every source is backward-warped to the target with the target's disparity
(:func:`~geodl.lightfield.synthesis.warp.backward_warp`) and the warped
images are averaged per pixel with weights

.. math:: w_i(p) = \frac{1}{\lVert s_i - t\rVert^2 + \epsilon_a}
          \cdot \exp\!\Big(-\frac{\lVert I_i(p) - \mu(p)\rVert^2}{2 C \sigma_p^2}\Big)
          \cdot [\text{sample inside source } i]

(angular distance, photo-consistency, validity),

:math:`s_i, t` the grid positions, :math:`C` the channels. Nearer sources see
the target's scene most alike (inverse squared distance; a source at the
target itself dominates). :math:`\mu` is the consensus: first the per-channel
median of the valid warped sources, then the weighted mean, re-weighted
``iterations`` times (iteratively re-weighted least squares): at an
occlusion the sources that see the occluder instead of the target's surface
disagree with the others and drop out. Pixels no source sees are filled
by push-pull (:func:`~geodl.lightfield.synthesis.inpaint.push_pull`) and
reported invalid.
"""
from __future__ import annotations

import torch
from torch import Tensor

from geodl.lightfield.synthesis.inpaint import push_pull
from geodl.lightfield.synthesis.warp import backward_warp


def angular_weights(positions: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """(N,) inverse squared grid distance of each source to the target."""
    return 1.0 / (((positions - target) ** 2).sum(-1) + eps)


def consensus_blend(warped: Tensor, valid: Tensor, prior: Tensor, sigma: float = 0.05,
                    iterations: int = 2) -> tuple[Tensor, Tensor]:
    """Robust weighted mean of (N, C, H, W) candidates (``valid`` (N, H, W),
    ``prior`` (N,) weights) as described in the module docstring; returns
    (image (C, H, W), weights (N, H, W) normalised where any is valid)."""
    N, C, H, W = warped.shape
    v = valid.to(warped.dtype)
    base = prior.to(warped)[:, None, None] * v  # (N, H, W); the prior on the images' device
    nan = torch.full_like(warped, torch.nan)
    mu = torch.nanmedian(torch.where(valid[:, None], warped, nan), dim=0).values
    mu = torch.nan_to_num(mu, nan=0.0)
    w = base
    for _ in range(iterations + 1):
        r2 = ((warped - mu) ** 2).sum(1) / C
        w = base * (torch.exp(-r2 / (2 * sigma ** 2)) + 1e-6)  # floor: all-disagree -> prior
        mu = (w[:, None] * warped).sum(0) / w.sum(0).clamp_min(1e-12)
    total = w.sum(0)
    return mu, torch.where(total > 0, w / total.clamp_min(1e-12), torch.zeros_like(w))


def blend_views(images: Tensor, positions, target, disparity: Tensor, sigma: float = 0.05,
                iterations: int = 2, fill: bool = True, eps: float = 1e-3
                ) -> tuple[Tensor, Tensor]:
    """Synthesise the view at ``target`` from source views.

    Args:
        images: (N, C, H, W) source views.
        positions: (N, 2) their grid positions (u, v).
        target: (u, v) of the wanted view (real numbers).
        disparity: (H, W) disparity of the TARGET view (px per view step).
        sigma: photo-consistency scale (image units: [0, 1] images -> 0.05).
        iterations: re-weighting rounds of the consensus.
        fill: push-pull fill the pixels no source sees.
        eps: angular-weight regulariser (grid steps squared).

    Returns:
        image: (C, H, W); valid: (H, W) bool, True where at least one source
        saw the pixel (False pixels are filled when ``fill``, else 0).
    """
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise ValueError(f"images: expected (N, C, H, W), got "
                         f"{tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__}")
    pos = torch.as_tensor(positions, dtype=torch.float64)
    if pos.shape != (images.shape[0], 2):
        raise ValueError(f"positions: expected ({images.shape[0]}, 2), got {tuple(pos.shape)}")
    t = torch.as_tensor(target, dtype=torch.float64)
    if t.shape != (2,) or not torch.isfinite(t).all():
        raise ValueError(f"target: expected a finite (u, v) position, got {target!r}")
    if not sigma > 0:
        raise ValueError(f"sigma: expected > 0, got {sigma}")
    warped, valid = backward_warp(images, disparity, pos, t)
    image, _ = consensus_blend(warped, valid, angular_weights(pos, t, eps), sigma, iterations)
    seen = valid.any(0)
    if fill and not bool(seen.all()):
        image = push_pull(image, seen)
    elif not fill:
        image = image * seen
    return image, seen
