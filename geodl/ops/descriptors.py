r"""Spectral point descriptors from a Laplacian eigenbasis :math:`(\lambda_k, \phi_k)`.

Both are intrinsic: invariant to rigid motions and, to first order, to
isometric deformations, since they depend only on the metric's spectrum.
Shapes: ``evals`` (K,), ``evecs`` (V, K) M-orthonormal; outputs (V, T).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from geodl.ops.validation import check_positive


def _check(evals: Tensor, evecs: Tensor) -> None:
    if evals.dim() != 1 or evecs.dim() != 2 or evecs.shape[1] != evals.shape[0]:
        raise ValueError(f"evals (K,) and evecs (V, K) expected, got {tuple(evals.shape)} "
                         f"and {tuple(evecs.shape)}")
    if evals.numel() < 2:
        raise ValueError("evals: need at least 2 eigenpairs")
    if not (torch.isfinite(evals).all() and torch.isfinite(evecs).all()):
        raise ValueError("evals, evecs: contain NaN or inf")


def _check_count(num, name: str) -> int:
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"{name}: expected a positive int, got {num!r}")
    return int(num)


def _check_times(times, dtype: torch.dtype) -> Tensor:
    t = torch.as_tensor(times, dtype=dtype)
    if t.dim() != 1 or t.numel() == 0:
        raise ValueError(f"times: expected a non-empty 1-D tensor or a count, "
                         f"got shape {tuple(t.shape)}")
    if not (torch.isfinite(t).all() and (t > 0).all()):
        raise ValueError(f"times: expected positive finite diffusion times, got "
                         f"{t[~(torch.isfinite(t) & (t > 0))][:3].tolist()} among them")
    return t


def hks_times(evals: Tensor, num: int = 16) -> Tensor:
    r"""Log-spaced times from :math:`4\ln 10/\lambda_{max}` to
    :math:`4\ln 10/\lambda_1` (Sun, Ovsjanikov & Guibas 2009)."""
    num = _check_count(num, "num")
    pos = evals[evals > 1e-10 * evals.abs().max()]
    if pos.numel() == 0:
        raise ValueError("evals: no positive eigenvalue")
    lo, hi = 4 * math.log(10) / float(pos.max()), 4 * math.log(10) / float(pos.min())
    return torch.logspace(math.log10(lo), math.log10(hi), num, dtype=evals.dtype)


def heat_kernel_signature(evals: Tensor, evecs: Tensor, times: Tensor | int = 16,
                          scale_invariant: bool = False) -> Tensor:
    r"""Heat kernel signature :math:`h_t(x) = \sum_k e^{-\lambda_k t}\phi_k(x)^2`.

    Args:
        evals: (K,), evecs: (V, K).
        times: (T,) positive diffusion times, or a positive count for
            :func:`hks_times`.
        scale_invariant: divide each time by :math:`\sum_x h_t(x)` heat trace
            normalisation (:math:`\sum_k e^{-\lambda_k t}`), which removes the
            global scale's effect on magnitude.

    Returns:
        (V, T) signature.
    """
    _check(evals, evecs)
    if isinstance(times, (int, np.integer)) and not isinstance(times, bool):
        times = hks_times(evals, _check_count(times, "times"))
    times = _check_times(times, evals.dtype)
    decay = torch.exp(-evals[:, None] * times[None, :])  # (K, T)
    hks = (evecs ** 2) @ decay
    if scale_invariant:
        hks = hks / decay.sum(0, keepdim=True)
    return hks


def wave_kernel_signature(evals: Tensor, evecs: Tensor, num: int = 100,
                          variance: float = 6.0) -> Tensor:
    r"""Wave kernel signature (Aubry, Schlickewei & Cremers 2011).

    :math:`\mathrm{WKS}(x, e) = \sum_k \phi_k(x)^2 f_e(\lambda_k)^2 / \sum_k
    f_e(\lambda_k)^2` with :math:`f_e(\lambda)^2 = \exp(-(e - \log\lambda)^2 /
    2\sigma^2)`, energies :math:`e` evenly spaced over
    :math:`[\log\lambda_1, \log\lambda_{max}]` and :math:`\sigma` =
    ``variance`` x their spacing. Zero eigenvalues are skipped.

    Args:
        evals: (K,), evecs: (V, K).
        num: number of energies, a positive int.
        variance: band width in energy steps, a positive number.

    Returns:
        (V, num) signature.
    """
    _check(evals, evecs)
    num = _check_count(num, "num")
    variance = check_positive(variance, "variance")
    keep = evals > 1e-10 * evals.abs().max()
    lam, phi = evals[keep], evecs[:, keep]
    if lam.numel() < 2:
        raise ValueError("evals: need at least 2 positive eigenvalues")
    log_l = torch.log(lam)
    e = torch.linspace(float(log_l.min()), float(log_l.max()), num, dtype=evals.dtype, device=evals.device)
    sigma = variance * float(e[1] - e[0]) if num > 1 else 1.0
    f2 = torch.exp(-((e[None, :] - log_l[:, None]) ** 2) / (2 * sigma ** 2))  # (K, E)
    return (phi ** 2) @ f2 / f2.sum(0, keepdim=True)
