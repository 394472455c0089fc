r"""Cost-volume disparity network in the LFattNet / OACC-Net family (Tsai et
al., AAAI 2020; Wang et al., CVPR 2022), small enough to train on a CPU.

1. A shared 2-D feature extractor maps each of the ``S`` star views (centre
   row, column and diagonals of the grid) to ``F`` feature channels,
   :math:`f_v = \phi(I_v)`.
2. For each disparity label :math:`d_k` every view's features are shifted
   into the centre frame with sub-pixel bilinear sampling,
   :math:`\tilde f_v(x, y) = f_v(x - d_k \delta c_v, y - d_k \delta r_v)`
   (:func:`~geodl.ops.sampling.sample_at_pixels`), and compared with the centre's,
   :math:`e_v = |\tilde f_v - f_c|` (F channels), :math:`\bar e_v` its mean.
3. Occlusion-aware view weighting: an occluder hides a point from the views
   on one side, whose errors are then large, so views are weighted by
   :math:`w_v = \mathrm{softmax}_v(-\alpha \bar e_v + b_v)` with a learned
   sharpness :math:`\alpha > 0` and per-view attention :math:`b_v`; the cost
   feature is :math:`\sum_v w_v e_v` (F channels), concatenated with
   :math:`f_c` (image context), giving (B, 2F, D, H, W).
4. A 3-D CNN aggregates over (D, H, W) to logits :math:`s_k`; the disparity is
   the soft-argmin :math:`\hat d = \sum_k \mathrm{softmax}(s)_k d_k`, and the
   confidence is the softmax mass within one label of :math:`\hat d`.

The 3-D convolutions are translation-invariant along D, so the label grid at
inference may cover any range with the trained spacing ``label_step``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.lightfield.depth.filters import to_grey
from geodl.lightfield.depth.learned import model_for, register_model, star_views
from geodl.ops.sampling import sample_at_pixels
from geodl.structures import LightField


def _conv2d(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="replicate")


class CostNet(nn.Module):
    """Shared features -> shifted-feature cost volume with occlusion-aware view
    weights -> 3-D aggregation -> soft-argmin.

    Args:
        n_views: grid size n (an n x n grid; the star views are used).
        features: feature channels F per view.
        width: channels of the extractor and of the 3-D aggregation.
        depth3d: 3-D convolutions before the output one.
        label_step: spacing of the disparity labels in px.

    Input: (B, S, H, W) grey star views in [0, 1] (order of
    :func:`~geodl.lightfield.depth.learned.star_views`) and the (D,) labels;
    output: disparity (B, H, W) and label probabilities (B, D, H, W).
    """

    def __init__(self, n_views: int = 9, features: int = 8, width: int = 16, depth3d: int = 3,
                 label_step: float = 0.5) -> None:
        super().__init__()
        if min(n_views, features, width, depth3d) < 1 or not label_step > 0:
            raise ValueError("n_views, features, width, depth3d: expected >= 1; label_step > 0")
        self.n_views, self.label_step = n_views, float(label_step)
        grid = star_views(n_views)
        m = n_views // 2
        self.centre = grid.index((m, m))
        off = torch.tensor([(r - m, c - m) for r, c in grid], dtype=torch.float32)
        self.register_buffer("offsets", off, persistent=False)  # (S, 2) (dr, dc)
        self.extract = nn.Sequential(_conv2d(1, width), nn.ReLU(inplace=True),
                                     _conv2d(width, width), nn.ReLU(inplace=True),
                                     _conv2d(width, width), nn.ReLU(inplace=True),
                                     _conv2d(width, features))
        self.sharpness = nn.Parameter(torch.tensor(0.0))
        self.view_bias = nn.Parameter(torch.zeros(len(grid)))
        layers: list[nn.Module] = [nn.Conv3d(2 * features, width, 3, padding=1),
                                   nn.ReLU(inplace=True)]
        for _ in range(depth3d - 1):
            layers += [nn.Conv3d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv3d(width, 1, 3, padding=1))
        self.aggregate = nn.Sequential(*layers)

    def labels(self, disp_range: tuple[float, float], device=None) -> Tensor:
        """Labels at ``label_step`` covering ``disp_range`` plus one step each side."""
        lo, hi = float(disp_range[0]), float(disp_range[1])
        n = int(math.ceil((hi - lo) / self.label_step)) + 3
        centre = 0.5 * (lo + hi)
        return centre + (torch.arange(n, device=device, dtype=torch.float32) - (n - 1) / 2) \
            * self.label_step

    def cost(self, views: Tensor, labels: Tensor) -> Tensor:
        """(B, S, H, W) views, (D,) labels -> (B, 2F, D, H, W) cost features."""
        B, S, H, W = views.shape
        if S != len(self.view_bias):
            raise ValueError(f"views: expected {len(self.view_bias)} star views, got {S}")
        f = self.extract((views - 0.5).reshape(B * S, 1, H, W))
        Fc = f.shape[1]
        f = f.reshape(B, S, Fc, H, W)
        fc = f[:, self.centre]
        others = [i for i in range(S) if i != self.centre]
        fo = f[:, others].reshape(B * (S - 1), Fc, H, W)
        off = self.offsets[others].to(views.dtype)
        ys, xs = torch.meshgrid(torch.arange(H, device=views.device, dtype=views.dtype),
                                torch.arange(W, device=views.device, dtype=views.dtype),
                                indexing="ij")
        alpha = F.softplus(self.sharpness) * 10.0
        bias = self.view_bias[others][None, :, None, None]
        slices = []
        for d in labels.to(views.dtype):
            # sample view v at (x - d dc, y - d dr)
            sx = xs[None] - d * off[:, 1, None, None]  # (S-1, H, W)
            sy = ys[None] - d * off[:, 0, None, None]
            sx = sx[None].expand(B, -1, -1, -1).reshape(B * (S - 1), H, W)
            sy = sy[None].expand(B, -1, -1, -1).reshape(B * (S - 1), H, W)
            shifted = sample_at_pixels(fo, sx, sy).reshape(B, S - 1, Fc, H, W)
            err = (shifted - fc[:, None]).abs()
            w = torch.softmax(-alpha * err.mean(2) + bias, dim=1)  # (B, S-1, H, W)
            slices.append((w[:, :, None] * err).sum(1))
        cost = torch.stack(slices, 2)  # (B, F, D, H, W)
        return torch.cat([cost, fc[:, :, None].expand_as(cost)], 1)

    def forward(self, views: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        logits = self.aggregate(self.cost(views, labels))[:, 0]  # (B, D, H, W)
        prob = torch.softmax(logits, 1)
        disp = (prob * labels.to(prob.dtype)[None, :, None, None]).sum(1)
        return disp, prob

    def confidence(self, disp: Tensor, prob: Tensor, labels: Tensor) -> Tensor:
        """Softmax mass within one label step of the estimate, (B, H, W) in [0, 1]."""
        near = (labels[None, :, None, None] - disp[:, None]).abs() <= self.label_step
        return (prob * near).sum(1).clamp(0, 1)


def cost_net_input(views: Tensor) -> Tensor:
    """(U, V, H, W) or (B, U, V, H, W) grey views -> (B, S, H, W) star views."""
    if views.dim() == 4:
        views = views[None]
    return torch.stack([views[:, r, c] for r, c in star_views(views.shape[1])], 1)


register_model("cost_net", CostNet)


@torch.no_grad()
def cost_net_disparity(lf: LightField, disp_range: tuple[float, float],
                       checkpoint: str | None = None) -> tuple[Tensor, Tensor]:
    """Disparity and confidence (H, W) by the cost-volume network, on the
    light field's device, searching ``disp_range`` (plus one label each side).

    Args:
        checkpoint: weights to use (see :func:`~geodl.lightfield.depth.learned.load_model`);
            default the shipped ones.
    """
    model = model_for(lf, "cost_net", checkpoint)
    labels = model.labels(disp_range, lf.views.device)
    disp, prob = model(cost_net_input(to_grey(lf.views.float())), labels)
    return disp[0], model.confidence(disp, prob, labels)[0]
