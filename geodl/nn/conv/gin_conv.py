from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.propagation import (
    Size,
    XInput,
    check_edge_attr,
    check_x,
    gather,
    node_matmul,
    parse_graph,
    scatter_nodes,
    split_x,
)


def reset_module(nn: torch.nn.Module) -> None:
    """Re-initialise every sub-module of ``nn`` that can be (as PyG's ``reset``)."""
    for m in nn.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()


class GINConv(torch.nn.Module):
    r"""Graph isomorphism operator from `"How Powerful are Graph Neural
    Networks?" <https://arxiv.org/abs/1810.00826>`_ (Xu et al., 2019).

    .. math::
        \mathbf{x}'_i = h_{\mathbf{\Theta}}\Big((1 + \epsilon)\,\mathbf{x}_i +
        \sum_{j \in \mathcal{N}(i)} \mathbf{x}_j\Big),

    with a learnable :math:`\epsilon` when ``train_eps``: sum aggregation and
    an injective MLP make it as discriminative as the Weisfeiler-Lehman test.
    Same parameters (``eps``, ``nn.*``) and outputs as PyG's ``GINConv``; the
    neighbour sum is a CSR product (multiple edges count multiply).

    Shapes:
        - **input:** ``x`` :math:`(N, F)`, :math:`(B, N, F)` or a pair
          ``(x_src, x_dst)`` (``x_dst`` may be None: then no root term),
          ``edge_index`` :math:`(2, E)` or a sparse ``adj_t``, ``size`` *(optional)*
        - **output:** :math:`(N_t, F_{out})`
    """

    def __init__(self, nn: torch.nn.Module, eps: float = 0.0, train_eps: bool = False) -> None:
        super().__init__()
        self.nn, self.initial_eps = nn, eps
        if train_eps:
            self.eps = torch.nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_module(self.nn)
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x: XInput, edge_index: Tensor, size: Size = None) -> Tensor:
        x_src, x_dst = split_x(x)
        check_x(x_src, -1)
        g = parse_graph(edge_index, size, x_src, x_dst)
        s = g.structure()
        ones = s.edge_mask(x_src.dtype)  # all ones: the plain neighbour sum
        out = node_matmul(s, ones, x_src)
        if x_dst is not None:
            out = out + (1 + self.eps) * x_dst
        return self.nn(out)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn})"


class GINEConv(torch.nn.Module):
    r"""GIN with edge features, from `"Strategies for Pre-training Graph Neural
    Networks" <https://arxiv.org/abs/1905.12265>`_ (Hu et al., 2020).

    .. math::
        \mathbf{x}'_i = h_{\mathbf{\Theta}}\Big((1 + \epsilon)\,\mathbf{x}_i +
        \sum_{j \in \mathcal{N}(i)} \mathrm{ReLU}(\mathbf{x}_j + \mathbf{e}_{ji})\Big),

    where the edge features :math:`\mathbf{e}_{ji}` are first mapped by a
    linear layer to the node feature size when ``edge_dim`` is given. The ReLU
    makes the message depend on the edge, so this sum is per edge (a gather
    and an ``index_add``), not a CSR product. Same parameters (``eps``,
    ``nn.*``, ``lin.*``) and outputs as PyG's ``GINEConv``.

    Args:
        nn: maps node features :math:`F` to :math:`F_{out}`.
        eps: initial :math:`\epsilon`.
        train_eps: learn :math:`\epsilon`.
        edge_dim: edge feature size D, when it differs from F.

    Shapes:
        - **input:** ``x`` :math:`(N, F)`, :math:`(B, N, F)` or a pair,
          ``edge_index`` :math:`(2, E)` or a sparse ``adj_t`` whose values
          are the edge features, ``edge_attr`` :math:`(E, D)`, ``size`` *(optional)*
        - **output:** :math:`(N_t, F_{out})`
    """

    def __init__(self, nn: torch.nn.Module, eps: float = 0.0, train_eps: bool = False,
                 edge_dim: Optional[int] = None) -> None:
        super().__init__()
        self.nn, self.initial_eps = nn, eps
        if train_eps:
            self.eps = torch.nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        if edge_dim is not None:
            first = nn[0] if isinstance(nn, torch.nn.Sequential) else nn
            in_ch = getattr(first, "in_features", getattr(first, "in_channels", None))
            if in_ch is None:
                raise ValueError("nn: could not infer its input channels (needed with edge_dim)")
            self.lin = Linear(edge_dim, in_ch)
        else:
            self.lin = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_module(self.nn)
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)
        if self.lin is not None:
            self.lin.reset_parameters()

    def forward(self, x: XInput, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                size: Size = None) -> Tensor:
        x_src, x_dst = split_x(x)
        check_x(x_src, -1)
        g = parse_graph(edge_index, size, x_src, x_dst)
        if edge_attr is None:
            edge_attr = g.values
        if edge_attr is None:
            raise ValueError("edge_attr: GINEConv needs edge features (E, D)")
        check_edge_attr(edge_attr, g.num_edges)
        e = edge_attr.view(-1, 1) if edge_attr.dim() == 1 else edge_attr
        if self.lin is not None:
            e = self.lin(e)
        elif e.shape[-1] != x_src.shape[-1]:
            raise ValueError(f"edge_attr: node and edge feature sizes differ ({x_src.shape[-1]} "
                             f"vs {e.shape[-1]}); set GINEConv's edge_dim")
        msg = (gather(x_src, g.edge_index[0]) + e).relu()
        out = scatter_nodes(msg, g.edge_index[1], g.size[1], "sum")
        if x_dst is not None:
            out = out + (1 + self.eps) * x_dst
        return self.nn(out)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn})"
