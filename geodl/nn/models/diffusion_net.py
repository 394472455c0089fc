from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from geodl.nn.conv.diffusion_block import DiffusionBlock
from geodl.ops.validation import check_dtype, check_features


class DiffusionNet(torch.nn.Module):
    r"""DiffusionNet (Sharp, Attaiki, Crane & Ovsjanikov, ACM TOG 2022): a linear
    lift to ``width`` channels, ``n_blocks`` :class:`DiffusionBlock`\ s, and a
    linear projection, on meshes or point clouds alike (through their
    precomputed :class:`~geodl.nn.diffusion_operators.DiffusionOperators`).
    Discretisation-agnostic: the same weights run on any resolution.

    Args:
        in_channels, out_channels: feature sizes.
        width: channels inside the blocks.
        n_blocks: number of blocks.
        outputs_at: ``"vertices"`` (per vertex) or ``"global_mean"`` (one row
            per shape: mass-weighted mean over its vertices).
        last_activation: applied to the output (e.g. ``torch.nn.LogSoftmax(-1)``).
        dropout, diffusion_method, with_gradient_features: see :class:`DiffusionBlock`.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})` (e.g. xyz or HKS), ``ops``
        - **output:** :math:`(N, F_{out})` or :math:`(B, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 128,
                 n_blocks: int = 4, outputs_at: str = "vertices",
                 last_activation: torch.nn.Module | None = None, dropout: float = 0.0,
                 diffusion_method: str = "spectral", with_gradient_features: bool = True
                 ) -> None:
        super().__init__()
        if outputs_at not in ("vertices", "global_mean"):
            raise ValueError(f"outputs_at: expected 'vertices' or 'global_mean', got {outputs_at!r}")
        self.in_channels, self.out_channels, self.width = in_channels, out_channels, width
        self.outputs_at = outputs_at
        self.first = torch.nn.Linear(in_channels, width)
        self.blocks = torch.nn.ModuleList([
            DiffusionBlock(width, dropout=dropout, diffusion_method=diffusion_method,
                           with_gradient_features=with_gradient_features)
            for _ in range(n_blocks)])
        self.last = torch.nn.Linear(width, out_channels)
        self.last_activation = last_activation

    def reset_parameters(self) -> None:
        self.first.reset_parameters()
        self.last.reset_parameters()
        for b in self.blocks:
            b.reset_parameters()

    def forward(self, x: Tensor, ops) -> Tensor:
        check_features(x, self.in_channels, ops.num_nodes)
        check_dtype(x, next(self.parameters()).dtype, self.__class__.__name__)
        h = self.first(x)
        for block in self.blocks:
            h = block(h, ops)
        h = self.last(h)
        if self.outputs_at == "global_mean":
            m = ops.mass.to(h.dtype)[:, None]
            h = scatter(h * m, ops.batch, 0, dim_size=ops.num_graphs, reduce="sum") / \
                scatter(m, ops.batch, 0, dim_size=ops.num_graphs, reduce="sum")
        return self.last_activation(h) if self.last_activation is not None else h

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"width={self.width}, n_blocks={len(self.blocks)}, outputs_at={self.outputs_at!r})")
