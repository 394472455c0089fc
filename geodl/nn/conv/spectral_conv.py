from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.nn.conv.base import GraphLayer
from geodl.nn.spectral import check_basis, from_spectral, to_spectral
from geodl.ops.validation import check_channels, check_features


class SpectralConv(GraphLayer):
    r"""Spectral convolution from `"Spectral Networks and Locally Connected
    Networks on Graphs" <https://arxiv.org/abs/1312.6203>`_ (Bruna et al., 2014).

    Filters are multipliers on the first k Laplacian eigenvectors of each
    graph or mesh:

    .. math::
        \mathbf{y}_j = \mathbf{\Phi}\sum_i \operatorname{diag}\!\big(w_{ij}(\lambda_1),
        \dots, w_{ij}(\lambda_k)\big)\,\mathbf{\Phi}^\top\mathbf{M}\,\mathbf{x}_i + b_j,

    and each multiplier is a smooth function of frequency, interpolated from
    ``num_coeffs`` learned values at knots evenly spaced on
    :math:`[0, \lambda_{\text{ref}}]` (piecewise linear, constant beyond the
    last knot):
    :math:`w_{ij}(\lambda) = \sum_q \alpha_{qij}\,B_q(\lambda/\lambda_{\text{ref}})`.
    Parametrising by frequency rather than by eigenvector index is what lets a
    filter learned on one mesh apply to another (Bruna et al.'s smooth
    multipliers): the same :math:`\alpha` gives the same frequency response.
    :math:`\lambda_{\text{ref}}` is ``freq_max`` if given, else each graph's
    largest supplied eigenvalue (scale-free, but then the response depends on k).

    Args:
        in_channels, out_channels: feature sizes.
        num_coeffs: knots of the frequency response (>= 2).
        freq_max: :math:`\lambda_{\text{ref}}` or ``None`` (per graph).
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``evecs`` :math:`(N, k)`
          (each node's row of its graph's M-orthonormal basis), ``evals``
          :math:`(k,)` or :math:`(B, k)`, ``mass`` :math:`(N,)` *(optional,
          identity for graphs)*, ``batch`` :math:`(N,)` *(optional)*
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, num_coeffs: int = 16,
                 freq_max: float | None = None, bias: bool = True) -> None:
        super().__init__()
        check_channels(in_channels, "in_channels")
        check_channels(out_channels, "out_channels")
        if num_coeffs < 2:
            raise ValueError(f"num_coeffs: expected >= 2, got {num_coeffs}")
        if freq_max is not None and not freq_max > 0:
            raise ValueError(f"freq_max: expected > 0 or None, got {freq_max}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_coeffs, self.freq_max = num_coeffs, freq_max
        self.coeffs = torch.nn.Parameter(torch.empty(num_coeffs, in_channels, out_channels))
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # a flat response (a linear map in the spectral subspace) plus a little ripple
        a = math.sqrt(6.0 / (self.in_channels + self.out_channels))
        with torch.no_grad():
            base = torch.empty(self.in_channels, self.out_channels).uniform_(-a, a)
            self.coeffs.copy_(base + 0.1 * a * torch.randn_like(self.coeffs))
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def basis(self, evals: Tensor) -> Tensor:
        """(B, k, Q) hat-function weights of each eigenvalue."""
        ref = evals.amax(dim=1, keepdim=True) if self.freq_max is None else \
            torch.full_like(evals[:, :1], self.freq_max)
        t = (evals / ref.clamp_min(torch.finfo(evals.dtype).tiny)).clamp(0, 1)
        pos = t * (self.num_coeffs - 1)
        knots = torch.arange(self.num_coeffs, dtype=evals.dtype, device=evals.device)
        return (1 - (pos[..., None] - knots).abs()).clamp_min(0)

    def multipliers(self, evals: Tensor) -> Tensor:
        """(B, k, F_in, F_out) spectral multipliers :math:`w_{ij}(\\lambda)`."""
        return torch.einsum("bkq,qio->bkio", self.basis(evals), self.coeffs.to(evals.dtype))

    def forward(self, x: Tensor, evecs: Tensor, evals: Tensor, mass: Tensor | None = None,
                batch: Tensor | None = None) -> Tensor:
        check_features(x, self.in_channels)
        self.check_dtype(x)
        ev = check_basis(x, evecs, evals, mass, batch).to(x.dtype)
        xh = to_spectral(x, evecs, mass, batch)  # (B, k, F_in)
        w = torch.einsum("bkq,qio->bkio", self.basis(ev), self.coeffs)
        yh = torch.einsum("bki,bkio->bko", xh, w)
        out = from_spectral(yh, evecs, batch)
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"num_coeffs={self.num_coeffs})")
