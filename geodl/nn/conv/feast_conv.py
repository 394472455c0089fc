from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import add_remaining_self_loops

from geodl.nn._checks import check_features
from geodl.nn.inits import glorot_linear
from geodl.ops.validation import check_edge_index
from geodl.ops.spmm import SparseOperator


class FeaStConv(torch.nn.Module):
    r"""Feature-steered convolution from `"FeaStNet: Feature-Steered Graph
    Convolutions for 3D Shape Analysis" <https://arxiv.org/abs/1706.05206>`_
    (Verma, Boyer & Verbeek, 2018).

    .. math::
        \mathbf{x}'_i = \frac{1}{|\mathcal{N}(i)|}\sum_{j \in \mathcal{N}(i)}
        \sum_{h=1}^{H} q_h(\mathbf{x}_i, \mathbf{x}_j)\,\mathbf{W}_h\mathbf{x}_j
        + \mathbf{b},\qquad
        q_h = \operatorname{softmax}_h\big(\mathbf{u}_h^\top(\mathbf{x}_j -
        \mathbf{x}_i) + c_h\big):

    the assignment of neighbours to the H weight matrices is learned from the
    features themselves (translation invariant in feature space) instead of
    fixed pseudo-coordinates. ``N(i)`` includes i (self-loops added).
    Same parameters (``lin``, ``u``, ``c``, ``bias``) and outputs as PyG's
    ``FeaStConv``; the head sums run as CSR products.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 add_self_loops: bool = True, bias: bool = True) -> None:
        super().__init__()
        if heads < 1:
            raise ValueError(f"heads: expected >= 1, got {heads}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.add_self_loops = add_self_loops
        self.lin = torch.nn.Linear(in_channels, heads * out_channels, bias=False)
        self.u = torch.nn.Linear(in_channels, heads, bias=False)
        self.c = torch.nn.Parameter(torch.empty(heads))
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_linear(self.lin)
        glorot_linear(self.u)
        torch.nn.init.normal_(self.c, 0.0, 0.1)
        if self.bias is not None:
            torch.nn.init.normal_(self.bias, 0.0, 0.1)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        check_features(x, self.in_channels)
        n = x.shape[0]
        ei = check_edge_index(edge_index, n)
        if self.add_self_loops:
            ei, _ = add_remaining_self_loops(ei, num_nodes=n)  # exactly one per node
        op = SparseOperator.from_edge_index(ei, n)
        ux = self.u(x)  # u^T (x_j - x_i) = u^T x_j - u^T x_i: per node, then per edge
        q = torch.softmax(ux[op.col] - ux[op.row] + self.c, dim=1)  # (E, H) in CSR order
        wx = self.lin(x).view(n, self.heads, self.out_channels)
        out = op.matmul_heads(q, wx).sum(1)
        deg = torch.bincount(ei[1], minlength=n).clamp_min(1).to(x.dtype)
        out = out / deg[:, None]
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, heads={self.heads})"
