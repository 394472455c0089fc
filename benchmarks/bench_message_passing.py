"""Forward + backward of EdgeConv and GATConv on a random graph of 100k
nodes and 2M directed edges: geodl against PyG's same layers with identical
weights, interleaved in one run; outputs compared.

    .venv/bin/python benchmarks/bench_message_passing.py [--repeats 3]

EdgeConv: nn = Linear(2C, C) -> ReLU -> Linear(C, C), max aggregation, C = 64.
GATConv: 64 -> 8 x 8 (8 heads of 8 channels, concatenated).
"""
from __future__ import annotations

import argparse
import os
import sys

import torch
import torch_geometric
import torch_geometric.nn as pyg_nn

sys.path.insert(0, os.path.dirname(__file__))
from common import compare_layers  # noqa: E402

from geodl.nn.conv import EdgeConv, GATConv  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=2_000_000)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, args.nodes, (2, args.edges), generator=g)
    c = args.channels
    x = torch.randn(args.nodes, c, generator=g, requires_grad=True)
    print(f"random graph: {args.nodes} nodes, {args.edges} directed edges, {c} channels; "
          f"torch {torch.__version__}, PyG {torch_geometric.__version__}, "
          f"threads {torch.get_num_threads()}")
    mlp = torch.nn.Sequential(torch.nn.Linear(2 * c, c), torch.nn.ReLU(), torch.nn.Linear(c, c))
    theirs_edge = pyg_nn.EdgeConv(mlp)  # PyG re-initialises mlp: build it before ours
    ours_edge = EdgeConv(mlp)
    theirs_gat = pyg_nn.GATConv(c, c // 8, heads=8)
    ours_gat = GATConv(c, c // 8, heads=8)
    ours_gat.load_state_dict(theirs_gat.state_dict())
    for name, ours, theirs in [("EdgeConv (max)", ours_edge, theirs_edge),
                               ("GATConv (8 heads)", ours_gat, theirs_gat)]:
        compare_layers(name, ours, theirs, x, ei, args.repeats)


if __name__ == "__main__":
    main()
