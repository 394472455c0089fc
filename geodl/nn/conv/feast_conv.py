from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.propagation import XInput
from geodl.ops.validation import check_channels


class FeaStConv(GraphLayer):
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
    fixed pseudo-coordinates. ``N(i)`` includes i (input self-loops are
    replaced by one per node). Same parameters (``lin``, ``u``, ``c``,
    ``bias``) and outputs as PyG's ``FeaStConv``; the head sums run as CSR
    products, :math:`\mathbf{u}^\top(\mathbf{x}_j - \mathbf{x}_i)` per node.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})` or a pair ``(x_src, x_dst)``,
          ``edge_index`` :math:`(2, E)` or a sparse ``adj_t``
        - **output:** :math:`(N_t, F_{out})`
    """

    needs_target = True

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 add_self_loops: bool = True, bias: bool = True) -> None:
        super().__init__()
        check_channels(in_channels, "in_channels", lazy=True)
        check_channels(out_channels, "out_channels")
        if heads < 1:
            raise ValueError(f"heads: expected >= 1, got {heads}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.add_self_loops = add_self_loops
        self.lin = Linear(in_channels, heads * out_channels, bias=False,
                          weight_initializer="uniform")
        self.u = Linear(in_channels, heads, bias=False, weight_initializer="uniform")
        self.c = torch.nn.Parameter(torch.empty(heads))
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        self.u.reset_parameters()
        torch.nn.init.normal_(self.c, 0.0, 0.1)
        if self.bias is not None:
            torch.nn.init.normal_(self.bias, 0.0, 0.1)

    def forward(self, x: XInput, edge_index: Tensor) -> Tensor:
        inp = self.prepare(x, edge_index)
        x_src, x_dst = inp.x_src, inp.x_dst
        s = inp.structure(self_loops=self.add_self_loops)
        # u^T (x_j - x_i) = u^T x_j - u^T x_i: per node, then per entry (CSR order)
        q = torch.softmax(self.u(x_src).index_select(0, s.src) - self.u(x_dst).index_select(0, s.dst)
                          + self.c, dim=1)
        q = q * s.mean_weights(q.dtype)[:, None]  # drops replaced self-loops; the mean
        wx = self.lin(x_src).view(-1, self.heads, self.out_channels)
        out = s.op.matmul_heads(q, wx).sum(1)
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, heads={self.heads})"
