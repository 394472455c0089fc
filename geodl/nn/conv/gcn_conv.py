from typing import Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.typing import Adj
from torch_geometric.utils import spmm

from geodl.nn.conv.base import GraphLayer
from geodl.nn.conv.propagation import GraphStructure, last_self_loop, node_matmul
from geodl.ops.validation import check_channels

# No ``from __future__ import annotations`` here: TorchScript reads the
# annotations of the scripted path (``gcn_norm``, ``forward_propagate``).

FLOWS = ("source_to_target", "target_to_source")


def _symmetric(src: Tensor, dst: Tensor, w: Tensor, num_nodes: int, flow: str) -> Tensor:
    r""":math:`w_{ji} / \sqrt{d_i d_j}`, the degrees summed at the targets
    (``source_to_target``) or at the sources; a degree of 0 gives 0, not inf."""
    idx = dst if flow == "source_to_target" else src
    deg = torch.zeros(num_nodes, dtype=w.dtype, device=w.device).index_add_(0, idx, w)
    dis = deg.pow(-0.5)
    dis = dis.masked_fill(torch.isinf(dis), 0.0)
    return dis[src] * w * dis[dst]


def gcn_norm(edge_index: Tensor, edge_weight: Optional[Tensor] = None,
             num_nodes: Optional[int] = None, improved: bool = False,
             add_self_loops: bool = True, flow: str = "source_to_target",
             dtype: Optional[torch.dtype] = None) -> Tuple[Tensor, Optional[Tensor]]:
    r"""GCN's normalised adjacency :math:`\hat D^{-1/2}\hat A\hat D^{-1/2}`
    as an edge list, with PyG's signature and outputs.

    With ``add_self_loops``, PyG's ``add_remaining_self_loops``: input
    self-loops are removed and every node gets one loop, weighing what its
    last input self-loop weighed, else 1 (2 with ``improved``). Degrees sum
    the weights arriving at each node (leaving it with
    ``flow="target_to_source"``).

    Args:
        edge_index: (2, E) integer indices, or a torch sparse ``adj_t`` (N, N)
            in COO, CSR or CSC layout (its values are the weights).
        edge_weight: (E,) weights (default 1).
        num_nodes: N (default: the largest index + 1).
        improved: loops weigh 2.
        add_self_loops: add the loops before normalising.
        flow: ``"source_to_target"`` or ``"target_to_source"``.
        dtype: of the weights made when ``edge_weight`` is None.

    Returns:
        ``(edge_index, edge_weight)``: (2, E') with the loops last and (E',)
        weights; for a sparse ``adj_t``, ``(adj_t, None)`` normalised, in
        its layout (differentiable in its values).
    """
    if edge_index.layout != torch.strided:
        return _gcn_norm_sparse(edge_index, num_nodes, improved, add_self_loops, dtype)
    if flow != "source_to_target" and flow != "target_to_source":
        raise ValueError("flow: expected 'source_to_target' or 'target_to_source'")
    n = int(edge_index.max()) + 1 if num_nodes is None and edge_index.numel() > 0 else (
        0 if num_nodes is None else num_nodes)
    if edge_weight is None:
        w = torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
    else:
        w = edge_weight
    if add_self_loops:
        src, dst = edge_index[0], edge_index[1]
        is_loop = src == dst
        last = last_self_loop(src, is_loop, n)
        fill = torch.full((n,), 2.0 if improved else 1.0, dtype=w.dtype, device=w.device)
        loop_w = torch.where(last >= 0, w[last.clamp_min(0)], fill) if w.numel() > 0 else fill
        keep = ~is_loop
        loops = torch.arange(n, device=edge_index.device)
        edge_index = torch.cat([edge_index[:, keep], torch.stack([loops, loops])], 1)
        w = torch.cat([w[keep], loop_w])
    return edge_index, _symmetric(edge_index[0], edge_index[1], w, n, flow)


@torch.jit.unused
def _gcn_norm_sparse(adj_t: Tensor, num_nodes: Optional[int], improved: bool,
                     add_self_loops: bool, dtype: Optional[torch.dtype]
                     ) -> Tuple[Tensor, Optional[Tensor]]:
    """``gcn_norm`` of a torch sparse ``adj_t``: the same graph as its edge
    list (loops where missing, not on top of existing ones)."""
    from geodl.nn.conv.propagation import _sparse_to_edges

    ei, values, (n_src, n_dst) = _sparse_to_edges(adj_t)
    if n_src != n_dst:
        raise ValueError(f"edge_index: gcn_norm needs a square adjacency, got shape "
                         f"{tuple(adj_t.shape)}")
    if num_nodes is not None and num_nodes != n_src:
        raise ValueError(f"num_nodes: {num_nodes} disagrees with the adjacency's {n_src}")
    w = values if values.is_floating_point() else values.to(dtype or torch.get_default_dtype())
    ei, w = gcn_norm(ei, w, n_src, improved, add_self_loops)
    out = torch.sparse_coo_tensor(ei.flip(0), w, (n_dst, n_src)).coalesce()
    if adj_t.layout == torch.sparse_csr:
        out = out.to_sparse_csr()
    elif adj_t.layout == torch.sparse_csc:
        out = out.to_sparse_csc()
    return out, None


class GCNConv(GraphLayer, MessagePassing):
    r"""Graph convolution from `"Semi-supervised Classification with Graph
    Convolutional Networks" <https://arxiv.org/abs/1609.02907>`_ (Kipf & Welling, 2017).

    .. math::
        \mathbf{X}' = \hat{\mathbf{D}}^{-1/2}\hat{\mathbf{A}}
        \hat{\mathbf{D}}^{-1/2}\mathbf{X}\mathbf{\Theta} + \mathbf{b},
        \qquad \hat{\mathbf{A}} = \mathbf{A} + \mathbf{I},\;
        \hat D_{ii} = \textstyle\sum_j \hat A_{ij},

    with :math:`A_{ij} = w_{ji}` the weight of edge :math:`j \to i` (so
    :math:`\hat D` sums the weights *arriving* at each node, as PyG does on a
    directed graph). It is the first-order (K = 2, :math:`\lambda_{\max} = 2`,
    one shared weight) simplification of :class:`ChebConv` with the
    renormalisation trick. Self-loops follow PyG's ``add_remaining_self_loops``:
    a node that already has a self-loop keeps its weight, the others get 1
    (2 with ``improved=True``, also without ``edge_weight``, where PyG 2.8
    silently uses 1: geodl's output then equals PyG's given unit weights).
    Degrees of 0 give 0, not inf. Checked against
    a dense :math:`\hat D^{-1/2}\hat A\hat D^{-1/2}` built by hand; state-dict
    keys (``lin.weight``, ``bias``) and outputs match PyG's ``GCNConv``.

    The product is one CSR sparse-dense product over a structure cached per
    graph. The layer is also a PyG ``MessagePassing``: with
    ``decomposed_layers > 1``, a registered message-passing hook or an
    explainer attached, it runs PyG's ``propagate`` on per-edge messages
    instead (the same function; edges as :func:`gcn_norm` gives them), and
    ``torch.jit.script`` compiles that path.

    Args:
        in_channels: input features (-1: inferred on the first call).
        out_channels: output features.
        improved: self-loop weight 2 instead of 1.
        cached: keep the normalised operator of the first graph seen and reuse
            it (transductive learning on one fixed graph; another graph size
            is refused). Without it, the CSR structure is still reused while
            the same ``edge_index`` tensor is passed; only the normalisation
            (a few vector operations) is redone.
        add_self_loops: add :math:`I` before normalising (default: ``normalize``).
        normalize: apply the symmetric normalisation (else use raw weights).
        bias: learn an additive bias.
        flow: ``"source_to_target"`` (default) or ``"target_to_source"``
            (edge lists only; transpose a sparse ``adj_t`` instead, as PyG asks).
        decomposed_layers: PyG's inference-memory option: the per-edge
            messages of the message-passing path are built in this many
            feature chunks (the CSR path never builds them).

    Shapes:
        - **input:** ``x`` :math:`(N, F_{in})` or :math:`(B, N, F_{in})` (one
          graph, B feature sets), ``edge_index`` :math:`(2, E)` or a sparse
          ``adj_t`` :math:`(N, N)` (its values are the weights),
          ``edge_weight`` :math:`(E,)` *(optional, finite, non-negative
          when normalising)*
        - **output:** :math:`(N, F_{out})` or :math:`(B, N, F_{out})`
    """

    batched_features = True
    adjacency_values = "edge_weight"

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 cached: bool = False, add_self_loops: Optional[bool] = None,
                 normalize: bool = True, bias: bool = True,
                 flow: str = "source_to_target", decomposed_layers: int = 1) -> None:
        check_channels(in_channels, "in_channels", lazy=True)
        check_channels(out_channels, "out_channels")
        if add_self_loops is None:
            add_self_loops = normalize
        if add_self_loops and not normalize:
            raise ValueError(f"add_self_loops: '{self.__class__.__name__}' does not support "
                             f"adding self-loops to the graph when no on-the-fly "
                             f"normalization is applied")
        if flow not in FLOWS:
            raise ValueError(f"flow: expected 'source_to_target' or 'target_to_source', got {flow!r}")
        super().__init__(aggr="add", flow=flow, decomposed_layers=decomposed_layers)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached = improved, cached
        self.add_self_loops, self.normalize = add_self_loops, normalize
        self.lin = Linear(in_channels, out_channels, bias=False, weight_initializer="glorot")
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached_edge_index: Optional[tuple[GraphStructure, Tensor]] = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)
        self._cached_edge_index = None

    @property
    def nonnegative_edge_weight(self) -> bool:
        return self.normalize

    def _operator(self, g, edge_weight: Optional[Tensor], dtype: torch.dtype
                  ) -> tuple[GraphStructure, Tensor]:
        """(structure, CSR-order values) of the normalised adjacency."""
        s = g.structure(self_loops=self.add_self_loops)
        ei = g.edge_index
        w = torch.ones(g.num_edges, dtype=dtype, device=ei.device) if edge_weight is None \
            else edge_weight.to(dtype)
        if self.add_self_loops:
            # input self-loops stay as zero entries: no data-dependent shapes
            w = s.with_loops(w, s.loop_values(w, 2.0 if self.improved else 1.0))
        if self.normalize:
            src, dst = ei[0], ei[1]
            if self.add_self_loops:
                loops = torch.arange(s.num_loops, device=ei.device)
                src, dst = torch.cat([src, loops]), torch.cat([dst, loops])
            w = _symmetric(src, dst, w, g.size[1], "source_to_target")
        return s, s.sort(w)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None
                ) -> Tensor:
        if torch.jit.is_scripting():
            return self.forward_propagate(x, edge_index, edge_weight)
        return self._forward(x, edge_index, edge_weight)

    @torch.jit.unused
    def _forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError(f"x: {self.__class__.__name__} takes one feature tensor, not a "
                             f"pair (it has no bipartite form; SAGEConv or GATConv do)")
        sparse = isinstance(edge_index, Tensor) and edge_index.layout != torch.strided
        if self.flow == "target_to_source" and sparse:
            raise ValueError("flow: 'target_to_source' is invalid with a sparse adjacency; "
                             "use the default flow with the transposed adjacency (adj_t.t())")
        if self._uses_message_passing():
            self.prepare(x, edge_index, edge_weight=edge_weight)  # the checks
            return self.forward_propagate(x, edge_index, edge_weight)
        cache = self._cached_edge_index if self.cached else None
        if cache is None:
            if self.flow == "target_to_source":
                edge_index = edge_index.flip(0)
            inp = self.prepare(x, edge_index, edge_weight=edge_weight)
            cache = self._operator(inp.graph, inp.edge_weight, x.dtype)
            if self.cached:
                self._cached_edge_index = (cache[0], cache[1].detach())
        else:
            self.check_dtype(x)
            if cache[0].size[1] != x.shape[-2]:
                raise ValueError(f"x: {self.__class__.__name__}(cached=True) keeps the operator of "
                                 f"its first graph ({cache[0].size[1]} nodes), got "
                                 f"{x.shape[-2]} nodes; use cached=False for other graphs")
        s, w = cache
        out = node_matmul(s, w.to(x.dtype), self.lin(x))
        if self.bias is not None:
            out = out + self.bias
        return out

    def forward_propagate(self, x: Tensor, edge_index: Tensor,
                          edge_weight: Optional[Tensor] = None) -> Tensor:
        """The layer on PyG's ``propagate`` (per-edge messages), for hooks,
        explanations, ``decomposed_layers`` and TorchScript."""
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, x.size(self.node_dim),
                                               self.improved, self.add_self_loops, self.flow,
                                               x.dtype)
        x = self.lin(x)
        # propagate_type: (x: Tensor, edge_weight: Optional[Tensor])
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        """Per-edge message on PyG's path: the source features (E, C) times
        the edge's normalised weight."""
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def message_and_aggregate(self, adj_t: Adj, x: Tensor) -> Tensor:
        """PyG's fused path for a sparse adjacency: ``adj_t @ x`` (N, C)."""
        return spmm(adj_t, x, reduce=self.aggr)

    @torch.jit.unused
    def _uses_message_passing(self) -> bool:
        """Hooks, an explainer or ``decomposed_layers`` need PyG's per-edge messages."""
        hooks = (self._propagate_forward_pre_hooks, self._propagate_forward_hooks,
                 self._message_forward_pre_hooks, self._message_forward_hooks,
                 self._aggregate_forward_pre_hooks, self._aggregate_forward_hooks,
                 self._message_and_aggregate_forward_pre_hooks,
                 self._message_and_aggregate_forward_hooks)
        return self.decomposed_layers > 1 or bool(self.explain) or any(len(h) for h in hooks)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
