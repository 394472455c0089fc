"""Sparse matrix helpers: geodl operators are torch sparse CSR tensors.

Building goes through COO (duplicates are summed), then CSR, the layout that
``torch.sparse.mm`` and the layers' matmul backend use. Conversions to scipy
exist because the factorisations (eigenbasis, heat method) live there.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

# torch warns once per process that CSR is "beta"; it is the layout we rely on.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


def sparse_csr(row: Tensor, col: Tensor, value: Tensor, shape: tuple[int, int]) -> Tensor:
    """Sum duplicate ``(row, col)`` entries and return a (n, m) torch CSR tensor."""
    idx = torch.stack([row.long(), col.long()])
    coo = torch.sparse_coo_tensor(idx, value, size=shape, check_invariants=False).coalesce()
    return coo.to_sparse_csr()


def diag_csr(values: Tensor) -> Tensor:
    """Diagonal (n, n) CSR matrix with ``values`` on the diagonal."""
    n = values.numel()
    ar = torch.arange(n, device=values.device)
    return sparse_csr(ar, ar, values, (n, n))


def to_scipy(a: Tensor) -> sp.csr_matrix:
    """torch sparse (CSR or COO) or dense tensor -> scipy CSR (same dtype)."""
    if a.layout == torch.sparse_csr:
        return sp.csr_matrix((a.values().numpy(), a.col_indices().numpy(),
                              a.crow_indices().numpy()), shape=tuple(a.shape))
    if a.layout == torch.sparse_coo:
        a = a.coalesce()
        i = a.indices().numpy()
        return sp.csr_matrix((a.values().numpy(), (i[0], i[1])), shape=tuple(a.shape))
    return sp.csr_matrix(a.detach().cpu().numpy())


def from_scipy(a: sp.spmatrix) -> Tensor:
    """scipy sparse -> torch sparse CSR (same dtype)."""
    a = sp.csr_matrix(a)
    a.sum_duplicates()
    a.sort_indices()
    return torch.sparse_csr_tensor(torch.from_numpy(a.indptr.astype(np.int64)),
                                   torch.from_numpy(a.indices.astype(np.int64)),
                                   torch.from_numpy(a.data), size=a.shape,
                                   check_invariants=False)
