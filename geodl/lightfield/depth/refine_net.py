r"""Learned refinement of the classical cost volume's disparity (``refine_net``):
a learned confidence drives the edge-aware least-squares propagation.

``cost_volume``'s matching is accurate where the views carry texture and
wrong in ways a local method cannot settle: foreground fattening (a
textureless background beside an object takes the object's disparity,
because the object's edge is the only texture in the aggregation window),
textureless and repetitive surfaces. Its WLS step
(:func:`~geodl.lightfield.depth.wls.wls_smooth`) can repair these from the
right pixels around them, but only as well as the confidence tells right
from wrong: on training rooms 100-102 the WLS takes mean BadPix 0.07 from
19.5 to 16.8 % with the hand-made confidence, and to 5.6 % with an oracle
that marks exactly the pixels within 0.07 px of the truth. So this network
learns that mark (the learned-confidence idea of Poggi and Mattoccia, BMVC
2016, and Seki and Pollefeys, BMVC 2016, used for propagation as in Park and
Yoon, CVPR 2018). It reads

1. ``cost_volume``'s disparity :math:`d` before its smoothing and its
   confidence;
2. the centre view (RGB), where colour edges tell where depth may jump;
3. photometric evidence of :math:`d`: every view warped to the centre by
   :math:`d` (bilinear, :math:`I_v(x - d\,\delta c_v, y - d\,\delta r_v)`),
   the mean absolute grey residual over all views and over each of the four
   half-grids (left, right, top, bottom), the four sorted so that the
   features do not change under the rotations and transposes used in
   training (an occluded half shows as a large maximum beside a small
   minimum);

and a small U-Net (5 scales, receptive field over 100 px) predicts the
logit of :math:`P(|d - d_{true}| < 0.07)`. The answer is the WLS solution
with data weight :math:`p^k c^m + 10^{-4}` (``power`` :math:`k`: the pixels the
network calls right hold, the others follow them; :math:`c` the matching's
own confidence, ``confidence_power`` :math:`m`: a pixel holds only where its
cost curve agrees), smoothness ``lam``. The
features are built on the light field's device; any grid with a centre view
works (the features do not depend on the grid size).

Input of :class:`RefineNet`: (B, 10, H, W) from :func:`refine_features`;
output: (B, H, W) logits.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.lightfield.depth.cost_volume import (
    HALVES,
    ROOM_MATCHING,
    CostVolumeConfig,
    cost_volume_disparity,
    warp_views_to_center,
)
from geodl.lightfield.depth.filters import to_grey
from geodl.lightfield.depth.learned import cached_model, register_model
from geodl.lightfield.depth.wls import wls_smooth
from geodl.ops.validation import with_options
from geodl.structures import LightField

#: channels of :func:`refine_features`: RGB, disparity, confidence, 4 sorted half residuals, all
FEATURES = 10
#: residuals are multiplied by this so that they are of order 1 in the network
RESIDUAL_SCALE = 10.0
#: the ``cost_volume`` settings of the matching the network reads, in training and
#: in use: the settings its shipped weights were trained with (``cost_volume``'s
#: matching with ``tau_grad`` 0.1 and semi-global aggregation); its WLS step
#: (``smooth``) is never run. Training caches are named by a hash of
#: ``MATCHING.matching()`` (:func:`geodl.training.depth_refine.refine_room_path`),
#: and a test pins both, so that a change of :class:`CostVolumeConfig`'s defaults
#: can neither change what the weights read nor reuse caches unnoticed
MATCHING = replace(ROOM_MATCHING, smooth=0.0)


@torch.no_grad()
def refine_features(lf: LightField, disparity: Tensor, confidence: Tensor) -> Tensor:
    """(10, H, W) network input for the light field's centre view (module docstring).

    Args:
        lf: RGB light field (U, V, 3, H, W) in [0, 1].
        disparity, confidence: (H, W) classical estimate and its confidence.
    """
    U, V, C, H, W = lf.views.shape
    if disparity.shape != (H, W) or confidence.shape != (H, W):
        raise ValueError(f"disparity, confidence: expected ({H}, {W}), got "
                         f"{tuple(disparity.shape)}, {tuple(confidence.shape)}")
    dev = lf.views.device
    r0, c0 = lf.center_index
    grey = to_grey(lf.views.float()).reshape(U * V, H, W)
    centre = grey[r0 * V + c0]
    d = disparity.to(dev).float()
    sums = torch.zeros(len(HALVES) + 1, H, W, device=dev)
    counts = torch.zeros_like(sums)
    for r in range(U):  # one view at a time: memory stays O(H W)
        for c in range(V):
            dr, dc = r - r0, c - c0
            if (dr, dc) == (0, 0):
                continue
            warped, inside = warp_views_to_center(grey[r * V + c][None, None], d, dr, dc)
            warped, inside = warped[0, 0], inside[0].float()
            res = (warped - centre).abs() * inside
            for h, member in enumerate([*HALVES, lambda a, b: True]):
                if member(dr, dc):
                    sums[h] += res
                    counts[h] += inside
    mean = sums / counts.clamp_min(1)
    halves = torch.sort(mean[:len(HALVES)], dim=0).values
    return torch.cat([lf.center_view.float().to(dev), d[None], confidence.to(dev).float()[None],
                      RESIDUAL_SCALE * halves, RESIDUAL_SCALE * mean[-1:]])


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, padding_mode="replicate"),
                         nn.LeakyReLU(0.1),
                         nn.Conv2d(cout, cout, 3, padding=1, padding_mode="replicate"),
                         nn.LeakyReLU(0.1))


class RefineNet(nn.Module):
    """U-Net predicting, per pixel, the logit that the classical disparity
    (channel 3 of :func:`refine_features`) is within 0.07 px of the truth.

    Args:
        widths: channels at each scale (full, 1/2, 1/4, ...), one scale per entry.
        in_channels: feature channels (:data:`FEATURES`).

    Input (B, in_channels, H, W); output (B, H, W) logits. Any H, W (padded
    to a multiple of 2^(scales-1) inside).
    """

    def __init__(self, widths: tuple[int, ...] | list[int] = (24, 32, 48, 64),
                 in_channels: int = FEATURES) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 1 or min(widths) < 1:
            raise ValueError(f"widths: expected positive channel counts, got {widths}")
        self.widths, self.in_channels = widths, in_channels
        self.down = nn.ModuleList([_block(in_channels, widths[0])] +
                                  [_block(a, b) for a, b in zip(widths, widths[1:])])
        self.up = nn.ModuleList([_block(b + a, a) for a, b in zip(widths, widths[1:])])
        self.out = nn.Conv2d(widths[0], 1, 3, padding=1, padding_mode="replicate")

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x: expected (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        H, W = x.shape[-2:]
        m = 2 ** (len(self.widths) - 1)
        ph, pw = (-H) % m, (-W) % m
        y = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        skips = []
        for i, block in enumerate(self.down):
            y = block(y if i == 0 else F.avg_pool2d(y, 2))
            skips.append(y)
        for i in reversed(range(len(self.up))):
            y = F.interpolate(y, size=skips[i].shape[-2:], mode="bilinear", align_corners=False)
            y = self.up[i](torch.cat([skips[i], y], 1))
        return self.out(y)[:, 0, :H, :W]


register_model("refine_net", RefineNet)


@dataclass(frozen=True)
class RefineConfig:
    """The settings of :func:`refine_net_disparity`: the WLS propagation the
    learned probability drives (module docstring) and the matching it reads.
    The WLS settings were chosen for the shipped weights on training rooms
    100-106 (never in training). Mean BadPix 0.07 / MSE x100 on the one-ray
    renders, as estimated: p^4, lam 3 10.69 / 2.79; weight 1 where p > 0.5
    10.71 / 3.24; p^4, lam 10 11.30 / 2.49; p^2 11.43 / 3.05 (cost_volume
    11.86 / 2.89)."""

    #: smoothness weight of the WLS
    lam: float = 3.0
    #: colour scale of the WLS affinities
    sigma: float = 0.02
    #: exponent k of the learned probability in the data weight p^k c^m
    power: float = 4.0
    #: exponent m of the matching's confidence c in the data weight, taken only
    #: if better on both metrics in rooms 100-102 and in 103-106. On the
    #: anti-aliased renders, snapped to planes, p^4 gives 7.64 / 2.75 and p^4 c
    #: 8.03 / 2.70; better on both in 100-102 (6.45 / 1.29 against 8.48 / 1.34),
    #: worse on both in 103-106 (8.53 / 3.85 against 7.70 / 3.73), so p^4
    #: (experiments/depth_choices.py,
    #: experiments/results/depth_choices_anti_aliased.txt,
    #: experiments/README.md#refine-net-wls-weight)
    confidence_power: float = 0.0
    #: the ``cost_volume`` matching the network reads (:data:`MATCHING`; keep
    #: it at the settings the weights were trained with)
    matching: CostVolumeConfig = MATCHING

    def __post_init__(self) -> None:
        if not isinstance(self.matching, CostVolumeConfig):
            raise TypeError(f"matching: expected a CostVolumeConfig, got "
                            f"{type(self.matching).__name__}")


#: :class:`RefineConfig`'s WLS defaults, the defaults of :func:`refine_with_confidence`
LAM, SIGMA, POWER, CONFIDENCE_POWER = (RefineConfig.lam, RefineConfig.sigma, RefineConfig.power,
                                       RefineConfig.confidence_power)


def refine_with_confidence(disparity: Tensor, probability: Tensor, guide: Tensor,
                           lam: float = LAM, sigma: float = SIGMA, power: float = POWER,
                           confidence: Tensor | None = None,
                           confidence_power: float = CONFIDENCE_POWER) -> Tensor:
    """The WLS answer from a disparity (H, W), the probability (H, W) that each
    pixel is right and the colour guide (C, H, W): data weight
    ``probability ** power * confidence ** confidence_power + 1e-4`` (a high
    power trusts only the pixels the network is sure of, without the hard cut
    of a threshold; the matching's ``confidence`` (H, W) in [0, 1], when
    given, withdraws trust where the cost curve has no clear minimum)."""
    if not (isinstance(power, (int, float)) and power > 0):
        raise ValueError(f"power: expected a positive exponent, got {power!r}")
    if not (isinstance(confidence_power, (int, float)) and confidence_power >= 0):
        raise ValueError(f"confidence_power: expected an exponent >= 0, got {confidence_power!r}")
    weight = probability.clamp(0, 1) ** power
    if confidence is not None:
        if confidence.shape != weight.shape:
            raise ValueError(f"confidence: expected shape {tuple(weight.shape)}, got "
                             f"{tuple(confidence.shape)}")
        weight = weight * confidence.to(weight).clamp(0, 1) ** confidence_power
    return wls_smooth(disparity, weight + 1e-4, guide, lam, sigma)


def refine_net_disparity(lf: LightField, disp_range: tuple[float, float],
                         checkpoint: str | Path | None = None, *,
                         config: RefineConfig | None = None, **options
                         ) -> tuple[Tensor, Tensor]:
    """``cost_volume``'s matching, a learned confidence (:class:`RefineNet`,
    shipped weights or ``checkpoint``) and the WLS propagation it drives.

    Args:
        lf: an RGB light field (U, V, 3, H, W).
        disp_range: (min, max) disparity to search, px per view step.
        checkpoint: weights to use instead of the shipped ones.
        config: the settings (:class:`RefineConfig`, its defaults when None).
        options: fields of :class:`RefineConfig` (``lam``, ``sigma``,
            ``power``, ``confidence_power``, ``matching``) or of
            :class:`~geodl.lightfield.depth.cost_volume.CostVolumeConfig`
            (they replace the matching's: keep them at the settings the
            weights were trained with, :data:`MATCHING`); any other name
            raises ``TypeError``.

    Returns:
        the disparity (H, W) and the learned probability (H, W) that the
        matching was right (the confidence).
    """
    own = {k: v for k, v in options.items() if k in RefineConfig.__dataclass_fields__}
    cfg = with_options(RefineConfig, config, own, "refine_net_disparity")
    matching = with_options(CostVolumeConfig, cfg.matching,
                            {k: v for k, v in options.items() if k not in own},
                            "refine_net_disparity")
    disp, conf = cost_volume_disparity(lf, disp_range, config=replace(matching, smooth=0.0))
    model = cached_model("refine_net", checkpoint, lf.views.device)
    x = refine_features(lf, disp, conf)
    with torch.no_grad():
        p = torch.sigmoid(model(x[None])[0])
    lo, hi = disp_range
    out = refine_with_confidence(disp, p, lf.center_view.float().to(disp.device), cfg.lam,
                                 cfg.sigma, cfg.power, conf, cfg.confidence_power)
    return out.clamp(lo, hi), p
