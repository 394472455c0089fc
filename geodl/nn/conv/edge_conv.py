from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from geodl.ops.validation import check_edge_index
from geodl.ops.neighbors import knn_graph


def _first_linear(nn: torch.nn.Module) -> tuple[torch.nn.Linear | None, torch.nn.Module]:
    """Split ``nn`` into a leading Linear layer and the rest (if it has one)."""
    if isinstance(nn, torch.nn.Linear):
        return nn, torch.nn.Identity()
    if isinstance(nn, torch.nn.Sequential) and len(nn) and isinstance(nn[0], torch.nn.Linear):
        return nn[0], nn[1:]
    return None, nn


class EdgeConv(torch.nn.Module):
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
        aggr: ``"max"``, ``"mean"`` or ``"sum"``.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, nn: torch.nn.Module, aggr: str = "max") -> None:
        super().__init__()
        if aggr not in ("max", "mean", "sum"):
            raise ValueError(f"aggr: expected 'max', 'mean' or 'sum', got {aggr!r}")
        self.nn, self.aggr = nn, aggr

    def reset_parameters(self) -> None:
        for m in self.nn.modules():
            if m is not self.nn and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def edge_features(self, x: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        """(E, F_out) :math:`h([x_i, x_j - x_i])` for edges ``src -> dst``."""
        first, rest = _first_linear(self.nn)
        if first is None or first.in_features != 2 * x.shape[1]:
            return self.nn(torch.cat([x[dst], x[src] - x[dst]], 1))
        c = x.shape[1]
        wa, wb = first.weight[:, :c], first.weight[:, c:]
        centre = x @ (wa - wb).T
        if first.bias is not None:
            centre = centre + first.bias
        neighbour = x @ wb.T
        return rest(centre[dst] + neighbour[src])

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if x.dim() != 2:
            raise ValueError(f"x: expected shape (N, F), got {tuple(x.shape)}")
        ei = check_edge_index(edge_index, x.shape[0])
        msg = self.edge_features(x, ei[0], ei[1])
        return scatter(msg, ei[1], 0, dim_size=x.shape[0], reduce=self.aggr)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn}, aggr={self.aggr!r})"


class DynamicEdgeConv(EdgeConv):
    r"""EdgeConv on the k-nearest-neighbour graph of its *input features*,
    recomputed at every call (DGCNN's dynamic graph): the neighbourhoods move
    from geometric to semantic as the network deepens.

    Args:
        nn, aggr: as :class:`EdgeConv`.
        k: neighbours per point.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``batch`` :math:`(N,)` *(optional)*
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, nn: torch.nn.Module, k: int, aggr: str = "max") -> None:
        super().__init__(nn, aggr)
        if k < 1:
            raise ValueError(f"k: expected >= 1, got {k}")
        self.k = k

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:  # type: ignore[override]
        edge_index = knn_graph(x.detach(), self.k, batch, loop=False)
        return super().forward(x, edge_index)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(nn={self.nn}, k={self.k}, aggr={self.aggr!r})"
