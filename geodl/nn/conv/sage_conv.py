from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.propagation import (
    Size,
    XInput,
    channels_pair,
    gather,
    node_matmul,
    scatter_nodes,
)
from geodl.ops.validation import check_aggr, check_channels


class SAGEConv(GraphLayer):
    r"""GraphSAGE operator from `"Inductive Representation Learning on Large
    Graphs" <https://arxiv.org/abs/1706.02216>`_ (Hamilton, Ying & Leskovec, 2017).

    .. math::
        \mathbf{x}'_i = \mathbf{W}_1\mathbf{x}_i + \mathbf{W}_2\,
        \square_{j \in \mathcal{N}(i)}\mathbf{x}_j + \mathbf{b},

    :math:`\square` = mean (default), sum, max or min over the incoming edges
    (nodes without any get 0); with ``project`` the neighbours are first
    mapped by :math:`\mathrm{ReLU}(\mathbf{W}_3\mathbf{x}_j + \mathbf{b}_3)`,
    with ``normalize`` the output is :math:`\ell_2`-normalised. Built for
    neighbour-sampled mini-batches: ``x`` may be ``(x_src, x_dst)`` where the
    targets are the first rows of the sampled sources. Mean and sum are one CSR
    product (the structure cached per graph). Same parameters (``lin_l`` with
    the bias, ``lin_r``, ``lin``) and outputs as PyG's ``SAGEConv``.

    Args:
        in_channels: input features, or (source, target) features; -1 lazy.
        out_channels: output features.
        aggr: ``"mean"``, ``"sum"`` (``"add"``), ``"max"`` or ``"min"`` (fast
            paths); any other PyG aggregation (``"lstm"``, a list, an
            ``Aggregation`` module) runs PyG's module on per-edge messages.
        aggr_kwargs: arguments of that PyG aggregation.
        normalize: :math:`\ell_2`-normalise the output.
        root_weight: add :math:`\mathbf{W}_1\mathbf{x}_i`.
        project: project the neighbours first (needs known ``in_channels``).
        bias: learn an additive bias (in ``lin_l``).

    Shapes:
        - **input:** ``x`` :math:`(N, F)`, :math:`(B, N, F)` or a pair
          :math:`((N_s, F_s), (N_t, F_t))` (target may be None),
          ``edge_index`` :math:`(2, E)` or a sparse ``adj_t``, ``size`` *(optional)*
        - **output:** :math:`(N_t, F_{out})`
    """

    batched_features = True

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 aggr: Any = "mean", normalize: bool = False, root_weight: bool = True,
                 project: bool = False, bias: bool = True,
                 aggr_kwargs: Optional[dict] = None) -> None:
        super().__init__()
        for c in ((in_channels,) if isinstance(in_channels, int) else tuple(in_channels)):
            check_channels(c, "in_channels", lazy=True)
        check_channels(out_channels, "out_channels")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize, self.root_weight, self.project = normalize, root_weight, project
        cin = channels_pair(in_channels)
        self.aggr_module: Optional[torch.nn.Module] = None
        aggr_out = cin[0]
        if isinstance(aggr, str) and aggr in ("mean", "sum", "add", "max", "min") \
                and not aggr_kwargs:
            self._aggr = check_aggr(aggr, ("mean", "sum", "max", "min"))
            self.aggr = aggr
        else:
            # any other PyG aggregation ('lstm', a list, an Aggregation module):
            # PyG's own module, fed the messages per edge (no CSR fast path)
            from torch_geometric.nn.aggr import MultiAggregation
            from torch_geometric.nn.resolver import aggregation_resolver
            kwargs = dict(aggr_kwargs or {})
            if aggr == "lstm":
                kwargs.setdefault("in_channels", cin[0])
                kwargs.setdefault("out_channels", cin[0])
            self._aggr = "module"
            self.aggr = [str(a) for a in aggr] if isinstance(aggr, (list, tuple)) else str(aggr)
            self.aggr_module = aggregation_resolver(aggr, **kwargs)
            if isinstance(self.aggr_module, MultiAggregation):
                aggr_out = self.aggr_module.get_out_channels(cin[0])
        if project:
            if cin[0] <= 0:
                raise ValueError(f"in_channels: '{self.__class__.__name__}' does not support "
                                 f"lazy initialization with `project=True`")
            self.lin = Linear(cin[0], cin[0], bias=True)
        self.lin_l = Linear(aggr_out, out_channels, bias=bias)
        if root_weight:
            self.lin_r = Linear(cin[1], out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.aggr_module is not None and hasattr(self.aggr_module, "reset_parameters"):
            self.aggr_module.reset_parameters()
        if self.project:
            self.lin.reset_parameters()
        self.lin_l.reset_parameters()
        if self.root_weight:
            self.lin_r.reset_parameters()

    def forward(self, x: XInput, edge_index: Tensor, size: Size = None) -> Tensor:
        inp = self.prepare(x, edge_index, size)
        x_src, x_dst, g = inp.x_src, inp.x_dst, inp.graph
        if self.project:
            x_src = self.lin(x_src).relu()
        s = g.structure()
        if self._aggr == "mean":
            out = node_matmul(s, s.mean_weights(x_src.dtype), x_src)
        elif self._aggr == "sum":
            out = node_matmul(s, s.edge_mask(x_src.dtype), x_src)
        elif self._aggr == "module":  # edges in the caller's order (LSTM needs sorted targets)
            ei = g.edge_index
            out = self.aggr_module(gather(x_src, ei[0]), ei[1], dim_size=g.size[1], dim=-2)
        else:
            out = scatter_nodes(gather(x_src, s.src), s.dst, g.size[1], self._aggr)
        out = self.lin_l(out)
        if self.root_weight and x_dst is not None:
            out = out + self.lin_r(x_dst)
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, aggr={self.aggr})"
