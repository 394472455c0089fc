from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.propagation import parse_graph
from geodl.ops.validation import check_channels, check_features


class GeodesicConv(GraphLayer):
    r"""Geodesic convolution from `"Geodesic convolutional neural networks on
    Riemannian manifolds" <https://arxiv.org/abs/1501.06297>`_ (Masci et al., 2015).

    .. math::
        \mathbf{x}'_i = \max_{r=0}^{N_\theta-1}\sum_{k,\ell}
        \mathbf{A}_{k,\,(\ell + r) \bmod N_\theta}\; D(\mathbf{x})(i)_{k\ell}
        + \mathbf{b},

    where :math:`D` is the geodesic polar patch operator
    (``geodl.ops.geodesic_patches``) on :math:`N_\rho \times N_\theta` bins and
    the maximum over the :math:`N_\theta` rotations of the filter
    ("angular max pooling") removes the dependence on each patch's arbitrary
    angular origin: the layer is invariant to the choice of tangent frames.

    Args:
        in_channels, out_channels: feature sizes.
        n_rho, n_theta: bins of the patch operator (must match the patches).

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``patch_index`` :math:`(2, P)`,
          ``patch_weight`` :math:`(P, N_\rho N_\theta)`
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, n_rho: int = 3,
                 n_theta: int = 8) -> None:
        super().__init__()
        check_channels(in_channels, "in_channels")
        check_channels(out_channels, "out_channels")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.n_rho, self.n_theta = n_rho, n_theta
        self.weight = torch.nn.Parameter(torch.empty(n_rho, n_theta, in_channels, out_channels))
        self.bias = torch.nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan_in = self.n_rho * self.n_theta * self.in_channels
        a = math.sqrt(6.0 / (fan_in + self.out_channels))
        torch.nn.init.uniform_(self.weight, -a, a)
        torch.nn.init.zeros_(self.bias)

    def patch(self, x: Tensor, patch_index: Tensor, patch_weight: Tensor) -> Tensor:
        """(N, N_rho, N_theta, F_in) interpolated patches :math:`D(x)`."""
        n = x.shape[0]
        g = parse_graph(patch_index, None, x, x)  # checked once, CSR cached per patch_index
        bins = self.n_rho * self.n_theta
        if patch_weight.shape != (g.num_edges, bins):
            raise ValueError(f"patch_weight: expected shape ({g.num_edges}, {bins}), "
                             f"got {tuple(patch_weight.shape)}")
        s = g.structure()
        w = s.sort(patch_weight.to(x.dtype))
        d = s.op.matmul_heads(w, x[:, None, :].expand(n, bins, x.shape[1]).contiguous())
        return d.view(n, self.n_rho, self.n_theta, x.shape[1])

    def forward(self, x: Tensor, patch_index: Tensor, patch_weight: Tensor) -> Tensor:
        check_features(x, self.in_channels)
        self.check_dtype(x)
        d = self.patch(x, patch_index, patch_weight)
        # all N_theta rotations of the filter at once: (R, N_rho, N_theta, F_in, F_out)
        rolled = torch.stack([torch.roll(self.weight, -r, dims=1) for r in range(self.n_theta)])
        out = torch.einsum("nktc,rktco->nro", d, rolled)
        return out.amax(1) + self.bias

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"n_rho={self.n_rho}, n_theta={self.n_theta})")
