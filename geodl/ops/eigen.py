r"""The k smallest solutions of the generalised eigenproblem :math:`L\phi = \lambda M\phi`.

:math:`L` is a symmetric positive semi-definite Laplacian (CSR), :math:`M` a
positive diagonal mass matrix given as a vector. We run ARPACK in shift-invert
mode around a small negative shift :math:`\sigma`, so that :math:`L - \sigma M`
is positive definite, with our own sparse LU of that matrix: a symmetric
fill-reducing ordering (``MMD_AT_PLUS_A``) fills in far less than scipy's
default column ordering on mesh matrices, which is where most of the time goes.

The result is ascending, with :math:`\Phi^\top M \Phi = I` enforced by a final
M-orthonormalisation (ARPACK's vectors drift inside repeated eigenvalues) and
a deterministic sign (the largest-magnitude entry of each vector is positive).
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import torch
from torch import Tensor

from geodl.ops.sparse import to_scipy


class EigenSolveError(RuntimeError):
    """ARPACK did not converge after all retries."""


def _shift_invert_operator(a: sp.csc_matrix) -> sla.LinearOperator:
    lu = sla.splu(a, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
    return sla.LinearOperator(a.shape, matvec=lu.solve, dtype=np.float64)


def generalized_eigh(laplacian: Tensor, mass: Tensor, k: int, *,
                     tol: float = 1e-10, retries: int = 3,
                     seed: int = 0) -> tuple[Tensor, Tensor]:
    """k smallest generalised eigenpairs of ``(L, diag(mass))``.

    Args:
        laplacian: (V, V) symmetric PSD sparse (torch CSR/COO) or dense.
        mass: (V,) positive lumped masses.
        k: number of eigenpairs, ``1 <= k < V``.
        tol: ARPACK relative tolerance.
        retries: extra attempts with a larger Krylov space and shift if
            ARPACK fails to converge or the shifted matrix is singular.
        seed: start vector of the Lanczos iteration.

    Returns:
        evals: (k,) float64 ascending; evecs: (V, k) float64, M-orthonormal.
    """
    a = to_scipy(laplacian).astype(np.float64).tocsc()
    m = np.asarray(mass.detach().cpu().numpy() if isinstance(mass, Tensor) else mass,
                   dtype=np.float64)
    n = a.shape[0]
    if a.shape != (n, n) or m.shape != (n,):
        raise ValueError(f"laplacian {a.shape} and mass {m.shape} must be (V, V) and (V,)")
    if not (np.isfinite(m).all() and (m > 0).all()):
        raise ValueError("mass: expected positive finite masses (isolated or zero-area vertices?)")
    if not 1 <= k < n:
        raise ValueError(f"k: expected 1 <= k < V = {n}, got {k}")
    _check_symmetric(a)
    mm = sp.diags(m).tocsc()
    if n <= 400:  # dense is exact and faster for tiny problems
        w, v = scipy.linalg.eigh(a.toarray(), np.diag(m), subset_by_index=(0, k - 1))
        return _finish(w, v, m, k)
    scale = float(a.diagonal().mean() / m.mean())
    sigma = -1e-8 * scale
    v0 = np.random.default_rng(seed).standard_normal(n)
    # Lanczos finds the members of a repeated eigenvalue only through rounding,
    # and can miss one (seen on icospheres with the default ncv): solve for a
    # few spare pairs with a roomy Krylov space and keep the k smallest.
    k_solve = min(n - 1, k + max(5, k // 10))
    ncv = min(n - 1, max(2 * k_solve + 1, 40))
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            op = _shift_invert_operator((a - sigma * mm).tocsc())
            w, v = sla.eigsh(a, k=k_solve, M=mm, sigma=sigma, which="LM", OPinv=op,
                             ncv=ncv, tol=tol, v0=v0, maxiter=max(1000, 20 * n // max(k, 1)))
            return _finish(w, v, m, k)
        except (sla.ArpackNoConvergence, sla.ArpackError, RuntimeError) as err:
            last = err
            warnings.warn(f"generalized_eigh: attempt {attempt + 1} failed ({err}); retrying",
                          RuntimeWarning, stacklevel=2)
            sigma *= 10.0
            ncv = min(n - 1, int(ncv * 1.5) + 1)
    raise EigenSolveError(f"eigensolver failed after {retries + 1} attempts: {last}")


def _check_symmetric(a: sp.spmatrix, rtol: float = 1e-10) -> None:
    """``ValueError`` unless ``a`` is finite and equals its transpose in
    pattern and values (to ``rtol`` of its largest entry): one O(nnz) pass.
    A non-symmetric operator has no real orthogonal eigenbasis, and the
    symmetric solvers would silently answer for half of it."""
    if not np.isfinite(a.data).all():
        raise ValueError("laplacian: contains NaN or inf")
    diff = abs(a - a.T).tocoo()
    diff.eliminate_zeros()
    if diff.nnz == 0:
        return
    worst = int(np.argmax(diff.data))
    scale = float(abs(a).max())
    if diff.data[worst] > rtol * scale:
        i, j = int(diff.row[worst]), int(diff.col[worst])
        raise ValueError(f"laplacian: expected a symmetric matrix, got L[{i}, {j}] = "
                         f"{a[i, j]:.6g} but L[{j}, {i}] = {a[j, i]:.6g}")


def _finish(w: np.ndarray, v: np.ndarray, m: np.ndarray, k: int) -> tuple[Tensor, Tensor]:
    order = np.argsort(w)[:k]
    w, v = w[order], v[:, order]
    # M-orthonormalise: v <- v G^{-1/2} with G = v^T M v (close to I already).
    g = v.T @ (m[:, None] * v)
    ew, eu = np.linalg.eigh((g + g.T) / 2)
    v = v @ (eu @ np.diag(ew ** -0.5) @ eu.T)
    idx = np.abs(v).argmax(axis=0)
    v = v * np.sign(v[idx, np.arange(v.shape[1])])
    return torch.from_numpy(np.ascontiguousarray(w)), torch.from_numpy(np.ascontiguousarray(v))
