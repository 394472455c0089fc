r"""Spectral transforms of node features on a truncated eigenbasis, per graph.

For a graph (or mesh) with M-orthonormal eigenvectors :math:`\Phi` (N, k)
and lumped mass :math:`M` (identity for graphs), the forward transform is
:math:`\hat X = \Phi^\top M X` (k, C) and the inverse :math:`X = \Phi\hat X`.
In a PyG batch every graph has its own basis: ``evecs`` stacks each node's
row of its own graph's basis, and ``batch`` says which graph a node is in.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _ptr(batch: Tensor | None, n: int) -> list[tuple[int, int]]:
    if batch is None:
        return [(0, n)]
    if batch.numel() != n:
        raise ValueError(f"batch: expected {n} entries, got {batch.numel()}")
    if batch.numel() and (batch[1:] < batch[:-1]).any():
        raise ValueError("batch: expected sorted graph ids (a PyG batch vector)")
    counts = torch.bincount(batch)
    ends = torch.cumsum(counts, 0).tolist()
    starts = [0] + ends[:-1]
    return list(zip(starts, ends))


def check_basis(x: Tensor, evecs: Tensor, evals: Tensor, mass: Tensor | None,
                batch: Tensor | None) -> Tensor:
    """Validate shapes; return evals as (B, k)."""
    n = x.shape[0]
    if evecs.dim() != 2 or evecs.shape[0] != n:
        raise ValueError(f"evecs: expected shape ({n}, k), got {tuple(evecs.shape)}")
    k = evecs.shape[1]
    num_graphs = 1 if batch is None else (int(batch.max()) + 1 if batch.numel() else 0)
    ev = evals.reshape(1, -1) if evals.dim() == 1 else evals
    if ev.shape[1] != k or ev.shape[0] not in (1, num_graphs):
        raise ValueError(f"evals: expected shape ({k},) or ({num_graphs}, {k}), "
                         f"got {tuple(evals.shape)}")
    if mass is not None and mass.shape != (n,):
        raise ValueError(f"mass: expected shape ({n},), got {tuple(mass.shape)}")
    return ev.expand(num_graphs, k)


def to_spectral(x: Tensor, evecs: Tensor, mass: Tensor | None = None,
                batch: Tensor | None = None) -> Tensor:
    """(B, k, C) coefficients :math:`\\Phi_b^\\top M_b X_b` of each graph."""
    xm = x if mass is None else x * mass.to(x.dtype)[:, None]
    return torch.stack([evecs[s:e].T.to(x.dtype) @ xm[s:e] for s, e in _ptr(batch, x.shape[0])])


def from_spectral(coeffs: Tensor, evecs: Tensor, batch: Tensor | None = None) -> Tensor:
    """(N, C) signal :math:`\\Phi_b \\hat X_b` from (B, k, C) coefficients."""
    parts = [evecs[s:e].to(coeffs.dtype) @ coeffs[b]
             for b, (s, e) in enumerate(_ptr(batch, evecs.shape[0]))]
    return torch.cat(parts)
