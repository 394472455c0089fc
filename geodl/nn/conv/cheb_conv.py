from __future__ import annotations

import torch
from torch import Tensor

from geodl.nn._checks import check_features
from torch_geometric.utils import get_laplacian

from geodl.nn.conv._graph_cache import OperatorCache
from geodl.nn.inits import glorot_linear
from geodl.ops._validate import check_edge_index


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
    :math:`K-1` polynomial of the Laplacian, hence exactly :math:`K-1`-hop
    localised. :math:`\lambda_{\max}` may differ per graph of a batch.

    Same parameters, state-dict keys and outputs as PyG's ``ChebConv``
    (``load_state_dict`` works across), computed on geodl's CSR backend.

    Args:
        in_channels: input features per node.
        out_channels: output features per node.
        K: filter size (polynomial degree + 1), ``K >= 1``.
        normalization: Laplacian, ``None`` (:math:`D - A`), ``"sym"``
            (:math:`I - D^{-1/2}AD^{-1/2}`, default) or ``"rw"`` (:math:`I - D^{-1}A`).
        bias: learn an additive bias.
        cached: keep the scaled Laplacian of the first graph seen and reuse it
            (only for a fixed graph, as in transductive learning).

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`,
          ``edge_weight`` :math:`(E,)` *(optional)*, ``batch`` :math:`(N,)`
          *(optional)*, ``lambda_max`` scalar or :math:`(B,)` *(optional;
          default as PyG: 2 for ``"sym"``/``"rw"``, twice the largest degree for ``None``)*
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, K: int,
                 normalization: str | None = "sym", bias: bool = True,
                 cached: bool = False) -> None:
        super().__init__()
        if K < 1:
            raise ValueError(f"K: expected >= 1, got {K}")
        if normalization not in (None, "sym", "rw"):
            raise ValueError(f"normalization: expected None, 'sym' or 'rw', got {normalization!r}")
        self.in_channels, self.out_channels, self.K = in_channels, out_channels, K
        self.normalization = normalization
        self.lins = torch.nn.ModuleList(
            [torch.nn.Linear(in_channels, out_channels, bias=False) for _ in range(K)])
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cache = OperatorCache(enabled=cached)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in self.lins:
            glorot_linear(lin)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)
        self._cache.clear()

    def scaled_laplacian(self, edge_index: Tensor, num_nodes: int,
                         edge_weight: Tensor | None, dtype: torch.dtype,
                         lambda_max: Tensor | float | None, batch: Tensor | None):
        """The operator :math:`\\hat L` as (SparseOperator, values)."""
        ei, w = get_laplacian(edge_index, edge_weight, self.normalization, dtype, num_nodes)
        if lambda_max is None:
            lam = 2.0 * w.max() if w.numel() else torch.tensor(2.0, dtype=dtype)
        else:
            lam = torch.as_tensor(lambda_max, dtype=dtype)
            if (lam <= 0).any() or not torch.isfinite(lam).all():
                raise ValueError("lambda_max: expected positive finite values")
        if lam.numel() > 1:
            if batch is None:
                raise ValueError("lambda_max: one value per graph needs the batch vector")
            lam = lam[batch[ei[0]]]
        w = 2.0 * w / lam
        w = torch.where(ei[0] == ei[1], w - 1.0, w)
        return self._cache.operator(ei, num_nodes), w

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None,
                batch: Tensor | None = None,
                lambda_max: Tensor | float | None = None) -> Tensor:
        check_features(x, self.in_channels)
        check_edge_index(edge_index, x.shape[0])
        op, w = self._cache.get(lambda: self.scaled_laplacian(
            edge_index, x.shape[0], edge_weight, x.dtype, lambda_max, batch))
        t0 = x
        out = self.lins[0](t0)
        if self.K > 1:
            t1 = op.matmul(w, x)
            out = out + self.lins[1](t1)
            for lin in self.lins[2:]:
                t2 = 2.0 * op.matmul(w, t1) - t0
                out = out + lin(t2)
                t0, t1 = t1, t2
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"K={self.K}, normalization={self.normalization})")
