from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.utils import softmax

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.propagation import Size, XInput
from geodl.nn.inits import glorot
from geodl.ops.validation import check_channels


class GATConv(GraphLayer):
    r"""Graph attention from `"Graph Attention Networks"
    <https://arxiv.org/abs/1710.10903>`_ (Veličković et al., 2018).

    .. math::
        \mathbf{x}'_i = \big\Vert_{h=1}^{H}\sum_{j \in \mathcal{N}(i)\cup\{i\}}
        \alpha^h_{ij}\,\mathbf{\Theta}^h_s\mathbf{x}_j + \mathbf{b},\qquad
        \alpha^h_{ij} = \operatorname{softmax}_j\!\Big(\mathrm{LeakyReLU}\big(
        \mathbf{a}^{h\top}_{s}\mathbf{\Theta}^h_s\mathbf{x}_j +
        \mathbf{a}^{h\top}_{t}\mathbf{\Theta}^h_t\mathbf{x}_i +
        \mathbf{a}^{h\top}_{e}\mathbf{\Theta}^h_e\mathbf{e}_{ji}\big)\Big),

    with heads concatenated (or averaged, ``concat=False``), dropout on the
    attention coefficients during training, the edge term only with
    ``edge_dim``, and :math:`\mathbf{\Theta}_s = \mathbf{\Theta}_t` unless
    ``in_channels`` is a pair (bipartite graphs). Self-loops replace any
    input self-loops (their edge features: ``fill_value``). Same parameters
    (``lin`` or ``lin_src``/``lin_dst``, ``att_src``, ``att_dst``,
    ``lin_edge``, ``att_edge``, ``res``, ``bias``) and outputs as PyG's
    ``GATConv``; the attention-weighted sum runs as one CSR product per head.

    Args:
        in_channels: input features, or (source, target) features; -1 lazy.
        out_channels: output features per head.
        heads: attention heads H.
        concat: concatenate heads (else average).
        negative_slope: LeakyReLU slope.
        dropout: dropout probability of the attention coefficients.
        add_self_loops: attend to the node itself too.
        edge_dim: edge feature size D (None: edge features are not used).
        fill_value: edge features of the added self-loops: a number or
            tensor, or ``"mean"``/``"add"`` of the edges arriving at the node.
        bias: learn an additive bias.
        residual: add a linear projection of the target features.

    Shapes:
        - **input:** ``x`` :math:`(N, F)` or a pair :math:`((N_s, F_s), (N_t, F_t))`
          (target may be None), ``edge_index`` :math:`(2, E)` or a sparse
          ``adj_t`` :math:`(N_t, N_s)`, ``edge_attr`` :math:`(E, D)` *(optional)*,
          ``size`` :math:`(N_s, N_t)` *(optional)*
        - **output:** :math:`(N_t, H F_{out})` or :math:`(N_t, F_{out})`; with
          ``return_attention_weights`` also ``(edge_index, alpha)`` (or a sparse
          adjacency holding alpha) over the edges used, self-loops included.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 heads: int = 1, concat: bool = True, negative_slope: float = 0.2,
                 dropout: float = 0.0, add_self_loops: bool = True,
                 edge_dim: Optional[int] = None,
                 fill_value: Union[float, Tensor, str] = "mean", bias: bool = True,
                 residual: bool = False) -> None:
        super().__init__()
        for c in ((in_channels,) if isinstance(in_channels, int) else tuple(in_channels)):
            check_channels(c, "in_channels", lazy=True)
        check_channels(out_channels, "out_channels")
        if heads < 1:
            raise ValueError(f"heads: expected >= 1, got {heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected in [0, 1), got {dropout}")
        if isinstance(fill_value, str) and fill_value not in ("mean", "add", "sum"):
            raise ValueError(f"fill_value: expected a number, a tensor, 'mean' or 'add', "
                             f"got {fill_value!r}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops, self.edge_dim, self.fill_value = add_self_loops, edge_dim, fill_value
        self.residual = residual
        hc = heads * out_channels
        self.lin = self.lin_src = self.lin_dst = None
        if isinstance(in_channels, int):
            self.lin = Linear(in_channels, hc, bias=False, weight_initializer="glorot")
        else:
            self.lin_src = Linear(in_channels[0], hc, False, weight_initializer="glorot")
            self.lin_dst = Linear(in_channels[1], hc, False, weight_initializer="glorot")
        self.att_src = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        if edge_dim is not None:
            self.lin_edge = Linear(edge_dim, hc, bias=False, weight_initializer="glorot")
            self.att_edge = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        else:
            self.lin_edge = None
            self.register_parameter("att_edge", None)
        total = hc if concat else out_channels
        if residual:
            res_in = in_channels if isinstance(in_channels, int) else in_channels[1]
            self.res = Linear(res_in, total, bias=False, weight_initializer="glorot")
        else:
            self.register_parameter("res", None)
        self.bias = torch.nn.Parameter(torch.empty(total)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin, self.lin_src, self.lin_dst, self.lin_edge, self.res):
            if lin is not None:
                lin.reset_parameters()
        for att in (self.att_src, self.att_dst, self.att_edge):
            if att is not None:
                glorot(att)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    @property
    def adjacency_values(self) -> Optional[str]:  # type: ignore[override]
        """A sparse adjacency's values are edge features where ``edge_dim`` is set."""
        return "edge_attr" if self.lin_edge is not None else None

    def _loop_attr(self, s, edge_attr: Tensor, dst: Tensor) -> Tensor:
        """(n, D) edge features of the added self-loops."""
        n = s.num_loops
        if not isinstance(self.fill_value, str):
            fill = torch.as_tensor(self.fill_value, dtype=edge_attr.dtype, device=edge_attr.device)
            return fill.expand(n, *edge_attr.shape[1:]).clone() if fill.dim() <= 1 else fill
        keep = s.edge_mask(edge_attr.dtype)[:s.num_edges].view(-1, *([1] * (edge_attr.dim() - 1)))
        reduce = {"add": "sum"}.get(self.fill_value, self.fill_value)
        if reduce in ("sum", "mean"):
            tot = edge_attr.new_zeros(n, *edge_attr.shape[1:]).index_add(
                0, dst.clamp(max=max(n - 1, 0)), edge_attr * keep * (dst < n).view_as(keep))
            if reduce == "sum":
                return tot
            cnt = keep.new_zeros(n, *([1] * (edge_attr.dim() - 1))).index_add(
                0, dst.clamp(max=max(n - 1, 0)), keep * (dst < n).view_as(keep))
            return tot / cnt.clamp_min(1)
        raise AssertionError(self.fill_value)  # refused in __init__

    def forward(self, x: XInput, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                size: Size = None, return_attention_weights: Optional[bool] = None):
        H, C = self.heads, self.out_channels
        is_pair = not isinstance(x, Tensor)
        inp = self.prepare(x, edge_index, size, edge_attr=edge_attr)
        x_src, x_dst, g = inp.x_src, inp.x_dst, inp.graph
        edge_attr = inp.edge_attr if self.lin_edge is not None else None
        res = self.res(x_dst) if (self.res is not None and x_dst is not None) else None
        lin_s = self.lin if self.lin is not None else self.lin_src
        lin_t = self.lin if self.lin is not None else self.lin_dst
        h_src = lin_s(x_src).view(-1, H, C)
        h_dst = None
        if x_dst is not None:
            h_dst = h_src if (not is_pair and self.lin is not None) else lin_t(x_dst).view(-1, H, C)
        a_src = (h_src * self.att_src).sum(-1)  # (N_s, H)
        a_dst = None if h_dst is None else (h_dst * self.att_dst).sum(-1)

        s = g.structure(self_loops=self.add_self_loops)
        ei = g.edge_index
        # logits straight in CSR order (s.src, s.dst): one gather per node
        # term, whose backward is an index_add, not a second permutation
        logit = a_src.index_select(0, s.src)  # (index_select: a faster gather and
        if a_dst is not None:                 # backward than advanced indexing)
            logit = logit + a_dst.index_select(0, s.dst)
        if edge_attr is not None and self.lin_edge is not None:
            ea = edge_attr
            if self.add_self_loops:
                ea = torch.cat([ea, self._loop_attr(s, ea, ei[1])])
            a_edge = (self.lin_edge(s.sort(ea)).view(-1, H, C) * self.att_edge).sum(-1)
            logit = logit + a_edge
        logit = F.leaky_relu(logit, self.negative_slope)
        if self.add_self_loops:  # input self-loops are replaced by the added ones
            drop = s._memo("gat_drop", lambda: s.sort(torch.cat(
                [s.is_loop, torch.zeros(s.num_loops, dtype=torch.bool, device=ei.device)])))
            logit = logit.masked_fill(drop[:, None], float("-inf"))
        alpha = softmax(logit, s.dst, num_nodes=g.size[1])
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        out = s.op.matmul_heads(alpha, h_src)
        out = out.reshape(-1, H * C) if self.concat else out.mean(1)
        if res is not None:
            out = out + res
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, self._attention(s, alpha, edge_index)
        return out

    def _attention(self, s, alpha: Tensor, edge_index: Tensor):
        """(edge_index, alpha) over the edges attended (input order, dropped
        self-loops removed, added ones last), or a sparse adjacency of alpha."""
        inv = torch.empty_like(s.op.order)
        inv[s.op.order] = torch.arange(inv.numel(), device=inv.device)
        a = alpha[inv]
        src, dst = s.src[inv], s.dst[inv]
        if s.is_loop is not None:
            keep = torch.cat([~s.is_loop, torch.ones(s.num_loops, dtype=torch.bool,
                                                     device=a.device)])
            a, src, dst = a[keep], src[keep], dst[keep]
        if edge_index.layout != torch.strided:
            adj = torch.sparse_coo_tensor(torch.stack([dst, src]), a,
                                          (s.size[1], s.size[0], a.shape[1])).coalesce()
            return adj, a
        return torch.stack([src, dst]), a

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, heads={self.heads})"
