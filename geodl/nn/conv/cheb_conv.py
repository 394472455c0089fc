from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.laplacian import laplacian_entries
from geodl.nn.conv.propagation import (
    GraphStructure,
    check_edge_weight,
    check_x,
    node_matmul,
    parse_graph,
)


class ChebConv(torch.nn.Module):
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
          twice the largest degree for ``None``)*
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, K: int,
                 normalization: Optional[str] = "sym", bias: bool = True,
                 cached: bool = False) -> None:
        super().__init__()
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

    def scaled_laplacian(self, g, edge_weight: Optional[Tensor], dtype: torch.dtype,
                         lambda_max: Optional[Tensor | float], batch: Optional[Tensor]
                         ) -> tuple[GraphStructure, Tensor]:
        """:math:`\\hat L` as (structure, values in CSR order)."""
        s = g.structure(self_loops=True)
        lap, deg = laplacian_entries(s, g.edge_index, edge_weight, self.normalization, dtype)
        n = g.size[0]
        ei = g.edge_index
        if lambda_max is None:
            if self.normalization is None:
                lam = 2.0 * deg.max() if deg.numel() else torch.tensor(2.0, dtype=dtype, device=ei.device)
            else:
                lam = torch.tensor(2.0, dtype=dtype, device=ei.device)
        else:
            lam = torch.as_tensor(lambda_max, dtype=dtype, device=ei.device)
            if not torch.compiler.is_compiling() and (
                    (lam <= 0).any() or not torch.isfinite(lam).all()):
                raise ValueError("lambda_max: expected positive finite values")
        if lam.numel() > 1:
            if batch is None:
                raise ValueError("lambda_max: one value per graph needs the batch vector")
            src = torch.cat([ei[0], torch.arange(n, device=ei.device)])
            lam = lam[batch[src]]
        w = 2.0 * lap / lam
        w = w.masked_fill(torch.isinf(w), 0.0)
        w = torch.cat([w[:s.num_edges], w[s.num_edges:] - 1.0])
        return s, s.sort(w)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                batch: Optional[Tensor] = None,
                lambda_max: Optional[Tensor | float] = None) -> Tensor:
        check_x(x, self.in_channels)
        cache = self._cached if self.cached else None
        if cache is None:
            g = parse_graph(edge_index, None, x, x)
            if edge_weight is None and g.values is not None:
                edge_weight = g.values
            check_edge_weight(edge_weight, g.num_edges,
                              nonnegative=self.normalization is not None)
            if batch is not None and (batch.dim() != 1 or batch.numel() != g.size[0]):
                raise ValueError(f"batch: expected shape ({g.size[0]},), got {tuple(batch.shape)}")
            cache = self.scaled_laplacian(g, edge_weight, x.dtype, lambda_max, batch)
            if self.cached:
                self._cached = (cache[0], cache[1].detach())
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
