from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.learned_time_diffusion import LearnedTimeDiffusion
from geodl.nn.conv.spatial_gradient_features import SpatialGradientFeatures


class DiffusionBlock(GraphLayer):
    r"""One DiffusionNet block (Sharp et al. 2022):

    .. math::
        \mathbf{h} = \mathrm{diffuse}_{t}(\mathbf{x}),\qquad
        \mathbf{x}' = \mathbf{x} + \mathrm{MLP}\big([\mathbf{x},\;\mathbf{h},\;
        \mathrm{gradfeat}(\mathbf{h})]\big),

    learned-time diffusion (:class:`LearnedTimeDiffusion`) for spatial
    communication, rotation-invariant gradient features
    (:class:`SpatialGradientFeatures`) for directional filters, and a shared
    per-vertex MLP (the "pointwise" part), with a residual connection.

    Args:
        channels: width C (input = output).
        mlp_hidden: hidden sizes of the per-vertex MLP (default ``(C, C)``).
        dropout: dropout before each hidden linear layer.
        diffusion_method: ``"spectral"`` or ``"implicit"``.
        with_gradient_features: include the gradient features.
        with_gradient_rotations: complex (rotation-aware) gradient mixing.

    Shapes:
        - **input:** ``x`` :math:`(N, C)`, ``ops``: :class:`DiffusionOperators`
        - **output:** :math:`(N, C)`
    """

    def __init__(self, channels: int, mlp_hidden: Sequence[int] | None = None,
                 dropout: float = 0.0, diffusion_method: str = "spectral",
                 with_gradient_features: bool = True, with_gradient_rotations: bool = True
                 ) -> None:
        super().__init__()
        self.channels = channels
        self.diffusion = LearnedTimeDiffusion(channels, diffusion_method)
        self.gradient_features = SpatialGradientFeatures(
            channels, with_gradient_rotations) if with_gradient_features else None
        sizes = [channels * (3 if with_gradient_features else 2)]
        sizes += list(mlp_hidden if mlp_hidden is not None else (channels, channels))
        layers: list[torch.nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [torch.nn.Dropout(dropout), torch.nn.Linear(a, b), torch.nn.ReLU()]
        layers.append(torch.nn.Linear(sizes[-1], channels))
        self.mlp = torch.nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        self.diffusion.reset_parameters()
        if self.gradient_features is not None:
            self.gradient_features.reset_parameters()
        for m in self.mlp:
            if isinstance(m, torch.nn.Linear):
                m.reset_parameters()

    def forward(self, x: Tensor, ops) -> Tensor:
        self.check_dtype(x)
        h = self.diffusion(x, ops)
        feats = [x, h]
        if self.gradient_features is not None:
            feats.append(self.gradient_features(h, ops))
        return x + self.mlp(torch.cat(feats, dim=1))

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.channels}, "
                f"method={self.diffusion.method!r}, "
                f"gradient_features={self.gradient_features is not None})")
