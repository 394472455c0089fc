"""Forward + backward of EdgeConv, GATConv and SAGEConv: geodl against PyG's
same layers with identical weights, interleaved in one run; outputs compared.
Three rows:

* ``large``: a random graph of 100k nodes and 2M directed edges (EdgeConv, GAT);
* ``small``: 2 000 nodes and 20 000 edges, the same ``edge_index`` every call
  (full-batch training on a small graph: geodl reuses its CSR structure);
* ``minibatch``: NeighborLoader-style bipartite batches from the large graph
  (1 024 seeds, 25 sampled neighbours each, ``(x_src, x_dst)`` with
  ``size``), a new batch every call (nothing to reuse).

    .venv/bin/python benchmarks/bench_message_passing.py [--rows large,small,minibatch] [--device cuda]

EdgeConv: nn = Linear(2C, C) -> ReLU -> Linear(C, C), max aggregation, C = 64.
GATConv: 64 -> 8 x 8 (8 heads of 8 channels, concatenated). SAGEConv: 64 -> 64, mean.
"""
from __future__ import annotations

import argparse
import os
import sys

import torch
import torch_geometric
import torch_geometric.nn as pyg_nn

sys.path.insert(0, os.path.dirname(__file__))
from common import compare_calls, compare_layers  # noqa: E402
from neighbor_batch import neighbor_batch  # noqa: E402

from geodl.nn.conv import EdgeConv, GATConv, SAGEConv  # noqa: E402


def _layers(c: int, bipartite: bool = False, device: torch.device | str = "cpu"):
    mlp = torch.nn.Sequential(torch.nn.Linear(2 * c, c), torch.nn.ReLU(), torch.nn.Linear(c, c))
    theirs_edge = pyg_nn.EdgeConv(mlp)  # both re-initialise the shared mlp: same weights
    ours_edge = EdgeConv(mlp)
    cin = (c, c) if bipartite else c
    pairs = [("EdgeConv (max)", ours_edge, theirs_edge),
             ("GATConv (8 heads)", GATConv(cin, c // 8, heads=8), pyg_nn.GATConv(cin, c // 8, heads=8)),
             ("SAGEConv (mean)", SAGEConv(cin, c), pyg_nn.SAGEConv(cin, c))]
    for _, ours, theirs in pairs[1:]:
        ours.load_state_dict(theirs.state_dict())
    for _, ours, theirs in pairs:
        ours.to(device)
        theirs.to(device)
    return pairs


def _cycle(layer, batches):
    """A call that runs ``layer`` on the next batch (each contender has its own turn)."""
    turn = [0]

    def call():
        xs, ei, size = batches[turn[0] % len(batches)]
        turn[0] += 1
        if isinstance(layer, (EdgeConv, pyg_nn.EdgeConv)):
            return layer(xs, ei)  # EdgeConv takes no size: the targets are x_dst
        return layer(xs, ei, size=size)
    return call


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=2_000_000)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rows", default="large,small,minibatch")
    ap.add_argument("--device", default="cpu", help="torch device of both libraries (cuda)")
    args = ap.parse_args()
    device = torch.device(args.device)
    rows = args.rows.split(",")
    g = torch.Generator().manual_seed(0)
    c = args.channels
    print(f"torch {torch.__version__}, PyG {torch_geometric.__version__}, "
          f"threads {torch.get_num_threads()}, device {device}")
    ei_cpu = torch.randint(0, args.nodes, (2, args.edges), generator=g)
    ei = ei_cpu.to(device)
    x = torch.randn(args.nodes, c, generator=g).to(device).requires_grad_()
    if "large" in rows:
        print(f"\n== large: random graph, {args.nodes} nodes, {args.edges} directed edges, "
              f"{c} channels")
        for name, ours, theirs in _layers(c, device=device)[:2]:
            compare_layers(name, ours, theirs, x, ei, args.repeats)
    if "small" in rows:
        ei_s = torch.randint(0, 2000, (2, 20_000), generator=g).to(device)
        x_s = torch.randn(2000, c, generator=g).to(device).requires_grad_()
        print("\n== small: 2000 nodes, 20000 edges, same edge_index every call; "
              "20 passes per timing, 10 timings")
        for name, ours, theirs in _layers(c, device=device):
            compare_calls(name, lambda: ours(x_s, ei_s), lambda: theirs(x_s, ei_s), 10, 20)
    if "minibatch" in rows:
        batches = []
        for _ in range(8):
            nodes, ei_b, counts = neighbor_batch(ei_cpu, args.nodes, 1024, [25], g)
            xb = x.detach()[nodes.to(device)].requires_grad_()
            batches.append(((xb, xb[:counts[0]]), ei_b.to(device), (counts[1], counts[0])))
        n_src = sum(b[2][0] for b in batches) / len(batches)
        print(f"\n== minibatch: 8 NeighborLoader-style bipartite batches (1024 seeds, fanout 25, "
              f"~{n_src:.0f} sources, {batches[0][1].shape[1]} edges), a new batch every call; "
              f"one timing = the 8 batches")
        for name, ours, theirs in _layers(c, bipartite=True, device=device):
            compare_calls(name, _cycle(ours, batches), _cycle(theirs, batches),
                          args.repeats * 3, len(batches))


if __name__ == "__main__":
    main()
