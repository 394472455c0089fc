from __future__ import annotations

import torch
from torch import Tensor

from geodl.nn._checks import check_features
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from geodl.nn.conv._graph_cache import OperatorCache
from geodl.nn.inits import glorot_linear
from geodl.ops._validate import check_edge_index


class GCNConv(torch.nn.Module):
    r"""Graph convolution from `"Semi-supervised Classification with Graph
    Convolutional Networks" <https://arxiv.org/abs/1609.02907>`_ (Kipf & Welling, 2017).

    .. math::
        \mathbf{X}' = \hat{\mathbf{D}}^{-1/2}\hat{\mathbf{A}}
        \hat{\mathbf{D}}^{-1/2}\mathbf{X}\mathbf{\Theta} + \mathbf{b},
        \qquad \hat{\mathbf{A}} = \mathbf{A} + \mathbf{I},\;
        \hat D_{ii} = \textstyle\sum_j \hat A_{ij},

    the first-order (K = 2, :math:`\lambda_{\max} = 2`, one shared weight)
    simplification of :class:`ChebConv` with the renormalisation trick
    (self-loops weigh 2 with ``improved=True``). The normalisation is PyG's own
    ``gcn_norm``; the propagation runs on geodl's CSR backend. State-dict keys
    (``lin.weight``, ``bias``) and outputs match PyG's ``GCNConv``.

    Args:
        in_channels, out_channels: feature sizes.
        improved: self-loop weight 2 instead of 1.
        cached: compute the normalised operator once and reuse it (fixed graph).
        add_self_loops: add :math:`I` before normalising.
        normalize: apply the symmetric normalisation (else use raw weights).
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`,
          ``edge_weight`` :math:`(E,)` *(optional)*
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 cached: bool = False, add_self_loops: bool = True, normalize: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.add_self_loops, self.normalize = improved, add_self_loops, normalize
        self.lin = torch.nn.Linear(in_channels, out_channels, bias=False)
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cache = OperatorCache(enabled=cached)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_linear(self.lin)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)
        self._cache.clear()

    def _operator(self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int,
                  dtype: torch.dtype):
        if self.normalize:
            ei, w = gcn_norm(edge_index, edge_weight, num_nodes, self.improved,
                             self.add_self_loops, "source_to_target", dtype)
        else:
            ei = edge_index
            w = torch.ones(ei.shape[1], dtype=dtype) if edge_weight is None else edge_weight
        return OperatorCache.operator(ei, num_nodes), w.to(dtype)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        check_features(x, self.in_channels)
        check_edge_index(edge_index, x.shape[0])
        op, w = self._cache.get(lambda: self._operator(edge_index, edge_weight, x.shape[0],
                                                       x.dtype))
        h = self.lin(x)
        out = op.matmul(w, h)
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
