r"""Graph Laplacians of weighted graphs given as PyG ``edge_index``.

With adjacency :math:`A` (``A[i, j] = w`` for an edge ``j -> i`` given as
``edge_index[:, e] = (i, j)``; symmetric for undirected graphs) and degree
:math:`D_{ii} = \sum_j A_{ij}`:

* ``None``:  :math:`L = D - A`
* ``"sym"``: :math:`L = I - D^{-1/2} A D^{-1/2}`
* ``"rw"``:  :math:`L = I - D^{-1} A`

Isolated nodes get a zero row (their inverse degree is taken as 0), as in PyG's
``get_laplacian``. Self-loops are dropped: they do not change :math:`D - A`.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse.linalg as sla
import torch
from torch import Tensor

from geodl.ops.sparse import sparse_csr, to_scipy
from geodl.ops.validation import check_edge_index

Normalization = Literal[None, "sym", "rw"]


def graph_laplacian(edge_index: Tensor, edge_weight: Tensor | None = None,
                    num_nodes: int | None = None,
                    normalization: Normalization = None,
                    dtype: torch.dtype = torch.float64) -> Tensor:
    """Return the (N, N) graph Laplacian as a torch sparse CSR tensor.

    Args:
        edge_index: (2, E) long.
        edge_weight: (E,) non-negative weights, ones if ``None``.
        num_nodes: N; ``max(edge_index) + 1`` if ``None``.
        normalization: ``None``, ``"sym"`` or ``"rw"`` (module docstring).
    """
    if normalization not in (None, "sym", "rw"):
        raise ValueError(f"normalization: expected None, 'sym' or 'rw', got {normalization!r}")
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    edge_index = check_edge_index(edge_index, num_nodes)
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.shape[1], dtype=dtype, device=edge_index.device)
    edge_weight = edge_weight.to(dtype).flatten()
    if edge_weight.numel() != edge_index.shape[1]:
        raise ValueError(f"edge_weight: expected {edge_index.shape[1]} values, "
                         f"got {edge_weight.numel()}")
    if not torch.isfinite(edge_weight).all() or (edge_weight < 0).any():
        raise ValueError("edge_weight: expected finite non-negative weights")
    keep = edge_index[0] != edge_index[1]
    row, col, w = edge_index[0][keep], edge_index[1][keep], edge_weight[keep]
    deg = torch.zeros(num_nodes, dtype=dtype, device=edge_index.device).index_add_(0, row, w)
    ar = torch.arange(num_nodes, device=edge_index.device)
    if normalization is None:
        diag, off = deg, -w
    else:
        inv = torch.where(deg > 0, deg.reciprocal(), torch.zeros_like(deg))
        diag = (deg > 0).to(dtype)
        if normalization == "sym":
            s = inv.sqrt()
            off = -s[row] * w * s[col]
        else:
            off = -inv[row] * w
    return sparse_csr(torch.cat([ar, row]), torch.cat([ar, col]),
                      torch.cat([diag, off]), (num_nodes, num_nodes))


def lambda_max(laplacian: Tensor, tol: float = 1e-4) -> float:
    """Largest eigenvalue of a symmetric Laplacian (Lanczos, ARPACK).

    For a non-symmetric ``"rw"`` Laplacian use the ``"sym"`` one: both share
    their spectrum (they are similar matrices).
    """
    n = laplacian.shape[0]
    if n == 0:
        raise ValueError("laplacian: empty matrix has no eigenvalues")
    a = to_scipy(laplacian).astype(np.float64)
    if n <= 64:
        return float(np.linalg.eigvalsh(a.toarray())[-1])
    v0 = np.random.default_rng(0).standard_normal(n)
    val = sla.eigsh(a, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
    return float(val[0])
