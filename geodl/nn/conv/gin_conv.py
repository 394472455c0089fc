from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.base import GraphLayer, nn_in_features
from geodl.nn.conv.propagation import Size, XInput, gather, node_matmul, scatter_nodes
from geodl.nn.inits import reset_module


class GINConv(GraphLayer):
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
          ``edge_index`` :math:`(2, E)` or a sparse ``adj_t``, ``size`` *(optional)*;
          F is what ``nn`` takes (checked where its first layer says it)
        - **output:** :math:`(N_t, F_{out})`
    """

    batched_features = True

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

    def input_channels(self) -> tuple[int, int]:
        f = nn_in_features(self.nn)
        return f, f

    def forward(self, x: XInput, edge_index: Tensor, size: Size = None) -> Tensor:
        inp = self.prepare(x, edge_index, size)
        s = inp.structure()
        ones = s.edge_mask(inp.x_src.dtype)  # all ones: the plain neighbour sum
        out = node_matmul(s, ones, inp.x_src)
        if inp.x_dst is not None:
            out = out + (1 + self.eps) * inp.x_dst
        return self.nn(out)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn})"


class GINEConv(GraphLayer):
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

    batched_features = True
    adjacency_values = "edge_attr"
    needs_edge_attr = True

    def __init__(self, nn: torch.nn.Module, eps: float = 0.0, train_eps: bool = False,
                 edge_dim: Optional[int] = None) -> None:
        super().__init__()
        self.nn, self.initial_eps = nn, eps
        if train_eps:
            self.eps = torch.nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        if edge_dim is not None:
            in_ch = nn_in_features(nn)
            if in_ch < 1:
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

    def input_channels(self) -> tuple[int, int]:
        f = nn_in_features(self.nn)
        return f, f

    def forward(self, x: XInput, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                size: Size = None) -> Tensor:
        inp = self.prepare(x, edge_index, size, edge_attr=edge_attr)
        x_src, x_dst, e = inp.x_src, inp.x_dst, inp.edge_attr
        if self.lin is not None:
            if self.lin.in_channels > 0 and e.shape[-1] != self.lin.in_channels:
                raise ValueError(f"edge_attr: expected shape ({inp.num_edges}, "
                                 f"{self.lin.in_channels}) (edge_dim), got {tuple(e.shape)}")
            e = self.lin(e)
        elif e.shape[-1] != x_src.shape[-1]:
            raise ValueError(f"edge_attr: node and edge feature sizes differ ({x_src.shape[-1]} "
                             f"vs {e.shape[-1]}); set GINEConv's edge_dim")
        msg = (gather(x_src, inp.edge_index[0]) + e).relu()
        out = scatter_nodes(msg, inp.edge_index[1], inp.size[1], "sum")
        if x_dst is not None:
            out = out + (1 + self.eps) * x_dst
        return self.nn(out)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn})"
