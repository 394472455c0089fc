r"""The propagation base every geodl graph layer stands on.

A layer says only what is its own (its parameters, its message, its
update); this module does the rest, once, for all of them:

* **input forms** PyG code uses: ``x`` as a tensor, a bipartite pair
  ``(x_src, x_dst)`` or ``(x_src, None)``; the graph as a ``(2, E)`` integer
  ``edge_index`` (row 0 the source :math:`j`, row 1 the target :math:`i`) or
  as a torch sparse adjacency ``adj_t`` of shape ``(N_dst, N_src)`` in COO,
  CSR or CSC layout (``adj_t[i, j]`` holds edge :math:`j \to i`, what
  ``T.ToSparseTensor`` and ``to_torch_csc_tensor(edge_index).t()`` give);
  ``size=(N_src, N_dst)``;
* **validation** (``ValueError`` naming the argument, with the checks of
  ``geodl.ops.validation``): integer indices in range, sizes that agree;
* **the CSR structure** of :math:`A[i, j]` (``geodl.ops.SparseOperator``),
  sorted once per graph and *reused across calls on the same graph*: it is
  cached on the ``edge_index`` tensor object itself, keyed by its version
  counter, data pointer, shape, device and the sizes (an in-place edit, a
  ``.data`` swap or other sizes all rebuild; the entry dies with the tensor).

Self-loops (GCN, GAT, FeaSt) are handled without data-dependent shapes:
the structure holds every input edge *plus* one diagonal entry per node
:math:`i < \min(N_{src}, N_{dst})`; input self-loops stay in place and the
layer gives them value 0 (or attention logit :math:`-\infty`), which is the
same operator as removing them. No boolean masking happens per call, so a
layer traces under ``torch.compile`` without graph breaks; when compiling,
the cache is bypassed (the structure is built inside the graph) and the CSR
product becomes a gather + ``index_add_`` (see ``SparseOperator.matmul``).
"""
from __future__ import annotations

import warnings
import weakref
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from geodl.ops.spmm import SparseOperator
from geodl.ops.validation import (  # noqa: F401  (re-exported: the layers' checks)
    AGGR,
    check_aggr,
    check_edge_attr,
    check_edge_index,
    check_edge_weight,
    check_features,
)

PairTensor = Tuple[Tensor, Optional[Tensor]]
XInput = Union[Tensor, PairTensor]
Size = Optional[Tuple[int, int]]

_SPARSE = (torch.sparse_coo, torch.sparse_csr, torch.sparse_csc)



class _TensorCache:
    """id(tensor) -> dict, entries removed when the tensor dies. (Python's
    ``WeakKeyDictionary`` compares keys with ``==``, elementwise for tensors.)"""

    def __init__(self) -> None:
        self._data: dict[int, tuple[weakref.ref, dict]] = {}

    def get(self, t: Tensor) -> Optional[dict]:
        hit = self._data.get(id(t))
        return hit[1] if hit is not None and hit[0]() is t else None

    def slot(self, t: Tensor) -> dict:
        hit = self.get(t)
        if hit is None:
            key = id(t)
            data = self._data
            ref = weakref.ref(t, lambda _r, key=key: data.pop(key, None))
            hit = {}
            data[key] = (ref, hit)
        return hit

    def __len__(self) -> int:
        return len(self._data)


# edge_index tensor -> {what: (stamp, GraphStructure)}; entries die with the graph.
_CACHE = _TensorCache()


def _compiling() -> bool:
    return torch.compiler.is_compiling()


def _version(t: Tensor) -> int:
    """The tensor's version counter (bumped by every in-place write)."""
    return t._version


def _cacheable(t: Tensor) -> bool:
    # inference-mode tensors have no version counter: never cache those
    return not t.is_inference() and t.layout == torch.strided and t.dtype == torch.long


class GraphStructure:
    r"""CSR structure of one graph, with what layers derive from it.

    Entries are the E input edges, followed (with ``self_loops``) by one
    diagonal entry per node :math:`i < n = \min(N_{src}, N_{dst})`. Entry
    values are given in that order and sorted with :meth:`sort`.

    Attributes:
        op: the ``SparseOperator`` of :math:`A[i, j]`, shape ``(N_dst, N_src)``.
        src: (nnz,) source of every entry, in CSR order.
        dst: (nnz,) target of every entry, in CSR order.
        num_edges: E.
        num_loops: n (0 without self-loops).
        is_loop: (E,) bool, input edges that are self-loops (``self_loops`` only).
    """

    def __init__(self, edge_index: Tensor, n_src: int, n_dst: int, self_loops: bool) -> None:
        src, dst = edge_index[0], edge_index[1]
        # a copy, not a view: a view would keep the edge_index object (the
        # weak cache key) alive through its base
        self.input_src = src.clone() if self_loops else None
        self.num_edges = src.numel()
        self.size = (n_src, n_dst)
        self.num_loops = min(n_src, n_dst) if self_loops else 0
        if self_loops:
            ar = torch.arange(self.num_loops, device=src.device)
            self.is_loop = src == dst
            src, dst = torch.cat([src, ar]), torch.cat([dst, ar])
        else:
            self.is_loop = None
        self.op = SparseOperator(dst, src, (n_dst, n_src))
        self.src, self.dst = self.op.col, self.op.row
        self._cache: dict[str, Tensor] = {}

    def sort(self, values: Tensor) -> Tensor:
        """(nnz, ...) values in entry order -> CSR order."""
        return values[self.op.order]

    def _memo(self, name: str, make) -> Tensor:
        if _compiling():
            return make()
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def edge_mask(self, dtype: torch.dtype) -> Tensor:
        """(nnz,) 1 for entries that count, 0 for input self-loops that the
        added diagonal replaces (entry order)."""
        def make() -> Tensor:
            keep = torch.ones(self.num_edges + self.num_loops, dtype=dtype,
                              device=self.op.row.device)
            if self.is_loop is not None:
                keep[:self.num_edges] = (~self.is_loop).to(dtype)
            return keep
        return self._memo(f"mask{dtype}", make)

    def in_degree(self, dtype: torch.dtype) -> Tensor:
        """(N_dst,) number of counted entries arriving at each target."""
        def make() -> Tensor:
            m = self.sort(self.edge_mask(dtype))
            return m.new_zeros(self.size[1]).index_add_(0, self.dst, m)
        return self._memo(f"deg{dtype}", make)

    def mean_weights(self, dtype: torch.dtype) -> Tensor:
        r"""(nnz,) CSR-order weights :math:`1/\deg(i)` of counted entries: a
        product with them is the mean over each target's neighbours."""
        def make() -> Tensor:
            deg = self.in_degree(dtype).clamp_min(1)
            return self.sort(self.edge_mask(dtype)) / deg[self.dst]
        return self._memo(f"meanw{dtype}", make)

    def loop_values(self, edge_values: Tensor, fill: float | Tensor) -> Tensor:
        r"""PyG's ``add_remaining_self_loops`` values: node :math:`i`'s loop
        keeps the value of its input self-loop (of the last one in input
        order when there are several, as PyG's assignment does on a CPU),
        the others get ``fill``. (n, ...) for ``edge_values`` (E, ...)."""
        last = self._memo("last_loop", self._last_loop)
        fill_t = torch.as_tensor(fill, dtype=edge_values.dtype, device=edge_values.device)
        if edge_values.shape[0] == 0:  # no edges: every loop gets the fill
            return fill_t.expand(self.num_loops, *edge_values.shape[1:]).clone()
        picked = edge_values[last.clamp_min(0)]
        has = (last >= 0).view(-1, *([1] * (edge_values.dim() - 1)))
        return torch.where(has, picked, fill_t)

    def _last_loop(self) -> Tensor:
        """(n,) input position of each node's last self-loop, -1 if none."""
        assert self.is_loop is not None and self.input_src is not None
        return last_self_loop(self.input_src, self.is_loop, self.num_loops)

    def with_loops(self, edge_values: Tensor, loop_values: Tensor) -> Tensor:
        """Entry-order values: input edges (self-loops zeroed) then loops."""
        keep = self.is_loop
        if keep is None:
            return edge_values
        mask = (~keep).view(-1, *([1] * (edge_values.dim() - 1)))
        return torch.cat([edge_values * mask.to(edge_values.dtype), loop_values])


def last_self_loop(src: Tensor, is_loop: Tensor, num_loops: int) -> Tensor:
    """(num_loops,) input position of each node's last self-loop, -1 if
    none, for edges with sources ``src`` (E,) of which ``is_loop`` (E,) are
    self-loops; no data-dependent shapes (traces under ``torch.compile`` and
    TorchScript)."""
    pos = torch.arange(src.numel(), device=src.device)
    pos = torch.where(is_loop, pos, torch.full_like(pos, -1))
    # input self-loops have src == dst < num_loops; others are -1 and clamped in range
    node = src.clamp(max=max(num_loops - 1, 0))
    return torch.full((num_loops,), -1, dtype=pos.dtype, device=pos.device).scatter_reduce(
        0, node, pos, "amax", include_self=True)


def split_x(x: XInput, name: str = "x") -> tuple[Tensor, Optional[Tensor]]:
    """``x`` or ``(x_src, x_dst)`` -> ``(x_src, x_dst)`` (``x_dst`` is ``x``
    itself for a plain tensor, may be None for a pair)."""
    if isinstance(x, Tensor):
        return x, x
    if isinstance(x, (tuple, list)) and len(x) == 2 and isinstance(x[0], Tensor) and (
            x[1] is None or isinstance(x[1], Tensor)):
        return x[0], x[1]
    raise TypeError(f"{name}: expected a tensor or a pair (x_src, x_dst), got "
                    f"{type(x).__name__}")


def _sparse_to_edges(adj: Tensor) -> tuple[Tensor, Tensor, tuple[int, int]]:
    """torch sparse ``adj_t`` (N_dst, N_src) -> (edge_index [src; dst], values, size)."""
    if adj.layout == torch.sparse_coo:
        if not adj.is_coalesced():
            adj = adj.coalesce()
        idx, val = adj.indices(), adj.values()
        dst, src = idx[0], idx[1]
    elif adj.layout == torch.sparse_csr:
        crow, src, val = adj.crow_indices(), adj.col_indices(), adj.values()
        dst = torch.ops.aten._convert_indices_from_csr_to_coo(crow, src)[0]
    else:  # CSC: column pointers over sources
        ccol, dst, val = adj.ccol_indices(), adj.row_indices(), adj.values()
        src = torch.ops.aten._convert_indices_from_csr_to_coo(ccol, dst)[0]
    if adj.dim() != 2 + (val.dim() - 1):
        raise ValueError(f"edge_index: expected a 2-D sparse adjacency, got shape {tuple(adj.shape)}")
    return torch.stack([src, dst]).long(), val, (int(adj.shape[1]), int(adj.shape[0]))


class Graph:
    """A parsed graph argument: ``edge_index`` (2, E) long in the caller's edge
    order, ``values`` carried by a sparse adjacency (or None), ``size``
    ``(N_src, N_dst)``, and :meth:`structure` (cached CSR)."""

    def __init__(self, edge_index: Tensor, values: Optional[Tensor], size: tuple[int, int],
                 key: Optional[Tensor]) -> None:
        self.edge_index, self.values, self.size = edge_index, values, size
        self._key = key  # the tensor the caller passed: the cache anchor

    @property
    def num_edges(self) -> int:
        return self.edge_index.shape[1]

    def structure(self, self_loops: bool = False) -> GraphStructure:
        if _compiling() or self._key is None or not _cacheable(self._key):
            return GraphStructure(self.edge_index, *self.size, self_loops)
        key = self._key
        stamp = (_version(key), key.data_ptr(), tuple(key.shape), key.device, self.size, self_loops)
        slot = _CACHE.slot(key)
        s = slot.get(self_loops)
        if s is None or s[0] != stamp:
            s = (stamp, GraphStructure(self.edge_index, *self.size, self_loops))
            slot[self_loops] = s
        return s[1]


def _checked_before(key: Tensor, size: tuple[int, int]) -> bool:
    slot = _CACHE.get(key)
    if slot is None:
        return False
    stamp = slot.get("checked")
    return stamp == (_version(key), key.data_ptr(), tuple(key.shape), key.device, size)


def _mark_checked(key: Tensor, size: tuple[int, int]) -> None:
    slot = _CACHE.slot(key)
    slot["checked"] = (_version(key), key.data_ptr(), tuple(key.shape), key.device, size)


def parse_graph(edge_index: Tensor, size: Size, x_src: Tensor, x_dst: Optional[Tensor],
                node_dim: int = -2) -> Graph:
    """Validate ``edge_index`` (or a sparse ``adj_t``) and ``size`` against the
    features; see the module docstring for the forms accepted."""
    if isinstance(edge_index, Tensor) and edge_index.layout in _SPARSE:
        ei, values, adj_size = _sparse_to_edges(edge_index)
        if size is not None and tuple(size) != adj_size:
            raise ValueError(f"size: {tuple(size)} disagrees with the adjacency's (N_src, N_dst) "
                             f"= {adj_size}")
        size_t = adj_size
        key = None
        if values.dim() == 1 and values.numel() and not values.is_floating_point():
            values = values.to(x_src.dtype)
    else:
        if not isinstance(edge_index, Tensor):
            raise TypeError(f"edge_index: expected a tensor, got {type(edge_index).__name__}")
        ei, values, key = edge_index, None, edge_index
        if size is not None:
            if len(size) != 2:
                raise ValueError(f"size: expected (N_src, N_dst), got {size}")
            n_src = int(size[0]) if size[0] is not None else x_src.shape[node_dim]
            n_dst = int(size[1]) if size[1] is not None else (
                x_dst.shape[node_dim] if x_dst is not None else n_src)
            size_t = (n_src, n_dst)
        else:
            n_src = x_src.shape[node_dim]
            if x_dst is None:
                raise ValueError("size: needed when x is (x_src, None) and edge_index is a "
                                 "tensor (the number of targets is not known)")
            size_t = (n_src, x_dst.shape[node_dim])
    if x_src.shape[node_dim] != size_t[0]:
        raise ValueError(f"x: expected {size_t[0]} source nodes (size[0]), got "
                         f"{x_src.shape[node_dim]}")
    if x_dst is not None and x_dst.shape[node_dim] != size_t[1]:
        raise ValueError(f"x: expected {size_t[1]} target nodes (size[1]), got "
                         f"{x_dst.shape[node_dim]}")
    cache = key is not None and not _compiling() and _cacheable(key)
    if cache and _checked_before(key, size_t):
        return Graph(ei, values, size_t, key)
    check_edge_index(ei, size_t)
    if cache:
        _mark_checked(key, size_t)
    return Graph(ei.long(), values, size_t, key if cache else None)


def check_x(x: Tensor, channels: int, name: str = "x") -> None:
    """Deprecated: ``geodl.ops.validation.check_features(x, channels, batched=True)``."""
    warnings.warn("geodl.nn.conv.propagation.check_x is deprecated; use "
                  "geodl.ops.validation.check_features(x, channels, batched=True)",
                  DeprecationWarning, stacklevel=2)
    check_features(x, channels, batched=True, name=name)


def channels_pair(in_channels: Union[int, Tuple[int, int]]) -> tuple[int, int]:
    if isinstance(in_channels, int):
        return in_channels, in_channels
    if isinstance(in_channels, (tuple, list)) and len(in_channels) == 2:
        return int(in_channels[0]), int(in_channels[1])
    raise ValueError(f"in_channels: expected an int or a pair, got {in_channels!r}")


def node_matmul(s: GraphStructure, values: Tensor, x: Tensor) -> Tensor:
    """:math:`A X` with CSR-ordered ``values``; ``x`` (N_src, C) or
    (B, N_src, C) (one graph shared by B feature sets: PyG's static graphs)."""
    if x.dim() == 2:
        return s.op.matmul(values, x, presorted=True)
    b, n, c = x.shape
    y = s.op.matmul(values, x.permute(1, 0, 2).reshape(n, b * c), presorted=True)
    return y.reshape(-1, b, c).permute(1, 0, 2)


def gather(x: Tensor, index: Tensor) -> Tensor:
    """Rows ``x[..., index, :]`` along the node dimension (-2)."""
    return x.index_select(-2, index)


def scatter_nodes(msg: Tensor, index: Tensor, num_nodes: int, reduce: str) -> Tensor:
    """Aggregate (..., nnz, C) messages to (..., num_nodes, C) by ``index``
    (targets). ``reduce``: sum, mean, max, min; nodes without messages get 0
    (PyG's convention)."""
    shape = list(msg.shape)
    shape[-2] = num_nodes
    idx = index.view(*([1] * (msg.dim() - 2)), -1, 1).expand_as(msg)
    if reduce == "sum":
        return msg.new_zeros(shape).scatter_add_(-2, idx, msg)
    red = {"mean": "mean", "max": "amax", "min": "amin"}[reduce]
    return msg.new_zeros(shape).scatter_reduce_(-2, idx, msg, red, include_self=False)
