from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.nn._checks import check_features
from geodl.nn.inits import glorot_linear
from geodl.ops.validation import check_edge_index
from geodl.ops.spmm import SparseOperator


class GMMConv(torch.nn.Module):
    r"""Gaussian mixture model convolution (MoNet) from `"Geometric deep
    learning on graphs and manifolds using mixture model CNNs"
    <https://arxiv.org/abs/1611.08402>`_ (Monti et al., 2017).

    .. math::
        \mathbf{x}'_i = \square_{j \in \mathcal{N}(i)} \sum_{k=1}^{K}
        w_k(\mathbf{u}_{ij})\,\mathbf{\Theta}_k\mathbf{x}_j
        + \mathbf{\Theta}_{\text{root}}\mathbf{x}_i + \mathbf{b},
        \qquad w_k(\mathbf{u}) = \exp\!\Big(-\tfrac12\sum_d
        \frac{(u_d - \mu_{kd})^2}{\sigma_{kd}^2}\Big),

    where :math:`\mathbf{u}_{ij}` are pseudo-coordinates of the edge
    (``geodl.nn.pseudo_coords``) and :math:`\square` is mean (default) or sum.
    The kernels are learned patch operators: each Gaussian picks out the
    neighbours at one place of the local chart, and :math:`\Theta_k` weights
    them, a convolution whose "pixels" are soft.

    **The grid case.** On a pixel grid with Cartesian offsets
    :math:`\mathbf{u}_{ij} = \mathbf{p}_j - \mathbf{p}_i` (row, column), nine
    kernels with :math:`\mu_k` at the offsets :math:`(dr, dc) \in \{-1,0,1\}^2`
    and :math:`\sigma \to 0`, sum aggregation over the 8-neighbourhood plus
    self-loops and no root weight, this layer is ``torch.nn.Conv2d`` with a
    3x3 kernel and zero padding, with the weight mapping
    :math:`\Theta_k = W[:, :, 1 + dr, 1 + dc]` (tested exactly).

    Same parameters (``g`` = :math:`[\Theta_1 \dots \Theta_K]` as (F_in, K F_out),
    ``mu``, ``sigma``, ``root.weight``, ``bias``) and outputs as PyG's
    ``GMMConv`` (``separate_gaussians=False``); the K weighted sums run as
    K CSR products.

    Args:
        in_channels, out_channels: feature sizes.
        dim: pseudo-coordinate dimension D.
        kernel_size: number of Gaussians K.
        aggr: ``"mean"`` or ``"sum"``.
        root_weight: add :math:`\Theta_{\text{root}}\mathbf{x}_i`.
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`,
          ``pseudo`` :math:`(E, D)`
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, dim: int, kernel_size: int,
                 aggr: str = "mean", root_weight: bool = True, bias: bool = True) -> None:
        super().__init__()
        if aggr not in ("mean", "sum"):
            raise ValueError(f"aggr: expected 'mean' or 'sum', got {aggr!r}")
        if dim < 1 or kernel_size < 1:
            raise ValueError(f"dim, kernel_size: expected >= 1, got {dim}, {kernel_size}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.dim, self.kernel_size, self.aggr = dim, kernel_size, aggr
        self.g = torch.nn.Parameter(torch.empty(in_channels, out_channels * kernel_size))
        self.mu = torch.nn.Parameter(torch.empty(kernel_size, dim))
        self.sigma = torch.nn.Parameter(torch.empty(kernel_size, dim))
        self.root = torch.nn.Linear(in_channels, out_channels, bias=False) if root_weight else None
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        a = math.sqrt(6.0 / (self.g.shape[0] + self.g.shape[1]))
        torch.nn.init.uniform_(self.g, -a, a)
        for p in (self.mu, self.sigma):
            b = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
            torch.nn.init.uniform_(p, -b, b)
        if self.root is not None:
            glorot_linear(self.root)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def weights(self, pseudo: Tensor) -> Tensor:
        """(E, K) Gaussian weights :math:`w_k(\\mathbf{u}_{ij})`."""
        diff = pseudo[:, None, :] - self.mu[None]
        return torch.exp((-0.5 * diff.pow(2) / (1e-15 + self.sigma.pow(2))[None]).sum(-1))

    def forward(self, x: Tensor, edge_index: Tensor, pseudo: Tensor) -> Tensor:
        check_features(x, self.in_channels)
        n = x.shape[0]
        ei = check_edge_index(edge_index, n)
        if pseudo.dim() == 1:
            pseudo = pseudo[:, None]
        if pseudo.shape != (ei.shape[1], self.dim):
            raise ValueError(f"pseudo: expected shape ({ei.shape[1]}, {self.dim}), "
                             f"got {tuple(pseudo.shape)}")
        op = SparseOperator.from_edge_index(ei, n)
        w = op.sort_values(self.weights(pseudo.to(x.dtype)))
        xg = (x @ self.g).view(n, self.kernel_size, self.out_channels)
        out = op.matmul_heads(w, xg).sum(1)
        if self.aggr == "mean":
            deg = torch.bincount(ei[1], minlength=n).clamp_min(1).to(x.dtype)
            out = out / deg[:, None]
        if self.root is not None:
            out = out + self.root(x)
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"dim={self.dim}, kernel_size={self.kernel_size})")
