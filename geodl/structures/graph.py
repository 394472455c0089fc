"""Graphs are PyG ``Data``; these wrap PyG's networkx converters so that node
names and node/edge/graph attributes survive a round trip.

PyG's ``from_networkx`` renumbers nodes 0..N-1 in ``G.nodes`` order and drops
their names; we keep them in ``data.node_names`` (when they are not already
0..N-1) and restore them in :func:`to_networkx`.
"""
from __future__ import annotations

from typing import Iterable

import networkx as nx
import torch
from torch_geometric.data import Data
from torch_geometric.utils import from_networkx as _pyg_from_networkx
from torch_geometric.utils import to_networkx as _pyg_to_networkx


def from_networkx(graph: nx.Graph, node_attrs: Iterable[str] | None = None,
                  edge_attrs: Iterable[str] | None = None) -> Data:
    """networkx graph -> PyG ``Data``.

    Every node attribute becomes a ``data.<name>`` tensor (N, ...) and every
    edge attribute a ``data.<name>`` tensor (E, ...) aligned with
    ``edge_index`` (an undirected edge appears in both directions). With
    ``node_attrs``/``edge_attrs`` only those are kept. All nodes must carry
    the same attribute keys, as must all edges.
    """
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph: expected a networkx graph, got {type(graph).__name__}")
    if graph.number_of_nodes() == 0:
        raise ValueError("graph: has no nodes")
    names = list(graph.nodes)
    g = nx.convert_node_labels_to_integers(graph, ordering="default")
    if node_attrs is not None or edge_attrs is not None:
        h = g.__class__()
        h.add_nodes_from((n, {k: d[k] for k in (node_attrs or []) if k in d})
                         for n, d in g.nodes(data=True))
        h.add_edges_from((u, v, {k: d[k] for k in (edge_attrs or []) if k in d})
                         for u, v, d in g.edges(data=True))
        h.graph.update(g.graph)
        g = h
    try:
        data = _pyg_from_networkx(g)
    except ValueError as err:
        raise ValueError(f"graph: {err}") from None
    data.num_nodes = len(names)
    if names != list(range(len(names))):
        data.node_names = names
    return data


def to_networkx(data: Data, node_attrs: Iterable[str] | None = None,
                edge_attrs: Iterable[str] | None = None, graph_attrs: Iterable[str] | None = None,
                to_undirected: bool | None = None) -> nx.Graph:
    """PyG ``Data`` -> networkx graph with the named attributes (lists of numbers).

    Args:
        to_undirected: ``None`` picks undirected when ``data.is_undirected()``.
    """
    if getattr(data, "edge_index", None) is None:
        data = data.clone()
        data.edge_index = torch.zeros(2, 0, dtype=torch.long)
    if to_undirected is None:
        to_undirected = bool(data.is_undirected())
    g = _pyg_to_networkx(data, node_attrs=list(node_attrs or []),
                         edge_attrs=list(edge_attrs or []),
                         graph_attrs=list(graph_attrs or []),
                         to_undirected=to_undirected)
    names = getattr(data, "node_names", None)
    if names is not None:
        g = nx.relabel_nodes(g, dict(enumerate(names)))
    return g
