r"""EPINet-style disparity network (after Shin et al., "EPINET: A fully
convolutional neural network using epipolar geometry for depth from light
field images", CVPR 2018), small enough to train on a laptop CPU.

The four view stacks of a 9 x 9 grid through the centre (0, 90, 45 and 135
degrees, :func:`~geodl.lightfield.depth.learned.star_stacks`), each (n, H, W)
grey images, go through their own convolution stream; a point at disparity
:math:`d` moves by :math:`d` px per view along each stack's direction, which
the stream's 3 x 3 filters see as an oriented line in the stack. The four
streams' features are concatenated and a merge stack of residual convolution
blocks regresses the disparity per pixel:

.. math:: (B, 4, n, H, W) \xrightarrow{4 \times \text{stream}} (B, 4w, H, W)
          \xrightarrow{\text{merge}} (B, 1, H, W).

Every convolution is 3 x 3 with replicate padding ('same' size), so the net
is fully convolutional and the output is H x W for any H x W. Unlike the
original (valid convolutions, batch norm) there is no normalisation layer
(outputs do not depend on the batch, data-parallel ranks stay identical);
He initialisation and identity-initialised residual merge blocks let it train
without one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.lightfield.depth.filters import to_grey
from geodl.lightfield.depth.learned import model_for, register_model, star_stacks
from geodl.structures import LightField


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="replicate")


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [_conv(cin, cout), nn.ReLU(inplace=True), _conv(cout, cout), nn.ReLU(inplace=True)]


class _Residual(nn.Module):
    """relu(x + conv(relu(conv(x)))), the second convolution initialised to
    zero so the block starts as the identity (deep stacks without a
    normalisation layer then train; a plain 16-layer stack with PyTorch's
    default initialisation collapsed to a constant output)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.a, self.b = _conv(width, width), _conv(width, width)
        nn.init.zeros_(self.b.weight)
        nn.init.zeros_(self.b.bias)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.b(torch.relu(self.a(x))))


class EPINet(nn.Module):
    """Multi-stream EPI network.

    Args:
        n_views: views per stack (the grid size, 9 for HCI).
        width: channels of each stream (the merge has 4 x width).
        stream_blocks: two-convolution blocks per stream.
        merge_blocks: two-convolution blocks after the merge.
        normalize: divide the input by the centre view's local contrast
            (:func:`local_contrast`) instead of only centring it.

    Input (B, 4, n_views, H, W) grey stacks in [0, 1]; output (B, H, W) disparity in px.
    """

    def __init__(self, n_views: int = 9, width: int = 16, stream_blocks: int = 3,
                 merge_blocks: int = 5, normalize: bool = False) -> None:
        super().__init__()
        self.normalize = bool(normalize)
        if min(n_views, width, stream_blocks, merge_blocks) < 1:
            raise ValueError("n_views, width, stream_blocks, merge_blocks: expected >= 1")
        self.n_views = n_views

        def stream() -> nn.Sequential:
            layers = _block(n_views, width)
            for _ in range(stream_blocks - 1):
                layers += _block(width, width)
            return nn.Sequential(*layers)

        self.streams = nn.ModuleList(stream() for _ in range(4))
        self.merge = nn.Sequential(*(_Residual(4 * width) for _ in range(merge_blocks)))
        self.head = nn.Sequential(_conv(4 * width, 4 * width), nn.ReLU(inplace=True),
                                  _conv(4 * width, 1))
        for m in self.modules():  # He initialisation (ReLU gain), zero biases
            if isinstance(m, nn.Conv2d) and not (m.weight == 0).all():
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, stacks: Tensor) -> Tensor:
        if stacks.dim() != 5 or stacks.shape[1] != 4 or stacks.shape[2] != self.n_views:
            raise ValueError(f"stacks: expected (B, 4, {self.n_views}, H, W), "
                             f"got {tuple(stacks.shape)}")
        x = local_contrast(stacks) if self.normalize else stacks - 0.5
        feats = torch.cat([s(x[:, i]) for i, s in enumerate(self.streams)], 1)
        return self.head(self.merge(feats))[:, 0]

    def receptive_radius(self) -> int:
        """Pixels of context each output sees on each side (one per 3 x 3 layer on its path)."""
        convs = lambda seq: sum(isinstance(m, nn.Conv2d) for m in seq.modules())  # noqa: E731
        return convs(self.streams[0]) + convs(self.merge) + convs(self.head)


def local_contrast(stacks: Tensor, radius: int = 7, eps: float = 0.02) -> Tensor:
    r"""(B, 4, n, H, W) stacks -> :math:`(I - \mu_c) / (\sigma_c + \epsilon)` with
    :math:`\mu_c, \sigma_c` the mean and standard deviation of the centre view
    over a (2 radius + 1)^2 window. The same local affine map for every view
    keeps their relation; it removes the contrast and brightness that the
    disparity does not depend on, identically on patches and whole images."""
    c = stacks[:, 0, stacks.shape[2] // 2][:, None]  # (B, 1, H, W)
    k = 2 * radius + 1
    pad = lambda t: F.pad(t, (radius,) * 4, mode="replicate")  # noqa: E731
    mu = F.avg_pool2d(pad(c), k, stride=1)
    var = (F.avg_pool2d(pad(c * c), k, stride=1) - mu * mu).clamp_min(0)
    return (stacks - mu[:, None]) / (var.sqrt()[:, None] + eps)


def epinet_input(views: Tensor) -> Tensor:
    """(U, V, H, W) or (B, U, V, H, W) grey views -> (B, 4, n, H, W) stacks."""
    if views.dim() == 4:
        views = views[None]
    n = views.shape[1]
    stacks = star_stacks(n)
    return torch.stack([torch.stack([views[:, r, c] for r, c in s], 1) for s in stacks], 1)


register_model("epinet", EPINet)


@torch.no_grad()
def epinet_disparity(lf: LightField, disp_range: tuple[float, float],
                     checkpoint: str | None = None) -> tuple[Tensor, Tensor]:
    """Disparity and confidence (H, W) by the EPINet-style network, on the
    light field's device.

    The network regresses the disparity directly, so ``disp_range`` only
    clamps its answer. Confidence: :math:`\\exp(-|d - \\mathrm{med}_{3\\times3} d| / 0.1)`,
    high where the answer agrees with its neighbours.

    Args:
        checkpoint: weights to use (see :func:`~geodl.lightfield.depth.learned.load_model`);
            default the shipped ones.
    """
    model = model_for(lf, "epinet", checkpoint)
    disp = model(epinet_input(to_grey(lf.views.float())))[0]
    disp = disp.clamp(float(disp_range[0]), float(disp_range[1]))
    H, W = disp.shape
    pad = torch.nn.functional.pad(disp[None, None], (1, 1, 1, 1), mode="replicate")[0, 0]
    med = pad.unfold(0, 3, 1).unfold(1, 3, 1).reshape(H, W, 9).median(-1).values
    return disp, torch.exp(-(disp - med).abs() / 0.1)
