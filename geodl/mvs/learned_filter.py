r"""A learned per-pixel filter of multi-view stereo depth: which pixels of a
view's (filled) depth map are right.

The geometric consistency filter (:mod:`~geodl.mvs.consistency`) keeps a
pixel when two of its few neighbours confirm its depth. On rendered rooms
that rule both loses right pixels (weak texture that only views further
away confirm) and keeps wrong ones (a plane filled alike in neighbouring
views): with the filter replaced by an oracle, training room 0 goes from
F 0.757 to 0.832 (``experiments/README.md#photos-where-the-surface-is-lost``).
As in learned confidence for multi-view stereo (e.g. DeepC-MVS, Kuhn et
al., 3DV 2020), a small
classifier judges every pixel from cues no single rule combines; its
input per pixel (:data:`FEATURES`, :func:`pixel_features`):

- the sweep's confidence, whether the textureless fill set the pixel,
  whether it lies in a textureless region, the log image gradient;
- :func:`~geodl.mvs.consistency.view_support` against up to
  :data:`SUPPORT_VIEWS` views that overlap it (not only the stereo
  neighbours): views confirming it at 0.5, 1, 2 and 4 %, views seeing it,
  free-space violations, occlusions, the confirming neighbours, and the
  shares of confirming and violating views among those that see it;
- the depth map's local roughness (relative distance to the 3 x 3 median)
  and the incidence (cosine between the surface normal and the ray).

:class:`ConsistencyNet` is a multi-layer perceptron on the standardised
features (the training set's mean and deviation are buffers of the
model), trained with ``geodl train-photo-filter`` on rendered training
rooms (``geodl.training.photo_filter``); a pixel is kept when its
probability of lying within 2 % of the true depth exceeds
:data:`THRESHOLD`. It is an option of
:func:`~geodl.mvs.multi_view_stereo` (``learned_filter=True``), off by
default: it gains on rendered rooms and loses precision on a real object
photographed on black (``experiments/README.md#photos-learned-filter``).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.lightfield.depth.cost_volume import matching_features
from geodl.lightfield.depth.textureless import textureless_regions
from geodl.mvs.consistency import SUPPORT_TOLERANCES, view_support
from geodl.mvs.neighbours import select_neighbors
from geodl.mvs.slanted import depth_normals, pixel_rays
from geodl.nn.weights import WeightStore
from geodl.structures import PinholeCamera, PosedImages

#: the per-pixel input of :class:`ConsistencyNet`, in order
FEATURES = ("confidence", "filled", "textureless", "log_gradient",
            "support_0.5%", "support_1%", "support_2%", "support_4%",
            "seen", "free_space", "occluded", "neighbour_support_2%",
            "support_share", "free_space_share", "roughness", "incidence")
#: the most views a pixel is checked against, since the checks grow with the
#: number of views squared (24 photos of a room: every other view)
SUPPORT_VIEWS = 16
#: keep a pixel above this probability, as recall weighs more than precision in
#: the fused F-score (training rooms 0-5, one held out at a time, in
#: experiments/README.md#photos-learned-filter)
THRESHOLD = 0.3
#: the shipped weights and the registry of filter models
FILTER_WEIGHTS = WeightStore(Path(__file__).resolve().parent / "weights", "learned filter")


class ConsistencyNet(nn.Module):
    r"""Logit of "this pixel's depth is right" from its :data:`FEATURES`.

    .. math:: \ell = \mathrm{MLP}\big((x - \mu) / \sigma\big)

    with ReLU hidden layers; :math:`\mu, \sigma` are buffers (set from the
    training set before training, shipped with the weights).

    Args:
        features: input width (``len(FEATURES)``).
        hidden: width of each hidden layer; layers: number of hidden layers.

    Shapes:
        input (..., features) float32 -> output (...) logits.
    """

    def __init__(self, features: int = len(FEATURES), hidden: int = 32, layers: int = 2) -> None:
        super().__init__()
        for name, value in (("features", features), ("hidden", hidden), ("layers", layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        self.features, self.hidden, self.layers = features, hidden, layers
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))
        widths = [features] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            blocks += [nn.Linear(a, b), nn.ReLU()]
        self.mlp = nn.Sequential(*blocks, nn.Linear(widths[-1], 1))

    def set_standardisation(self, x: Tensor) -> None:
        """Set :math:`\\mu, \\sigma` from training features (N, features)."""
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp_min(1e-6))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.features:
            raise ValueError(f"x: expected (..., {self.features}) features, got {tuple(x.shape)}")
        return self.mlp((x - self.mean) / self.std)[..., 0]

    def __repr__(self) -> str:
        return f"ConsistencyNet({self.features}, hidden={self.hidden}, layers={self.layers})"


FILTER_WEIGHTS.register("consistency_net", ConsistencyNet)


def _incidence(depth: Tensor, cam: PinholeCamera) -> Tensor:
    """(H, W) cosine between the depth map's normal and the reversed ray."""
    rays = pixel_rays(cam, depth.device)
    normals = depth_normals(depth, rays)
    return (normals * rays).sum(-1).abs() / rays.norm(dim=-1)


def support_views(frames: PosedImages, ranges: Tensor, theta0: float) -> list[list[int]]:
    """Per view the up to :data:`SUPPORT_VIEWS` views its pixels are checked
    against: the best by :func:`~geodl.mvs.neighbours.select_neighbors`'
    score (``ranges`` (N, 2) the views' depth ranges, ``theta0`` its
    preferred angle), so that a view's stereo neighbours are among them."""
    return select_neighbors(frames, ranges, SUPPORT_VIEWS, theta0=theta0)


def pixel_features(depths: list[Tensor], cameras: list[PinholeCamera], k: int, image: Tensor,
                   confidence: Tensor, filled: Tensor, neighbours: list[int],
                   support_views: list[int]) -> Tensor:
    """(H, W, len(FEATURES)) float32 features of view ``k``'s pixels (module docstring).

    Args:
        depths, cameras: every view's depth (H, W) and camera (0 = no depth).
        image: (3, H, W) view ``k`` in [0, 1]; confidence, filled: (H, W)
            its sweep confidence and fill mask.
        neighbours: its stereo neighbours; support_views: the views it is
            checked against.
    """
    d = depths[k]
    if tuple(image.shape[-2:]) != tuple(d.shape) or confidence.shape != d.shape \
            or filled.shape != d.shape:
        raise ValueError(f"image, confidence, filled: expected (H, W) = {tuple(d.shape)} like "
                         f"depths[{k}], got {tuple(image.shape)}, {tuple(confidence.shape)}, "
                         f"{tuple(filled.shape)}")
    # one round trip per view: the neighbours' counts are part of the support's
    both = [j for j in neighbours if j in support_views]
    support = view_support(depths, cameras, k, both)
    mine = support[SUPPORT_TOLERANCES.index(0.02)].clone()
    support += view_support(depths, cameras, k, [j for j in support_views if j not in both])
    mine += view_support(depths, cameras, k, [j for j in neighbours if j not in both],
                         tolerances=(0.02,))[0]
    seen = support[4].clamp_min(1)
    regions = textureless_regions(image).to(d.device) > 0
    _, gx, gy = matching_features(image[None].float(), 1.0)[0]
    median = F.pad(d[None, None], (1, 1, 1, 1), mode="replicate").unfold(2, 3, 1).unfold(3, 3, 1)
    median = median.reshape(*d.shape, 9).median(-1).values
    rough = ((d - median).abs() / d.clamp_min(1e-6)).clamp(max=0.2) * 10
    cols = [confidence.float(), filled.float(), regions.float(), torch.log(gx.abs() + gy.abs() + 1e-3),
            *support[:4], support[4], support[5], support[6], mine,
            support[2] / seen, support[5] / seen, rough, _incidence(d.float(), cameras[k])]
    return torch.stack([c.float().to(d.device) for c in cols], -1)


def learned_filter_masks(features: list[Tensor], depths: list[Tensor],
                         threshold: float = THRESHOLD, checkpoint: str | Path | None = None
                         ) -> tuple[list[Tensor], list[Tensor]]:
    """Per view the kept pixels (H, W) bool and their probability (H, W),
    from :func:`pixel_features` and :class:`ConsistencyNet` (the shipped
    weights, or ``checkpoint``'s); pixels without depth are never kept."""
    if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise ValueError(f"threshold: expected a probability in (0, 1), got {threshold!r}")
    if not features:
        return [], []
    net = FILTER_WEIGHTS.cached("consistency_net", checkpoint, features[0].device)
    masks, probs = [], []
    with torch.no_grad():
        for x, d in zip(features, depths):
            p = torch.sigmoid(net(x))
            probs.append(p)
            masks.append((p > threshold) & (d > 0))
    return masks, probs
