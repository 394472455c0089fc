from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn.parameter import UninitializedParameter
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.propagation import Size, XInput, channels_pair, scatter_nodes, split_x
from geodl.nn.inits import glorot
from geodl.ops.validation import check_aggr, check_channels


class GMMConv(GraphLayer):
    r"""Gaussian mixture model convolution (MoNet) from `"Geometric deep
    learning on graphs and manifolds using mixture model CNNs"
    <https://arxiv.org/abs/1611.08402>`_ (Monti et al., 2017).

    .. math::
        \mathbf{x}'_i = \square_{j \in \mathcal{N}(i)} \sum_{k=1}^{K}
        w_k(\mathbf{u}_{ji})\,\mathbf{\Theta}_k\mathbf{x}_j
        + \mathbf{\Theta}_{\text{root}}\mathbf{x}_i + \mathbf{b},
        \qquad w_k(\mathbf{u}) = \exp\!\Big(-\tfrac12\sum_d
        \frac{(u_d - \mu_{kd})^2}{\sigma_{kd}^2}\Big),

    where :math:`\mathbf{u}_{ji}` are pseudo-coordinates of the edge
    (``geodl.nn.pseudo_coords``) and :math:`\square` is mean (default) or sum.
    The kernels are learned patch operators: each Gaussian picks out the
    neighbours at one place of the local chart, and :math:`\Theta_k` weights
    them, a convolution whose "pixels" are soft. With
    ``separate_gaussians`` every (input, output) channel pair has its own K
    Gaussians (PyG's option; per-edge work).

    **The grid case.** On a pixel grid with Cartesian offsets
    :math:`\mathbf{u}_{ji} = \mathbf{p}_j - \mathbf{p}_i` (row, column), nine
    kernels with :math:`\mu_k` at the offsets :math:`(dr, dc) \in \{-1,0,1\}^2`
    and :math:`\sigma \to 0`, sum aggregation over the 8-neighbourhood plus
    self-loops and no root weight, this layer is ``torch.nn.Conv2d`` with a
    3x3 kernel and zero padding, with the weight mapping
    :math:`\Theta_k = W[:, :, 1 + dr, 1 + dc]` (tested exactly).

    Same parameters (``g`` = :math:`[\Theta_1 \dots \Theta_K]` as (F_in, K F_out),
    ``mu``, ``sigma``, ``root.weight``, ``bias``) and outputs as PyG's
    ``GMMConv``; without ``separate_gaussians`` the K weighted sums run as
    K CSR products.

    Args:
        in_channels: input features, or (source, target); -1 lazy.
        out_channels: output features.
        dim: pseudo-coordinate dimension D.
        kernel_size: number of Gaussians K.
        separate_gaussians: one set of Gaussians per channel pair.
        aggr: ``"mean"`` or ``"sum"`` (``"add"``).
        root_weight: add :math:`\Theta_{\text{root}}\mathbf{x}_i`.
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})` or a pair, ``edge_index``
          :math:`(2, E)` or a sparse ``adj_t`` whose values are the
          pseudo-coordinates, ``edge_attr`` (``pseudo``) :math:`(E, D)`,
          ``size`` *(optional)*
        - **output:** :math:`(N_t, F_{out})`
    """

    adjacency_values = "edge_attr"
    needs_edge_attr = True
    edge_attr_name = "edge_attr (pseudo)"

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int, dim: int,
                 kernel_size: int, separate_gaussians: bool = False, aggr: str = "mean",
                 root_weight: bool = True, bias: bool = True) -> None:
        super().__init__()
        for c in ((in_channels,) if isinstance(in_channels, int) else tuple(in_channels)):
            check_channels(c, "in_channels", lazy=True)
        check_channels(out_channels, "out_channels")
        self._aggr = check_aggr(aggr, ("mean", "sum"))
        if dim < 1 or kernel_size < 1:
            raise ValueError(f"dim, kernel_size: expected >= 1, got {dim}, {kernel_size}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.dim, self.kernel_size, self.aggr = dim, kernel_size, aggr
        self.separate_gaussians, self.root_weight = separate_gaussians, root_weight
        cin = channels_pair(in_channels)
        self.rel_in_channels = cin[0]
        if cin[0] > 0:
            self.g = torch.nn.Parameter(torch.empty(cin[0], out_channels * kernel_size))
            shape = (cin[0], out_channels, kernel_size, dim) if separate_gaussians \
                else (kernel_size, dim)
            self.mu = torch.nn.Parameter(torch.empty(shape))
            self.sigma = torch.nn.Parameter(torch.empty(shape))
        else:  # lazy: sizes known on the first call
            self.g, self.mu, self.sigma = (UninitializedParameter(), UninitializedParameter(),
                                           UninitializedParameter())
        self.root = Linear(cin[1], out_channels, bias=False, weight_initializer="glorot") \
            if root_weight else None
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if not isinstance(self.g, UninitializedParameter):
            for p in (self.g, self.mu, self.sigma):
                glorot(p)
        if self.root is not None:
            self.root.reset_parameters()
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    @torch.no_grad()
    def _materialize(self, in_channels: int, x: Tensor) -> None:
        self.rel_in_channels = in_channels
        k, m = self.kernel_size, self.out_channels
        self.g.materialize((in_channels, m * k), device=x.device, dtype=x.dtype)
        shape = (in_channels, m, k, self.dim) if self.separate_gaussians else (k, self.dim)
        self.mu.materialize(shape, device=x.device, dtype=x.dtype)
        self.sigma.materialize(shape, device=x.device, dtype=x.dtype)
        for p in (self.g, self.mu, self.sigma):
            glorot(p)

    def input_channels(self) -> tuple[int, int]:
        cin = channels_pair(self.in_channels)
        return self.rel_in_channels, cin[1]

    def weights(self, pseudo: Tensor) -> Tensor:
        """(E, K) Gaussian weights :math:`w_k(\\mathbf{u}_{ji})` (shared Gaussians)."""
        diff = pseudo[:, None, :] - self.mu[None]
        return torch.exp((-0.5 * diff.pow(2) / (1e-15 + self.sigma.pow(2))[None]).sum(-1))

    def forward(self, x: XInput, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                size: Size = None) -> Tensor:
        x_src, x_dst = split_x(x)
        if isinstance(self.g, UninitializedParameter):
            self._materialize(x_src.shape[-1], x_src if x_src.is_floating_point() else x_src.float())
        inp = self.prepare(x, edge_index, size, edge_attr=edge_attr)
        x_src, x_dst, g, pseudo = inp.x_src, inp.x_dst, inp.graph, inp.edge_attr
        if pseudo.shape[1] != self.dim:
            raise ValueError(f"edge_attr (pseudo): expected shape ({g.num_edges}, {self.dim}), "
                             f"got {tuple(pseudo.shape)}")
        n_dst = g.size[1]
        k, m = self.kernel_size, self.out_channels
        if not self.separate_gaussians:
            s = g.structure()
            w = s.sort(self.weights(pseudo))
            if self._aggr == "mean":
                w = w * s.mean_weights(w.dtype)[:, None]
            xg = (x_src @ self.g).view(-1, k, m)
            out = s.op.matmul_heads(w, xg).sum(1)
        else:
            f = self.rel_in_channels
            e = pseudo.shape[0]
            gauss = -0.5 * (pseudo.view(e, 1, 1, 1, self.dim) - self.mu[None]).pow(2)
            gauss = torch.exp((gauss / (1e-15 + self.sigma[None].pow(2))).sum(-1))  # (E,F,M,K)
            wk = (gauss * self.g.view(1, f, m, k)).sum(-1)  # (E, F, M)
            ei = g.edge_index
            msg = (x_src[ei[0]].view(e, f, 1) * wk).sum(1)
            out = scatter_nodes(msg, ei[1], n_dst, self._aggr)
        if self.root is not None and x_dst is not None:
            out = out + self.root(x_dst)
        if self.bias is not None:
            out = out + self.bias
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, dim={self.dim})"
