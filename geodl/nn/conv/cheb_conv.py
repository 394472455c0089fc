from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.laplacian import scaled_laplacian
from geodl.nn.conv.propagation import GraphStructure, node_matmul
from geodl.ops.validation import check_channels


class ChebConv(GraphLayer):
    r"""Chebyshev spectral graph convolution from `"Convolutional Neural Networks
    on Graphs with Fast Localized Spectral Filtering"
    <https://arxiv.org/abs/1606.09375>`_ (Defferrard, Bresson & Vandergheynst, 2016).

    .. math::
        \mathbf{X}' = \sum_{k=0}^{K-1} T_k(\hat{\mathbf{L}})\,\mathbf{X}\,
        \mathbf{\Theta}_k + \mathbf{b},
        \qquad \hat{\mathbf{L}} = \frac{2\mathbf{L}}{\lambda_{\max}} - \mathbf{I},

    with the Chebyshev recurrence :math:`T_0 = I`, :math:`T_1 = \hat L`,
    :math:`T_k = 2\hat L T_{k-1} - T_{k-2}`: a filter that is a degree
    :math:`K-1` polynomial of the Laplacian (``geodl.nn.conv.laplacian``),
    hence exactly :math:`K-1`-hop localised. :math:`\lambda_{\max}` may
    differ per graph of a batch.

    Same parameters, state-dict keys and outputs as PyG's ``ChebConv``
    (``load_state_dict`` works across), computed on geodl's CSR backend.

    Args:
        in_channels: input features per node (-1: inferred on the first call).
        out_channels: output features per node.
        K: filter size (polynomial degree + 1), ``K >= 1``.
        normalization: Laplacian, ``None`` (:math:`D - A`), ``"sym"``
            (:math:`I - D^{-1/2}AD^{-1/2}`, default) or ``"rw"`` (:math:`I - D^{-1}A`).
        bias: learn an additive bias.
        cached: keep the scaled Laplacian of the first graph seen and reuse it
            (only for a fixed graph, as in transductive learning).

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})` or :math:`(B, N, F_{in})`,
          ``edge_index`` :math:`(2, E)` or a sparse ``adj_t``,
          ``edge_weight`` :math:`(E,)` *(optional; finite, non-negative for
          "sym"/"rw")*, ``batch`` :math:`(N,)` *(optional)*, ``lambda_max``
          scalar or :math:`(B,)` *(optional; default 2 for ``"sym"``/``"rw"``,
          twice the largest degree for ``None``: an upper bound, by
          Gershgorin; on a graph without edges L = 0 and any positive
          value gives the same filter)*
        - **output:** :math:`(N, F_{out})`
    """

    batched_features = True
    adjacency_values = "edge_weight"

    def __init__(self, in_channels: int, out_channels: int, K: int,
                 normalization: Optional[str] = "sym", bias: bool = True,
                 cached: bool = False) -> None:
        super().__init__()
        check_channels(in_channels, "in_channels", lazy=True)
        check_channels(out_channels, "out_channels")
        if K < 1:
            raise ValueError(f"K: expected >= 1, got {K}")
        if normalization not in (None, "sym", "rw"):
            raise ValueError(f"normalization: expected None, 'sym' or 'rw', got {normalization!r}")
        self.in_channels, self.out_channels, self.K = in_channels, out_channels, K
        self.normalization, self.cached = normalization, cached
        self.lins = torch.nn.ModuleList(
            [Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
             for _ in range(K)])
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached: Optional[tuple[GraphStructure, Tensor]] = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in self.lins:
            lin.reset_parameters()
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)
        self._cached = None

    @property
    def nonnegative_edge_weight(self) -> bool:
        return self.normalization is not None

    def scaled_laplacian(self, g, edge_weight: Optional[Tensor], dtype: torch.dtype,
                         lambda_max: Optional[Tensor | float], batch: Optional[Tensor]
                         ) -> tuple[GraphStructure, Tensor]:
        """:math:`\\hat L` of a parsed graph ``g`` as (structure, values in CSR order)."""
        s = g.structure(self_loops=True)
        return s, s.sort(scaled_laplacian(s, g.edge_index, edge_weight, self.normalization,
                                          dtype, lambda_max, batch))

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                batch: Optional[Tensor] = None,
                lambda_max: Optional[Tensor | float] = None) -> Tensor:
        cache = self._cached if self.cached else None
        if cache is None:
            inp = self.prepare(x, edge_index, edge_weight=edge_weight)
            cache = self.scaled_laplacian(inp.graph, inp.edge_weight, x.dtype, lambda_max, batch)
            if self.cached:
                self._cached = (cache[0], cache[1].detach())
        else:
            self.check_dtype(x)
            if cache[0].size[1] != x.shape[-2]:
                raise ValueError(f"x: {self.__class__.__name__}(cached=True) keeps the Laplacian "
                                 f"of its first graph ({cache[0].size[1]} nodes), got "
                                 f"{x.shape[-2]} nodes; use cached=False for other graphs")
        s, w = cache
        w = w.to(x.dtype)
        t0 = x
        out = self.lins[0](t0)
        if self.K > 1:
            t1 = node_matmul(s, w, x)
            out = out + self.lins[1](t1)
            for lin in self.lins[2:]:
                t2 = 2.0 * node_matmul(s, w, t1) - t0
                out = out + lin(t2)
                t0, t1 = t1, t2
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"K={self.K}, normalization={self.normalization})")
