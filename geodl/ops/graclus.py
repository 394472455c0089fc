r"""Graclus matching (Dhillon et al. 2007) and multilevel graph coarsening.

Graclus greedily pairs each node with the unmatched neighbour that maximises
the normalised-cut gain :math:`w_{ij}(1/d_i + 1/d_j)` (:math:`d` = weighted
degree); unmatched nodes stay singletons. PyG's ``graclus`` needs
``torch-cluster``; this one is pure torch and vectorised as a handshake
matching: every round each free node proposes to its best free neighbour and
mutual proposals are matched. The globally best free edge is always mutual,
so every round makes progress; ties are broken by a seeded random
perturbation, so a seed fixes the result. The result is a maximal matching
(no two free nodes stay adjacent), as in the sequential algorithm.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from geodl.ops.validation import check_edge_index


def _undirected(edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int
                ) -> tuple[Tensor, Tensor]:
    ei = check_edge_index(edge_index, num_nodes)
    w = torch.ones(ei.shape[1], dtype=torch.float64, device=ei.device) if edge_weight is None else \
        edge_weight.detach().double().flatten()
    if w.numel() != ei.shape[1]:
        raise ValueError(f"edge_weight: expected {ei.shape[1]} values, got {w.numel()}")
    if not torch.isfinite(w).all() or (w < 0).any():
        raise ValueError("edge_weight: expected finite non-negative weights")
    ei, w = remove_self_loops(ei, w)
    # symmetrise with max so a graph given in both directions keeps its weights
    ei, w = to_undirected(ei, w, num_nodes=num_nodes, reduce="max")
    return ei, w


def graclus(edge_index: Tensor, edge_weight: Tensor | None = None,
            num_nodes: int | None = None, seed: int = 0) -> Tensor:
    """Graclus matching.

    Args:
        edge_index: (2, E) long; treated as undirected.
        edge_weight: (E,) non-negative, ones if ``None``.
        num_nodes: N.
        seed: tie-break seed.

    Returns:
        (N,) long cluster ids in ``[0, C)``, numbered by their smallest node;
        each cluster is one node or two adjacent nodes.
    """
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    if num_nodes == 0:
        raise ValueError("graclus: the graph is empty (num_nodes = 0)")
    ei, w = _undirected(edge_index, edge_weight, num_nodes)
    row, col = ei
    deg = torch.zeros(num_nodes, dtype=torch.float64, device=row.device).index_add_(0, row, w)
    inv = torch.where(deg > 0, 1.0 / deg, torch.zeros_like(deg))
    score = w * (inv[row] + inv[col])
    # symmetric random tie-break, far below any real score difference
    gen = torch.Generator().manual_seed(seed)
    lo, hi = torch.minimum(row, col), torch.maximum(row, col)
    eid = lo * num_nodes + hi
    uniq, inverse = torch.unique(eid, return_inverse=True)
    jitter = torch.rand(uniq.numel(), generator=gen, dtype=torch.float64).to(row.device)[inverse]
    scale = score.abs().max().clamp_min(1e-300) if score.numel() else torch.tensor(1.0, device=row.device)
    score = score + 1e-9 * scale * jitter

    mate = torch.full((num_nodes,), -1, dtype=torch.long, device=row.device)
    while True:
        free = (mate[row] < 0) & (mate[col] < 0)
        if not free.any():
            break
        r, c, s = row[free], col[free], score[free]
        best = torch.full((num_nodes,), -torch.inf, dtype=torch.float64, device=row.device)
        best.scatter_reduce_(0, r, s, reduce="amax")
        is_best = s == best[r]
        proposal = torch.full((num_nodes,), -1, dtype=torch.long, device=row.device)
        proposal[r[is_best]] = c[is_best]
        nodes = torch.nonzero(proposal >= 0).flatten()
        mutual = nodes[proposal[proposal[nodes]] == nodes]
        if mutual.numel() == 0:  # cannot happen with distinct scores; stay safe
            break
        mate[mutual] = proposal[mutual]
    ar = torch.arange(num_nodes, device=mate.device)
    rep = torch.where(mate >= 0, torch.minimum(ar, mate), ar)
    return torch.unique(rep, return_inverse=True)[1]


def pool_graph(edge_index: Tensor, edge_weight: Tensor | None, cluster: Tensor,
               num_clusters: int | None = None) -> tuple[Tensor, Tensor]:
    """Coarse graph: edges between clusters with summed weights, no self-loops."""
    if num_clusters is None:
        num_clusters = int(cluster.max()) + 1
    w = torch.ones(edge_index.shape[1], dtype=torch.float64, device=edge_index.device) \
        if edge_weight is None \
        else edge_weight.double()
    ei = cluster[edge_index]
    ei, w = remove_self_loops(ei, w)
    return coalesce(ei, w, num_nodes=num_clusters, reduce="sum")


@dataclass
class CoarseLevel:
    """One level of a coarsening: ``cluster`` maps the finer level's nodes to
    this level's ``num_nodes`` nodes joined by ``edge_index``/``edge_weight``."""

    cluster: Tensor
    edge_index: Tensor
    edge_weight: Tensor
    num_nodes: int


def graclus_coarsening(edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int,
                       levels: int, seed: int = 0) -> list[CoarseLevel]:
    """Apply Graclus ``levels`` times; each level roughly halves the node count."""
    if levels < 1:
        raise ValueError(f"levels: expected >= 1, got {levels}")
    ei, w = _undirected(edge_index, edge_weight, num_nodes)
    out = []
    for lvl in range(levels):
        cluster = graclus(ei, w, num_nodes, seed=seed + lvl)
        n = int(cluster.max()) + 1
        ei, w = pool_graph(ei, w, cluster, n)
        out.append(CoarseLevel(cluster, ei, w, n))
        num_nodes = n
    return out
