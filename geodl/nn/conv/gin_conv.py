from __future__ import annotations

import torch
from torch import Tensor

from geodl.ops.validation import check_edge_index
from geodl.ops.spmm import SparseOperator


class GINConv(torch.nn.Module):
    r"""Graph isomorphism operator from `"How Powerful are Graph Neural
    Networks?" <https://arxiv.org/abs/1810.00826>`_ (Xu et al., 2019).

    .. math::
        \mathbf{x}'_i = h_{\mathbf{\Theta}}\Big((1 + \epsilon)\,\mathbf{x}_i +
        \sum_{j \in \mathcal{N}(i)} \mathbf{x}_j\Big),

    with a learnable :math:`\epsilon` when ``train_eps``: sum aggregation and
    an injective MLP make it as discriminative as the Weisfeiler-Lehman test.
    Same parameters (``eps``, ``nn.*``) and outputs as PyG's ``GINConv``; the
    neighbour sum is a CSR product.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, nn: torch.nn.Module, eps: float = 0.0, train_eps: bool = False) -> None:
        super().__init__()
        self.nn, self.initial_eps = nn, eps
        if train_eps:
            self.eps = torch.nn.Parameter(torch.tensor([eps]))
        else:
            self.register_buffer("eps", torch.tensor([eps]))

    def reset_parameters(self) -> None:
        for m in self.nn.modules():
            if m is not self.nn and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if x.dim() != 2:
            raise ValueError(f"x: expected shape (N, F), got {tuple(x.shape)}")
        ei = check_edge_index(edge_index, x.shape[0])
        op = SparseOperator.from_edge_index(ei, x.shape[0])
        agg = op.matmul(torch.ones(op.nnz, dtype=x.dtype), x, presorted=True)
        return self.nn((1 + self.eps) * x + agg)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn})"
