from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import add_remaining_self_loops, softmax

from geodl.nn._checks import check_features
from geodl.nn.inits import glorot_linear
from geodl.ops.validation import check_edge_index
from geodl.ops.spmm import SparseOperator


class GATConv(torch.nn.Module):
    r"""Graph attention from `"Graph Attention Networks"
    <https://arxiv.org/abs/1710.10903>`_ (Veličković et al., 2018).

    .. math::
        \mathbf{x}'_i = \big\Vert_{h=1}^{H}\sum_{j \in \mathcal{N}(i)\cup\{i\}}
        \alpha^h_{ij}\,\mathbf{\Theta}^h\mathbf{x}_j + \mathbf{b},\qquad
        \alpha^h_{ij} = \operatorname{softmax}_j\!\Big(\mathrm{LeakyReLU}\big(
        \mathbf{a}^{h\top}_{s}\mathbf{\Theta}^h\mathbf{x}_j +
        \mathbf{a}^{h\top}_{t}\mathbf{\Theta}^h\mathbf{x}_i\big)\Big),

    with heads concatenated (or averaged, ``concat=False``) and dropout on
    the attention coefficients during training. Same parameters (``lin``,
    ``att_src``, ``att_dst``, ``bias``) and outputs as PyG's ``GATConv``; the
    attention-weighted sum runs as one CSR product per head, so no (E, H, C)
    message tensor is built.

    Args:
        in_channels, out_channels: feature sizes (per head for the output).
        heads: attention heads H.
        concat: concatenate heads (else average).
        negative_slope: LeakyReLU slope.
        dropout: dropout probability of the attention coefficients.
        add_self_loops: attend to the node itself too.
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`
        - **output:** :math:`(N, H F_{out})` or :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 concat: bool = True, negative_slope: float = 0.2, dropout: float = 0.0,
                 add_self_loops: bool = True, bias: bool = True) -> None:
        super().__init__()
        if heads < 1:
            raise ValueError(f"heads: expected >= 1, got {heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected in [0, 1), got {dropout}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self.lin = torch.nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        total = heads * out_channels if concat else out_channels
        self.bias = torch.nn.Parameter(torch.empty(total)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_linear(self.lin)
        for att in (self.att_src, self.att_dst):
            a = math.sqrt(6.0 / (att.shape[-2] + att.shape[-1]))
            torch.nn.init.uniform_(att, -a, a)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor,
                return_attention_weights: bool = False):
        check_features(x, self.in_channels)
        n = x.shape[0]
        ei = check_edge_index(edge_index, n)
        if self.add_self_loops:
            ei, _ = add_remaining_self_loops(ei, num_nodes=n)  # exactly one per node
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(n, H, C)
        a_src = (h * self.att_src).sum(-1)  # (N, H)
        a_dst = (h * self.att_dst).sum(-1)
        op = SparseOperator.from_edge_index(ei, n)
        src, dst = op.col, op.row  # edges in CSR (target-major) order
        alpha = F.leaky_relu(a_src[src] + a_dst[dst], self.negative_slope)
        alpha = softmax(alpha, dst, num_nodes=n)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        out = op.matmul_heads(alpha, h)
        out = out.reshape(n, H * C) if self.concat else out.mean(1)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (torch.stack([src, dst]), alpha)
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, heads={self.heads})"
