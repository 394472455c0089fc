r"""Graph Laplacians as values on a :class:`GraphStructure` with self-loops.

Entry order is the structure's: the E input edges (input self-loops get 0:
they are dropped, as PyG's ``get_laplacian`` drops them) followed by the N
diagonal entries. With :math:`d_j = \sum_{(j \to i)} w_{ji}` (PyG's
convention: the degree sums over the *source* row of ``edge_index``):

* ``None``: :math:`L = D - A`, off-diagonal :math:`-w_{ji}`, diagonal :math:`d`;
* ``"sym"``: :math:`L = I - D^{-1/2} A D^{-1/2}`, off-diagonal
  :math:`-w_{ji}/\sqrt{d_j d_i}`, diagonal 1;
* ``"rw"``: :math:`L = I - D^{-1} A`, off-diagonal :math:`-w_{ji}/d_j`, diagonal 1;

where :math:`1/0` is taken as 0 (isolated nodes).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from geodl.nn.conv.propagation import GraphStructure


def laplacian_entries(s: GraphStructure, edge_index: Tensor, edge_weight: Optional[Tensor],
                      normalization: Optional[str], dtype: torch.dtype
                      ) -> tuple[Tensor, Tensor]:
    """(entry-order values (E + N,), degree (N,)) of the Laplacian."""
    n = s.size[0]
    src, dst = edge_index[0], edge_index[1]
    w = torch.ones(s.num_edges, dtype=dtype, device=src.device) if edge_weight is None \
        else edge_weight.to(dtype)
    w = w * s.edge_mask(dtype)[:s.num_edges]  # drop input self-loops
    deg = w.new_zeros(n).index_add_(0, src, w)
    if normalization is None:
        return torch.cat([-w, deg]), deg
    if normalization == "sym":
        dis = deg.pow(-0.5)
        dis = dis.masked_fill(torch.isinf(dis), 0.0)
        off = -dis[src] * w * dis[dst]
    else:  # "rw"
        di = deg.pow(-1.0)
        di = di.masked_fill(torch.isinf(di), 0.0)
        off = -di[src] * w
    return torch.cat([off, torch.ones(n, dtype=dtype, device=src.device)]), deg
