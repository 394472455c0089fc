from __future__ import annotations

import torch
from torch import Tensor

from geodl.nn.conv.base import GraphLayer
from geodl.ops.validation import check_channels, check_features


class SpiralConv(GraphLayer):
    r"""Spiral convolution from `"SpiralNet++: A Fast and Highly Efficient Mesh
    Convolution Operator" <https://arxiv.org/abs/1911.05856>`_ (Gong et al., 2019).

    .. math::
        \mathbf{x}'_i = \mathbf{W}\,\big[\mathbf{x}_{S(i,1)} \,\Vert\, \dots
        \,\Vert\, \mathbf{x}_{S(i,L)}\big] + \mathbf{b},

    where :math:`S(i, \cdot)` is vertex i's fixed-length spiral
    (``geodl.ops.spiral_indices``): a canonical order of its neighbourhood,
    so the filter is an ordinary linear layer, as on an image. Padded
    positions (-1) contribute zeros. Meshes sharing connectivity (a template)
    share spirals; a batch of B such meshes can be passed as (B, V, F).

    Args:
        in_channels, out_channels: feature sizes.
        indices: (V, L) spirals: vertex indices in [0, V), -1 for padding.

    Shapes:
        - **input:** ``x`` :math:`(V, F_{in})` or :math:`(B, V, F_{in})`
        - **output:** :math:`(V, F_{out})` or :math:`(B, V, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, indices: Tensor) -> None:
        super().__init__()
        check_channels(in_channels, "in_channels")
        check_channels(out_channels, "out_channels")
        if not isinstance(indices, Tensor) or indices.dim() != 2:
            got = tuple(indices.shape) if isinstance(indices, Tensor) else type(indices).__name__
            raise ValueError(f"indices: expected shape (V, L), got {got}")
        if indices.is_floating_point() or indices.is_complex() or indices.dtype == torch.bool:
            raise ValueError(f"indices: expected integer vertex indices, got {indices.dtype}")
        if indices.numel() and (int(indices.min()) < -1 or int(indices.max()) >= indices.shape[0]):
            raise ValueError(f"indices: expected vertex indices in [0, {indices.shape[0]}) or -1 "
                             f"(padding), got range [{int(indices.min())}, {int(indices.max())}]")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.register_buffer("indices", indices.long())
        self.length = indices.shape[1]
        self.layer = torch.nn.Linear(in_channels * self.length, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.layer.weight)
        torch.nn.init.zeros_(self.layer.bias)

    def forward(self, x: Tensor) -> Tensor:
        check_features(x, self.in_channels, self.indices.shape[0], batched=True)
        self.check_dtype(x)
        single = x.dim() == 2
        xb = x[None] if single else x
        padded = torch.cat([xb, xb.new_zeros(xb.shape[0], 1, xb.shape[2])], 1)
        idx = torch.where(self.indices < 0, xb.shape[1], self.indices)  # -1 -> zero row
        gathered = padded[:, idx.reshape(-1)].reshape(xb.shape[0], idx.shape[0], -1)
        out = self.layer(gathered)
        return out[0] if single else out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, length={self.length})"
