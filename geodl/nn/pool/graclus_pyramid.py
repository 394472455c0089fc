r"""ChebNet pooling: multilevel Graclus coarsening laid out as a balanced
binary tree (Defferrard, Bresson & Vandergheynst, 2016).

Graclus merges nodes in pairs (or leaves singletons). Padding every singleton
with a *fake* sibling makes each coarse node have exactly two children, so
that after renumbering the nodes of each level in tree order, pooling is a
stride-2 reduction over consecutive entries, as cheap and regular as 1D
pooling on a grid. Fake nodes carry no edges and start at a fill value.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from geodl.ops.graclus import graclus_coarsening


@dataclass
class GraclusPyramid:
    """Levels ``0..L`` of a coarsened graph in binary-tree order.

    Attributes:
        orders: per level, (n_l,) the real node at each tree position, -1 for fakes.
        edge_indices: per level, edges in tree positions (fake nodes isolated).
        edge_weights: per level, (E_l,) summed weights of the merged edges.
    """

    orders: list[Tensor]
    edge_indices: list[Tensor]
    edge_weights: list[Tensor]

    @property
    def num_nodes(self) -> list[int]:
        """Padded node count per level (each level has twice the next's)."""
        return [o.numel() for o in self.orders]

    @classmethod
    def build(cls, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int,
              levels: int, seed: int = 0) -> "GraclusPyramid":
        coarse = graclus_coarsening(edge_index, edge_weight, num_nodes, levels, seed)
        dev = edge_index.device
        graphs = [(edge_index, torch.ones(edge_index.shape[1], dtype=torch.float64, device=dev)
                   if edge_weight is None else edge_weight.double())]
        graphs += [(lvl.edge_index, lvl.edge_weight) for lvl in coarse]
        sizes = [num_nodes] + [lvl.num_nodes for lvl in coarse]
        order = torch.arange(sizes[-1], device=dev)
        orders = [order]
        for lvl in range(levels, 0, -1):
            cluster = coarse[lvl - 1].cluster  # level lvl-1 node -> level lvl node
            n_fine = sizes[lvl - 1]
            nodes = torch.arange(n_fine, device=dev)
            first = torch.full((sizes[lvl],), n_fine, dtype=torch.long, device=dev).scatter_reduce(
                0, cluster, nodes, reduce="amin")
            second = torch.full((sizes[lvl],), -1, dtype=torch.long, device=dev).scatter_reduce(
                0, cluster, nodes, reduce="amax")
            second = torch.where(second == first, -1, second)  # singleton: fake sibling
            real = order >= 0
            a = torch.where(real, first[order.clamp_min(0)], -1)
            b = torch.where(real, second[order.clamp_min(0)], -1)
            order = torch.stack([a, b], 1).reshape(-1)
            orders.append(order)
        orders.reverse()
        edge_indices, edge_weights = [], []
        for order, (ei, w), n in zip(orders, graphs, sizes):
            pos = torch.full((n,), -1, dtype=torch.long, device=dev)
            real = order >= 0
            pos[order[real]] = torch.nonzero(real).flatten()
            edge_indices.append(pos[ei])
            edge_weights.append(w)
        return cls(orders, edge_indices, edge_weights)

    def permute(self, x: Tensor, fill: float = 0.0) -> Tensor:
        """Level-0 features (N, C) or (B, N, C) -> tree order (n_0, C) / (B, n_0, C),
        with ``fill`` at fake nodes."""
        order = self.orders[0]
        real = order >= 0
        if x.shape[-2] != int(real.sum()):
            raise ValueError(f"x: expected {int(real.sum())} nodes, got {x.shape[-2]}")
        out = x.new_full((*x.shape[:-2], order.numel(), x.shape[-1]), fill)
        out[..., real, :] = x[..., order[real], :]
        return out

    def batched_edges(self, level: int, batch_size: int) -> tuple[Tensor, Tensor]:
        """The level's graph repeated for ``batch_size`` samples stored
        consecutively (PyG block-diagonal layout)."""
        n = self.num_nodes[level]
        ei, w = self.edge_indices[level], self.edge_weights[level]
        offs = torch.arange(batch_size, device=ei.device).repeat_interleave(ei.shape[1]) * n
        return ei.repeat(1, batch_size) + offs, w.repeat(batch_size)


class BinaryTreePool(torch.nn.Module):
    """Stride-2 pooling over consecutive nodes in tree order.

    Shapes:
        - **input:** :math:`(B \\cdot n_l, C)` (samples stored consecutively) or :math:`(n_l, C)`
        - **output:** half as many rows
    """

    def __init__(self, reduce: str = "max") -> None:
        super().__init__()
        if reduce not in ("max", "mean"):
            raise ValueError(f"reduce: expected 'max' or 'mean', got {reduce!r}")
        self.reduce = reduce

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[0] % 2:
            raise ValueError(f"x: expected an even number of rows, got {x.shape[0]}")
        pairs = x.reshape(x.shape[0] // 2, 2, *x.shape[1:])
        return pairs.amax(1) if self.reduce == "max" else pairs.mean(1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(reduce={self.reduce!r})"
