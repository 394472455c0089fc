from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from geodl.nn._checks import check_features
from geodl.nn.inits import glorot_linear
from geodl.ops.validation import check_edge_index


class EdgeConditionedConv(torch.nn.Module):
    r"""Edge-conditioned convolution (the MPNN edge network / NNConv) from
    `"Neural Message Passing for Quantum Chemistry"
    <https://arxiv.org/abs/1704.01212>`_ (Gilmer et al., 2017) and Simonovsky &
    Komodakis (2017).

    .. math::
        \mathbf{x}'_i = \mathbf{\Theta}\mathbf{x}_i +
        \square_{j \in \mathcal{N}(i)} \mathbf{x}_j^\top\,
        h_{\mathbf{\Theta}}(\mathbf{e}_{ij}) + \mathbf{b},

    where the network :math:`h` maps each edge's features to an
    :math:`F_{in} \times F_{out}` weight matrix, so the filter is a learned
    function of the edge (bond type, distance, offset...). Same parameters
    (``nn.*``, ``lin.weight`` for :math:`\Theta`, ``bias``) and outputs as
    PyG's ``NNConv``. The per-edge matrices make this inherently per-edge work.

    Args:
        in_channels, out_channels: feature sizes.
        nn: maps (E, D) edge features to (E, F_in * F_out).
        aggr: ``"sum"``, ``"mean"`` or ``"max"``.
        root_weight: add :math:`\Theta x_i`.
        bias: learn an additive bias.

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})`, ``edge_index`` :math:`(2, E)`,
          ``edge_attr`` :math:`(E, D)`
        - **output:** :math:`(N, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, nn: torch.nn.Module,
                 aggr: str = "sum", root_weight: bool = True, bias: bool = True) -> None:
        super().__init__()
        if aggr not in ("sum", "mean", "max"):
            raise ValueError(f"aggr: expected 'sum', 'mean' or 'max', got {aggr!r}")
        self.in_channels, self.out_channels, self.nn, self.aggr = in_channels, out_channels, nn, aggr
        self.lin = torch.nn.Linear(in_channels, out_channels, bias=False) if root_weight else None
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.nn.modules():
            if m is not self.nn and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        if self.lin is not None:
            glorot_linear(self.lin)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        check_features(x, self.in_channels)
        ei = check_edge_index(edge_index, x.shape[0])
        if edge_attr.dim() == 1:
            edge_attr = edge_attr[:, None]
        if edge_attr.shape[0] != ei.shape[1]:
            raise ValueError(f"edge_attr: expected {ei.shape[1]} rows, got {edge_attr.shape[0]}")
        w = self.nn(edge_attr).view(-1, self.in_channels, self.out_channels)
        msg = torch.bmm(x[ei[0]].unsqueeze(1), w).squeeze(1)
        out = scatter(msg, ei[1], 0, dim_size=x.shape[0], reduce=self.aggr)
        if self.lin is not None:
            out = out + self.lin(x)
        return out + self.bias if self.bias is not None else out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, aggr={self.aggr!r})"
