r"""The base every geodl layer stands on: one ``prepare`` call turns what a
caller passed (PyG's input forms) into checked source and target features,
the parsed graph with its cached CSR structure, and the edge weights or
features, so that a layer's ``forward`` holds only its own maths.

A layer says what it accepts with a few class attributes
(``batched_features``, ``needs_target``, ``adjacency_values``,
``needs_edge_attr``) and, where its input size is not ``in_channels``,
:meth:`GraphLayer.input_channels`; the checks themselves live in
``geodl.ops.validation``, the parsing and the cache in
``geodl.nn.conv.propagation``.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch.nn.parameter import UninitializedParameter

from geodl.nn.conv.propagation import (
    Graph,
    GraphStructure,
    Size,
    XInput,
    channels_pair,
    parse_graph,
    split_x,
)
from geodl.ops.validation import check_dtype, check_edge_attr, check_edge_weight, check_features


class LayerInput:
    """A layer's checked input, as :meth:`GraphLayer.prepare` returns it.

    Attributes:
        x_src: (N_src, F_src) or (B, N_src, F_src) source features.
        x_dst: (N_dst, F_dst) target features, or None (``(x_src, None)``).
        graph: the parsed graph (``edge_index`` (2, E) in the caller's edge
            order, ``size`` (N_src, N_dst)).
        edge_weight: (E,) weights or None.
        edge_attr: (E, D) edge features in the features' dtype, or None.
    """

    __slots__ = ("x_src", "x_dst", "graph", "edge_weight", "edge_attr")

    def __init__(self, x_src: Tensor, x_dst: Optional[Tensor], graph: Graph,
                 edge_weight: Optional[Tensor], edge_attr: Optional[Tensor]) -> None:
        self.x_src, self.x_dst, self.graph = x_src, x_dst, graph
        self.edge_weight, self.edge_attr = edge_weight, edge_attr

    @property
    def edge_index(self) -> Tensor:
        return self.graph.edge_index

    @property
    def size(self) -> tuple[int, int]:
        return self.graph.size

    @property
    def num_edges(self) -> int:
        return self.graph.num_edges

    def structure(self, self_loops: bool = False) -> GraphStructure:
        """The graph's CSR structure (cached per ``edge_index`` tensor)."""
        return self.graph.structure(self_loops=self_loops)


def nn_in_features(nn: torch.nn.Module) -> int:
    """Input features of a network's first layer (torch or PyG ``Linear``,
    PyG ``MLP``, a ``Sequential`` of them); -1 when it cannot be known
    (lazy, or another kind of module)."""
    first = nn[0] if isinstance(nn, torch.nn.Sequential) and len(nn) else nn
    size = getattr(first, "in_features", getattr(first, "in_channels", -1))
    return size if isinstance(size, int) and size > 0 else -1


class GraphLayer(torch.nn.Module):
    """Base of geodl's layers: input checks and graph parsing, done once.

    Class attributes a layer sets:

    * ``batched_features``: ``x`` may be (B, N, F), one graph shared by B
      feature sets (PyG's static graphs);
    * ``needs_target``: a pair ``(x_src, None)`` is refused;
    * ``adjacency_values``: what the values of a sparse ``adj_t`` are,
      ``"edge_weight"``, ``"edge_attr"`` or None (ignored);
    * ``needs_edge_attr``: edge features are required;
    * ``edge_attr_name``: how errors name them.
    """

    batched_features: bool = False
    needs_target: bool = False
    adjacency_values: Optional[str] = None
    needs_edge_attr: bool = False
    edge_attr_name: str = "edge_attr"

    def input_channels(self) -> tuple[int, int]:
        """(source, target) feature sizes the layer takes; -1 where unknown."""
        return channels_pair(getattr(self, "in_channels", -1))

    @property
    def nonnegative_edge_weight(self) -> bool:
        """Whether edge weights must be >= 0 (a degree normalisation takes roots)."""
        return False

    def parameter_dtype(self) -> Optional[torch.dtype]:
        """The dtype of the layer's (first materialised floating) parameter."""
        for p in self.parameters():
            if not isinstance(p, UninitializedParameter) and p.is_floating_point():
                return p.dtype
        return None

    def check_dtype(self, x: Tensor, name: str = "x") -> None:
        """Features must have the parameters' dtype (one clear error instead
        of torch's ``expected m1 and m2 to have the same dtype``)."""
        check_dtype(x, self.parameter_dtype(), self.__class__.__name__, name)

    def prepare(self, x: XInput, edge_index: Tensor, size: Size = None, *,
                edge_weight: Optional[Tensor] = None,
                edge_attr: Optional[Tensor] = None) -> LayerInput:
        """Check and parse a forward call's arguments.

        Args:
            x: features, or a pair ``(x_src, x_dst)`` (``x_dst`` may be None).
            edge_index: (2, E) integer indices, or a torch sparse ``adj_t``
                (N_dst, N_src) in COO, CSR or CSC layout.
            size: ``(N_src, N_dst)``, needed only for ``(x_src, None)``.
            edge_weight: (E,) weights (default: the adjacency's values where
                ``adjacency_values == "edge_weight"``).
            edge_attr: (E,) or (E, D) edge features (default: the adjacency's
                values where ``adjacency_values == "edge_attr"``).
        """
        x_src, x_dst = split_x(x)
        in_src, in_dst = self.input_channels()
        check_features(x_src, in_src, batched=self.batched_features)
        if x_dst is None:
            if self.needs_target:
                raise ValueError(f"x: {self.__class__.__name__} needs target features "
                                 f"(x_src, x_dst), got x_dst None")
        else:
            check_features(x_dst, in_dst, batched=self.batched_features)
        dtype = self.parameter_dtype()
        check_dtype(x_src, dtype, self.__class__.__name__)
        if x_dst is not None and x_dst is not x_src:
            check_dtype(x_dst, dtype, self.__class__.__name__)
        graph = parse_graph(edge_index, size, x_src, x_dst)
        if graph.values is not None:
            if self.adjacency_values == "edge_weight" and edge_weight is None:
                edge_weight = graph.values
            elif self.adjacency_values == "edge_attr" and edge_attr is None:
                edge_attr = graph.values
        check_edge_weight(edge_weight, graph.num_edges, nonnegative=self.nonnegative_edge_weight)
        if edge_attr is None:
            if self.needs_edge_attr:
                raise ValueError(f"{self.edge_attr_name}: {self.__class__.__name__} needs edge "
                                 f"features (E, D)")
        else:
            check_edge_attr(edge_attr, graph.num_edges, name=self.edge_attr_name)
            edge_attr = edge_attr.view(-1, 1) if edge_attr.dim() == 1 else edge_attr
            edge_attr = edge_attr.to(x_src.dtype)
        return LayerInput(x_src, x_dst, graph, edge_weight, edge_attr)
