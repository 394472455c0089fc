from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.propagation import Size, XInput, channels_pair, scatter_nodes
from geodl.nn.inits import reset_module
from geodl.ops.validation import check_aggr, check_channels


class NNConv(GraphLayer):
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

    adjacency_values = "edge_attr"
    needs_edge_attr = True

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 nn: torch.nn.Module, aggr: str = "add", root_weight: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        for c in ((in_channels,) if isinstance(in_channels, int) else tuple(in_channels)):
            check_channels(c, "in_channels", lazy=True)
        check_channels(out_channels, "out_channels")
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
        inp = self.prepare(x, edge_index, size, edge_attr=edge_attr)
        x_src, x_dst, g = inp.x_src, inp.x_dst, inp.graph
        w = self.nn(inp.edge_attr)
        want = x_src.shape[1] * self.out_channels
        if w.dim() != 2 or w.shape[1] != want:
            raise ValueError(f"nn: NNConv's network must map each edge's features to F_in * F_out "
                             f"= {x_src.shape[1]} * {self.out_channels} = {want} values, got "
                             f"shape {tuple(w.shape)}")
        w = w.view(-1, x_src.shape[1], self.out_channels)
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
