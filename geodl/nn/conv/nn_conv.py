from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.gin_conv import reset_module
from geodl.nn.conv.propagation import (
    Size,
    XInput,
    channels_pair,
    check_aggr,
    check_edge_attr,
    check_x,
    parse_graph,
    scatter_nodes,
    split_x,
)


class NNConv(torch.nn.Module):
    r"""Edge-conditioned convolution (the MPNN edge network) from `"Neural
    Message Passing for Quantum Chemistry" <https://arxiv.org/abs/1704.01212>`_
    (Gilmer et al., 2017) and Simonovsky & Komodakis (2017).

    .. math::
        \mathbf{x}'_i = \mathbf{\Theta}\mathbf{x}_i +
        \square_{j \in \mathcal{N}(i)} \mathbf{x}_j^\top\,
        h_{\mathbf{\Theta}}(\mathbf{e}_{ji}) + \mathbf{b},

    where the network :math:`h` maps each edge's features to an
    :math:`F_{in} \times F_{out}` weight matrix, so the filter is a learned
    function of the edge (bond type, distance, offset...). Same parameters
    (``nn.*``, ``lin.weight`` for :math:`\Theta`, ``bias``), outputs and name
    as PyG's ``NNConv``; ``EdgeConditionedConv`` is the same class. The
    per-edge matrices make this inherently per-edge work.

    Args:
        in_channels: input features, or (source, target) features.
        out_channels: output features.
        nn: maps (E, D) edge features to (E, F_in * F_out).
        aggr: ``"add"`` (``"sum"``), ``"mean"`` or ``"max"``.
        root_weight: add :math:`\Theta x_i`.
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F)` or a pair, ``edge_index`` :math:`(2, E)`
          or a sparse ``adj_t`` whose values are the edge features,
          ``edge_attr`` :math:`(E, D)`, ``size`` *(optional)*
        - **output:** :math:`(N_t, F_{out})`
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 nn: torch.nn.Module, aggr: str = "add", root_weight: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self._aggr = check_aggr(aggr, ("sum", "mean", "max"))
        self.in_channels, self.out_channels, self.nn, self.aggr = in_channels, out_channels, nn, aggr
        self.root_weight = root_weight
        cin = channels_pair(in_channels)
        self.in_channels_l = cin[0]
        if root_weight:
            self.lin = Linear(cin[1], out_channels, bias=False, weight_initializer="uniform")
        else:
            self.lin = None
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_module(self.nn)
        if self.lin is not None:
            self.lin.reset_parameters()
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def forward(self, x: XInput, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                size: Size = None) -> Tensor:
        x_src, x_dst = split_x(x)
        cin = channels_pair(self.in_channels)
        check_x(x_src, cin[0])
        if x_dst is not None:
            check_x(x_dst, cin[1])
        if x_src.dim() != 2:
            raise ValueError(f"x: NNConv takes (N, F) features, got {tuple(x_src.shape)}")
        g = parse_graph(edge_index, size, x_src, x_dst)
        if edge_attr is None:
            edge_attr = g.values
        if edge_attr is None:
            raise ValueError("edge_attr: NNConv needs edge features (E, D)")
        check_edge_attr(edge_attr, g.num_edges)
        e = edge_attr.view(-1, 1) if edge_attr.dim() == 1 else edge_attr
        w = self.nn(e).view(-1, x_src.shape[1], self.out_channels)
        ei = g.edge_index
        msg = torch.bmm(x_src.index_select(0, ei[0]).unsqueeze(1), w).squeeze(1)
        out = scatter_nodes(msg, ei[1], g.size[1], self._aggr)
        if self.lin is not None and x_dst is not None:
            out = out + self.lin(x_dst)
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"aggr={self.aggr}, nn={self.nn})")


#: The name geodl used before; the same class as :class:`NNConv`.
EdgeConditionedConv = NNConv
