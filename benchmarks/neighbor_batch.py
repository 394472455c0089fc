"""NeighborLoader-style mini-batches built by hand (no pyg-lib): seed nodes,
then ``fanout`` incoming neighbours per node and hop, sampled with
replacement, relabelled so that the seeds come first."""
from __future__ import annotations

import torch
from torch import Tensor


def neighbor_batch(edge_index: Tensor, num_nodes: int, batch_size: int, fanouts: list[int],
                   generator: torch.Generator) -> tuple[Tensor, Tensor, list[int]]:
    """Returns (global ids of the sampled nodes, seeds first; local
    ``edge_index`` (2, E) of the sampled edges, neighbour -> node; the number
    of nodes known after each hop, starting with ``batch_size``). The edges of
    hop 1 point at the seeds only: with ``size=(n_1, batch_size)`` they are
    the bipartite batch a one-layer model sees."""
    order = torch.argsort(edge_index[1])
    src_by_dst = edge_index[0][order]
    ptr = torch.zeros(num_nodes + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(edge_index[1], minlength=num_nodes), 0)
    seeds = torch.randperm(num_nodes, generator=generator)[:batch_size]
    local = torch.full((num_nodes,), -1, dtype=torch.long)
    local[seeds] = torch.arange(batch_size)
    nodes, frontier, counts, edges = [seeds], seeds, [batch_size], []
    for fanout in fanouts:
        deg = ptr[frontier + 1] - ptr[frontier]
        frontier = frontier[deg > 0]
        deg = deg[deg > 0]
        pick = ptr[frontier][:, None] + (torch.rand(len(frontier), fanout, generator=generator)
                                         * deg[:, None]).long()
        src, dst = src_by_dst[pick].flatten(), frontier.repeat_interleave(fanout)
        new = torch.unique(src[local[src] < 0])
        local[new] = torch.arange(counts[-1], counts[-1] + len(new))
        nodes.append(new)
        counts.append(counts[-1] + len(new))
        edges.append(torch.stack([local[src], local[dst]]))
        frontier = new
    return torch.cat(nodes), torch.cat(edges, 1), counts
