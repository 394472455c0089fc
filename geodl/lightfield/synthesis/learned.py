r"""Learned view synthesis: a two-stage network after Kalantari, Wang and
Ramamoorthi (2016), "Learning-based view synthesis for light field cameras".

Given N >= 4 source views :math:`I_n` at grid positions :math:`s_n = (u_n, v_n)`
(u = view row, v = view column, grid units, any real numbers) and a target
position :math:`t`, backward warping with a target-view disparity map
:math:`d` (HCI sign: px per grid step) reads

.. math:: W_n[d](y, x) = I_n\bigl(y + d\,(t_u - u_n),\; x + d\,(t_v - v_n)\bigr)

(bilinear, border-clamped; the backward warp of
``geodl.lightfield.synthesis.warp``).

**Disparity stage.** The grey sources, reduced by ``disp_scale`` (area
average), are warped at D constant disparities :math:`d_k` spaced evenly over
the scene's range. Per level, the mean over sources (minus its mean over the
levels, which removes the brightness) and the standard deviation over
sources give 2D feature channels; a CNN of dilated 3x3 convolutions maps them
to D logits per pixel, added to the plane-sweep prior :math:`-g\,\bar\sigma_k`
(:math:`\bar\sigma_k` the 3x3 mean of the standard deviation, :math:`g` learnt,
30 at the start), and the disparity is the soft-argmin
:math:`\hat d = \sum_k \operatorname{softmax}_k(\ell)\,d_k`, bilinearly
upsampled to the full resolution. Kalantari et al. regress the disparity
directly; the soft-argmin keeps it inside the range, and with the CNN's last
layer zero at initialisation the untrained network is the classical plane
sweep, which a short CPU training run then refines.

**Colour stage.** The RGB sources are warped by :math:`\hat d`; a shared
per-source CNN sees the warped view, its difference from the mean of the
warped views, :math:`\hat d / 4` and the target's offset from the source
divided by the sources' extent (so the same weights serve a 9x9 or a 7x7
sub-grid); its features are pooled over sources (mean and max) into a
decoder that predicts a residual :math:`r`, and a 1x1 head gives per-source
blending logits :math:`w_n`. The output is
:math:`\sum_n \operatorname{softmax}_n(w)\,W_n[\hat d] + r` (the head and the
decoder's last layer start at zero: the mean of the warped views). Pooling instead
of concatenation (Kalantari et al. concatenate four views) lets one network
take any number of sources.

Training (``geodl train-synthesis``, :mod:`geodl.training.synthesis`): L1 on
the colour and its gradients, through the warp, plus a small L1 term between
the disparity and the rooms' ground truth (with the colour loss alone the
disparity stage drifted late in a run, see docs/learned_synthesis.md).
The shipped weights are in ``weights/learned.pt`` + ``learned.json``
(:class:`geodl.nn.weights.WeightStore`, ``weights_only=True``).

Shapes: views (B, N, 3, H, W) in [0, 1]; positions (B, N, 2); target (B, 2);
disp_range (B, 2). Outputs: colour (B, 3, H, W) (not clipped) and disparity
(B, H, W).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.lightfield.synthesis.synthesize import register_method
from geodl.lightfield.synthesis.warp import backward_warp, sample_positions
from geodl.nn.weights import WeightStore

#: folder of the shipped weights (package data)
WEIGHTS_DIR = Path(__file__).parent / "weights"

#: the learned synthesis model's registry, weight files and model cache
STORE = WeightStore(WEIGHTS_DIR, "learned synthesis")


def _conv(cin: int, cout: int, dilation: int = 1, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation)


def _stack(cin: int, width: int, dilations: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, dil in enumerate(dilations):
        layers += [_conv(cin if i == 0 else width, width, dil), nn.LeakyReLU(0.1)]
    return nn.Sequential(*layers)


def _warp(images: Tensor, disparity: Tensor, offsets: Tensor) -> Tensor:
    """:func:`~geodl.lightfield.synthesis.warp.backward_warp` of (B, C, H, W)
    images with (B, H, W) disparities to targets ``offsets`` (B, 2) away
    (target - source), without the validity mask."""
    return backward_warp(images, disparity, torch.zeros_like(offsets), offsets)[0]


def warp_sources(views: Tensor, disparity: Tensor, offsets: Tensor) -> Tensor:
    """Backward-warp every source to the target.

    Args:
        views: (B, N, C, H, W) sources.
        disparity: (B, H, W) target-view disparity (px per grid step).
        offsets: (B, N, 2) target position minus source position (rows, cols).
    Returns:
        (B, N, C, H, W) warped sources.
    """
    B, N, C, H, W = views.shape
    d = disparity[:, None].expand(B, N, H, W).reshape(B * N, H, W)
    out = _warp(views.reshape(B * N, C, H, W), d, offsets.reshape(B * N, 2))
    return out.reshape(B, N, C, H, W)


class SynthesisNet(nn.Module):
    """The two-stage view-synthesis network (see the module docstring).

    Args:
        levels: D, disparity levels of the plane sweep.
        width: channels of the disparity CNN.
        dilations: dilation of each 3x3 layer of the disparity CNN.
        colour_width: channels of the per-source colour features.
        decoder_width: channels of the colour decoder.
        disp_scale: resolution reduction of the disparity stage (1 or 2).
    """

    def __init__(self, levels: int = 32, width: int = 24,
                 dilations: Sequence[int] = (1, 2, 4, 8, 16, 1), colour_width: int = 12,
                 decoder_width: int = 16, disp_scale: int = 2) -> None:
        super().__init__()
        if levels < 2:
            raise ValueError(f"levels: expected >= 2, got {levels}")
        if disp_scale not in (1, 2, 4):
            raise ValueError(f"disp_scale: expected 1, 2 or 4, got {disp_scale}")
        self.levels, self.disp_scale = levels, disp_scale
        self.disp_net = nn.Sequential(_stack(2 * levels, width, dilations),
                                      _conv(width, levels))
        self.encoder = _stack(9, colour_width, (1, 2))
        self.weight_head = nn.Conv2d(colour_width, 1, 1)
        self.decoder = nn.Sequential(_stack(2 * colour_width + 4, decoder_width, (1, 2, 1)),
                                     _conv(decoder_width, 3))
        #: weight of the plane-sweep prior -gain * (3x3 mean of the std) in the logits
        self.sweep_gain = nn.Parameter(torch.tensor(30.0))
        # start as the classical method (plane sweep, mean of the warped
        # views) and learn corrections: zero last layers
        for last in (self.disp_net[-1], self.decoder[-1], self.weight_head):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    # ------------------------------------------------------------ stages
    def disparity(self, views: Tensor, offsets: Tensor, disp_range: Tensor) -> Tensor:
        """(B, H, W) target disparity from (B, N, 3, H, W) sources, (B, N, 2)
        offsets (target - source) and the (B, 2) range (min, max)."""
        B, N, _, H, W = views.shape
        D, s = self.levels, self.disp_scale
        grey = (0.299 * views[:, :, 0] + 0.587 * views[:, :, 1] + 0.114 * views[:, :, 2])
        if s > 1:
            grey = F.interpolate(grey, size=(max(H // s, 1), max(W // s, 1)), mode="area")
        h, w = grey.shape[-2:]
        frac = torch.linspace(0, 1, D, device=views.device, dtype=views.dtype)
        labels = disp_range[:, :1] + (disp_range[:, 1:] - disp_range[:, :1]) * frac  # (B, D)
        # every (level, source) pair as one warp with a constant disparity;
        # at the reduced resolution a shift of d px per step is d / (W / w) px
        scale = torch.tensor([h / H, w / W], device=views.device, dtype=views.dtype)
        src = grey[:, None].expand(B, D, N, h, w).reshape(B * D * N, 1, h, w)
        off = (offsets[:, None] * scale).expand(B, D, N, 2).reshape(B * D * N, 2)
        # warp_sources' disparity is per pixel; the sweep's is constant per level
        d = labels[:, :, None, None, None].expand(B, D, N, h, w).reshape(B * D * N, h, w)
        swept = _warp(src, d, off).reshape(B, D, N, h, w)
        # sums over the (short, strided) source axis as slices: a reduction
        # kernel over dim 2 is several times slower on the CPU
        mean = sum(swept[:, :, n] for n in range(N)) / N
        var = sum((swept[:, :, n] - mean) ** 2 for n in range(N)) / N
        std = (var + 1e-6).sqrt()  # eps: a finite gradient where the sources agree
        feats = torch.cat([mean - mean.mean(1, keepdim=True), std], dim=1)
        prior = -self.sweep_gain * F.avg_pool2d(std, 3, 1, 1, count_include_pad=False)
        prob = torch.softmax(self.disp_net(feats) + prior, dim=1)
        disp = (prob * labels[:, :, None, None]).sum(1, keepdim=True)
        if (h, w) != (H, W):
            disp = F.interpolate(disp, size=(H, W), mode="bilinear", align_corners=False)
        return disp[:, 0]

    def colour(self, views: Tensor, offsets: Tensor, disparity: Tensor) -> Tensor:
        """(B, 3, H, W) colour from the sources warped by ``disparity``."""
        B, N, C, H, W = views.shape
        warped = warp_sources(views, disparity, offsets)
        mean = warped.mean(1, keepdim=True)
        extent = offsets.abs().amax(dim=(1, 2)).clamp_min(1.0)  # (B,)
        rel = (offsets / extent[:, None, None])[..., None, None].expand(B, N, 2, H, W)
        dmap = (0.25 * disparity)[:, None, None].expand(B, N, 1, H, W)
        x = torch.cat([warped, warped - mean, dmap, rel], dim=2).reshape(B * N, 9, H, W)
        f = self.encoder(x)
        logits = self.weight_head(f).reshape(B, N, 1, H, W)
        f = f.reshape(B, N, -1, H, W)
        pooled = torch.cat([f.mean(1), f.amax(1), mean[:, 0], 0.25 * disparity[:, None]], dim=1)
        blend = (torch.softmax(logits, dim=1) * warped).sum(1)
        return blend + self.decoder(pooled)

    def forward(self, views: Tensor, positions: Tensor, target: Tensor,
                disp_range: Tensor) -> tuple[Tensor, Tensor]:
        """(colour (B, 3, H, W), disparity (B, H, W)); see the module docstring."""
        if views.dim() != 5 or views.shape[2] != 3:
            raise ValueError(f"views: expected (B, N, 3, H, W), got {tuple(views.shape)}")
        B, N = views.shape[:2]
        if N < 2:
            raise ValueError(f"views: expected at least 2 sources, got {N}")
        if positions.shape != (B, N, 2):
            raise ValueError(f"positions: expected {(B, N, 2)}, got {tuple(positions.shape)}")
        if target.shape != (B, 2) or disp_range.shape != (B, 2):
            raise ValueError(f"target, disp_range: expected ({B}, 2) each, got "
                             f"{tuple(target.shape)}, {tuple(disp_range.shape)}")
        dt = views.dtype
        offsets = (target[:, None, :] - positions).to(dt)
        disp = self.disparity(views, offsets, disp_range.to(dt))
        return self.colour(views, offsets, disp), disp


STORE.register("learned", SynthesisNet)


def load_synthesis_model(checkpoint: str | Path | None = None,
                         device: torch.device | str | None = None) -> SynthesisNet:
    """The learned synthesis model in eval mode: the shipped weights, or a
    ``.pt`` file (its ``.json`` beside it) or a run folder holding ``model.pt``."""
    return STORE.load("learned", checkpoint, device)  # type: ignore[return-value]


@torch.no_grad()
def synthesize_learned(views: Tensor, positions: Sequence[tuple[float, float]],
                       targets: Sequence[tuple[float, float]],
                       disp_range: tuple[float, float], checkpoint: str | Path | None = None,
                       model: SynthesisNet | None = None) -> tuple[Tensor, Tensor]:
    """Views at ``targets`` from source ``views`` at ``positions``.

    Args:
        views: (N, 3, H, W) sources in [0, 1], N >= 4 recommended (the
            weights were trained on the 4 corners of a square, sometimes with
            its centre).
        positions: N (u, v) grid positions (u = row, v = column; reals).
        targets: T (u, v) positions to render, fractional ones included.
        disp_range: (min, max) disparity of the scene in px per grid step.
        checkpoint: weights other than the shipped ones (file or run folder).
        model: an already loaded model (overrides ``checkpoint``).
    Returns:
        colour (T, 3, H, W) clipped to [0, 1] and disparity (T, H, W).
    """
    if views.dim() != 4 or views.shape[1] != 3:
        raise ValueError(f"views: expected (N, 3, H, W), got {tuple(views.shape)}")
    N = views.shape[0]
    pos = torch.as_tensor(positions, dtype=torch.float32)
    if pos.shape != (N, 2):
        raise ValueError(f"positions: expected {N} (u, v) pairs, got shape {tuple(pos.shape)}")
    tgt = torch.as_tensor(targets, dtype=torch.float32).reshape(-1, 2)
    lo, hi = (float(v) for v in disp_range)
    if not lo < hi:
        raise ValueError(f"disp_range: expected min < max, got {disp_range!r}")
    if model is None:
        model = STORE.cached("learned", checkpoint, views.device)  # type: ignore[assignment]
    dev = views.device
    colours, disps = [], []
    for t in tgt:
        c, d = model(views[None].float(), pos[None].to(dev), t[None].to(dev),
                     torch.tensor([[lo, hi]], device=dev))
        colours.append(c[0].clamp(0, 1))
        disps.append(d[0])
    return torch.stack(colours), torch.stack(disps)


def learned_views(images: Tensor, positions: Tensor, targets: Tensor, *,
                  disp_range: tuple[float, float], disparity=None,
                  progress: bool | None = None, checkpoint: str | Path | None = None,
                  max_sources: int | None = 8) -> tuple[Tensor, Tensor]:
    """``synthesize_views(..., method="learned")``: every target from the
    sources by :class:`SynthesisNet` (the shipped weights, or ``checkpoint``).

    The network estimates its own disparity, so ``disparity`` must be None.
    With more than ``max_sources`` sources each target uses its
    ``max_sources`` nearest (grid distance; the cost grows with the number of
    sources, and the weights were trained with 4 or 5). ``valid`` marks target
    pixels whose sample, by the estimated disparity, lies inside at least one
    used source.

    Shapes: images (N, 3, H, W), positions (N, 2), targets (T, 2) ->
    (T, 3, H, W) in [0, 1], valid (T, H, W) bool.
    """
    from tqdm.auto import tqdm

    if disparity is not None:
        raise ValueError("disparity: the learned method estimates its own; pass None")
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images: the learned method needs RGB (N, 3, H, W), got "
                         f"{tuple(images.shape)}")
    if max_sources is not None and max_sources < 2:
        raise ValueError(f"max_sources: expected >= 2 or None, got {max_sources}")
    model = STORE.cached("learned", checkpoint, images.device)
    pos = positions.to(torch.float32)
    H, W = images.shape[-2:]
    out, valid = [], []
    for t in tqdm(targets.to(torch.float32), desc="learned views",
                  disable=None if progress is None else not progress):
        use = torch.arange(len(pos), device=pos.device)
        if max_sources is not None and len(pos) > max_sources:
            use = torch.cdist(t[None], pos)[0].argsort(stable=True)[:max_sources].sort().values
        colour, disp = synthesize_learned(images[use], pos[use].tolist(), [t.tolist()],
                                          disp_range, model=model)
        xs, ys = sample_positions(disp[0].expand(len(use), H, W), pos[use], t)
        inside = (xs >= 0) & (xs <= W - 1) & (ys >= 0) & (ys <= H - 1)
        out.append(colour[0])
        valid.append(inside.any(0))
    return torch.stack(out), torch.stack(valid)


register_method("learned", learned_views)
