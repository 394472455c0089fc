from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.propagation import (
    GraphStructure,
    check_edge_weight,
    check_x,
    node_matmul,
    parse_graph,
)


class GCNConv(torch.nn.Module):
    r"""Graph convolution from `"Semi-supervised Classification with Graph
    Convolutional Networks" <https://arxiv.org/abs/1609.02907>`_ (Kipf & Welling, 2017).

    .. math::
        \mathbf{X}' = \hat{\mathbf{D}}^{-1/2}\hat{\mathbf{A}}
        \hat{\mathbf{D}}^{-1/2}\mathbf{X}\mathbf{\Theta} + \mathbf{b},
        \qquad \hat{\mathbf{A}} = \mathbf{A} + \mathbf{I},\;
        \hat D_{ii} = \textstyle\sum_j \hat A_{ij},

    with :math:`A_{ij} = w_{ji}` the weight of edge :math:`j \to i` (so
    :math:`\hat D` sums the weights *arriving* at each node, as PyG does on a
    directed graph). It is the first-order (K = 2, :math:`\lambda_{\max} = 2`,
    one shared weight) simplification of :class:`ChebConv` with the
    renormalisation trick. Self-loops follow PyG's ``add_remaining_self_loops``:
    a node that already has a self-loop keeps its weight, the others get 1
    (2 with ``improved=True``, also without ``edge_weight``, where PyG 2.8
    silently uses 1: geodl's output then equals PyG's given unit weights).
    Degrees of 0 give 0, not inf. Checked against
    a dense :math:`\hat D^{-1/2}\hat A\hat D^{-1/2}` built by hand; state-dict
    keys (``lin.weight``, ``bias``) and outputs match PyG's ``GCNConv``.

    Args:
        in_channels: input features (-1: inferred on the first call).
        out_channels: output features.
        improved: self-loop weight 2 instead of 1.
        cached: keep the normalised operator of the first graph seen and reuse
            it (transductive learning on one fixed graph). Without it, the CSR
            structure is still reused while the same ``edge_index`` tensor is
            passed; only the normalisation (a few vector operations) is redone.
        add_self_loops: add :math:`I` before normalising (default: ``normalize``).
        normalize: apply the symmetric normalisation (else use raw weights).
        bias: learn an additive bias.
        flow: ``"source_to_target"`` (default) or ``"target_to_source"``.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})` or :math:`(B, N, F_{in})` (one
          graph, B feature sets), ``edge_index`` :math:`(2, E)` or a sparse
          ``adj_t`` :math:`(N, N)` (its values are the weights),
          ``edge_weight`` :math:`(E,)` *(optional, finite, non-negative
          when normalising)*
        - **output:** :math:`(N, F_{out})` or :math:`(B, N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 cached: bool = False, add_self_loops: Optional[bool] = None,
                 normalize: bool = True, bias: bool = True,
                 flow: str = "source_to_target") -> None:
        super().__init__()
        if add_self_loops is None:
            add_self_loops = normalize
        if add_self_loops and not normalize:
            raise ValueError(f"add_self_loops: '{self.__class__.__name__}' does not support "
                             f"adding self-loops to the graph when no on-the-fly "
                             f"normalization is applied")
        if flow not in ("source_to_target", "target_to_source"):
            raise ValueError(f"flow: expected 'source_to_target' or 'target_to_source', got {flow!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached = improved, cached
        self.add_self_loops, self.normalize, self.flow = add_self_loops, normalize, flow
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached_edge_index: Optional[tuple[GraphStructure, Tensor]] = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)
        self._cached_edge_index = None

    def _operator(self, g, edge_weight: Optional[Tensor], dtype: torch.dtype
                  ) -> tuple[GraphStructure, Tensor]:
        s = g.structure(self_loops=self.add_self_loops)
        ei = g.edge_index
        w = torch.ones(g.num_edges, dtype=dtype, device=ei.device) if edge_weight is None \
            else edge_weight.to(dtype)
        if self.add_self_loops:
            w = s.with_loops(w, s.loop_values(w, 2.0 if self.improved else 1.0))
        if self.normalize:
            dst = ei[1] if not self.add_self_loops else torch.cat(
                [ei[1], torch.arange(s.num_loops, device=ei.device)])
            deg = w.new_zeros(g.size[1]).index_add_(0, dst, w)
            dis = deg.pow(-0.5)
            dis = dis.masked_fill(torch.isinf(dis), 0.0)
            src = ei[0] if not self.add_self_loops else torch.cat(
                [ei[0], torch.arange(s.num_loops, device=ei.device)])
            w = dis[src] * w * dis[dst]
        return s, s.sort(w)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None
                ) -> Tensor:
        check_x(x, self.in_channels)
        if self.flow == "target_to_source" and edge_index.layout == torch.strided:
            edge_index = edge_index.flip(0)
        cache = self._cached_edge_index if self.cached else None
        if cache is None:
            g = parse_graph(edge_index, None, x, x)
            if edge_weight is None and g.values is not None:
                edge_weight = g.values
            check_edge_weight(edge_weight, g.num_edges, nonnegative=self.normalize)
            cache = self._operator(g, edge_weight, x.dtype)
            if self.cached:
                self._cached_edge_index = (cache[0], cache[1].detach())
        s, w = cache
        out = node_matmul(s, w.to(x.dtype), self.lin(x))
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
