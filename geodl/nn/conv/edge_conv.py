from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from geodl.nn.conv.base import GraphLayer, nn_in_features
from geodl.nn.conv.propagation import XInput, scatter_nodes, split_x
from geodl.nn.inits import reset_module
from geodl.ops.neighbors import knn
from geodl.ops.validation import check_aggr


def _first_linear(nn: torch.nn.Module) -> tuple[torch.nn.Linear | None, torch.nn.Module]:
    """Split ``nn`` into a leading Linear layer and the rest (if it has one)."""
    if isinstance(nn, torch.nn.Linear):
        return nn, torch.nn.Identity()
    if isinstance(nn, torch.nn.Sequential) and len(nn) and isinstance(nn[0], torch.nn.Linear):
        return nn[0], nn[1:]
    return None, nn


class EdgeConv(GraphLayer):
    r"""Edge convolution from `"Dynamic Graph CNN for Learning on Point Clouds"
    <https://arxiv.org/abs/1801.07829>`_ (Wang et al., 2019).

    .. math::
        \mathbf{x}'_i = \square_{j \in \mathcal{N}(i)}
        h_{\mathbf{\Theta}}\big(\mathbf{x}_i \,\Vert\, \mathbf{x}_j - \mathbf{x}_i\big),

    :math:`\square` = max (default), mean or sum over the incoming edges
    (``edge_index[1]`` is the centre). When ``nn`` starts with a
    ``Linear`` layer :math:`W = [W_a\; W_b]`, its edge term is computed per
    node, :math:`W_a\mathbf{x}_i + W_b(\mathbf{x}_j - \mathbf{x}_i) =
    (W_a - W_b)\mathbf{x}_i + W_b\mathbf{x}_j`, and only summed per edge: the
    same function as PyG's ``EdgeConv`` with far fewer operations. Nodes
    without incoming edges get zeros (PyG's convention).

    Args:
        nn: maps :math:`2F_{in}` to :math:`F_{out}` features, e.g. an MLP.
        aggr: ``"max"``, ``"mean"`` or ``"sum"`` (``"add"``).

    Shapes:
        - **input:** ``x`` :math:`(N, F)` or a pair ``(x_src, x_dst)``,
          ``edge_index`` :math:`(2, E)` or a sparse ``adj_t``
        - **output:** :math:`(N_t, F_{out})`; F is half of what ``nn``
          takes (checked where its first layer says it)
    """

    needs_target = True

    def __init__(self, nn: torch.nn.Module, aggr: str = "max") -> None:
        super().__init__()
        self._aggr = check_aggr(aggr, ("max", "mean", "sum"))
        self.nn, self.aggr = nn, aggr
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_module(self.nn)

    def input_channels(self) -> tuple[int, int]:
        f = nn_in_features(self.nn)  # h takes [x_i, x_j - x_i]: twice the features
        if f > 0 and f % 2:
            raise ValueError(f"nn: EdgeConv's network takes [x_i, x_j - x_i], an even number of "
                             f"features, but its first layer takes {f}")
        return (f // 2, f // 2) if f > 0 else (-1, -1)

    def edge_features(self, x_src: Tensor, x_dst: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        """(E, F_out) :math:`h([x_i, x_j - x_i])` for edges ``src -> dst``."""
        first, rest = _first_linear(self.nn)
        if first is None or first.in_features != 2 * x_src.shape[1]:
            xi = x_dst.index_select(0, dst)
            return self.nn(torch.cat([xi, x_src.index_select(0, src) - xi], 1))
        c = x_src.shape[1]
        wa, wb = first.weight[:, :c], first.weight[:, c:]
        centre = x_dst @ (wa - wb).T
        if first.bias is not None:
            centre = centre + first.bias
        neighbour = x_src @ wb.T
        return rest(centre.index_select(0, dst) + neighbour.index_select(0, src))

    def forward(self, x: XInput, edge_index: Tensor) -> Tensor:
        inp = self.prepare(x, edge_index)
        x_src, x_dst = inp.x_src, inp.x_dst
        if x_dst.shape[-1] != x_src.shape[-1]:
            raise ValueError(f"x: source and target features differ in size ({x_src.shape[-1]} "
                             f"vs {x_dst.shape[-1]})")
        s = inp.structure()  # messages in CSR (target-major) order: contiguous reductions
        msg = self.edge_features(x_src, x_dst, s.src, s.dst)
        return scatter_nodes(msg, s.dst, inp.size[1], self._aggr)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn})"


class DynamicEdgeConv(EdgeConv):
    r"""EdgeConv on the k-nearest-neighbour graph of its *input features*,
    recomputed at every call (DGCNN's dynamic graph): the neighbourhoods move
    from geometric to semantic as the network deepens. As in PyG, a point is
    among its own k nearest neighbours (its edge feature is
    :math:`[\mathbf{x}_i, \mathbf{0}]`).

    Args:
        nn, aggr: as :class:`EdgeConv`.
        k: neighbours per point, itself included.

    Shapes:
        - **input:** ``x`` :math:`(N, F)` or a pair ``(x_src, x_dst)``,
          ``batch`` :math:`(N,)` or a pair *(optional)*
        - **output:** :math:`(N_t, F_{out})`
    """

    def __init__(self, nn: torch.nn.Module, k: int, aggr: str = "max") -> None:
        super().__init__(nn, aggr)
        if k < 1:
            raise ValueError(f"k: expected >= 1, got {k}")
        self.k = k

    def forward(self, x: XInput,  # type: ignore[override]
                batch: Union[Optional[Tensor], Tuple[Optional[Tensor], Optional[Tensor]]] = None
                ) -> Tensor:
        x_src, x_dst = split_x(x)
        if x_dst is None:
            raise ValueError("x: DynamicEdgeConv needs target features, got x_dst None")
        self.check_dtype(x_src)  # before the kNN search, which reads the features too
        self.check_dtype(x_dst)
        b = batch if isinstance(batch, (tuple, list)) else (batch, batch)
        ei = knn(x_src.detach(), x_dst.detach(), self.k, b[0], b[1]).flip(0)
        return super().forward((x_src, x_dst), ei)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn}, k={self.k})"
