"""Forward + backward of GCNConv and ChebConv (K=3), 64 -> 64 channels, on a
random graph of 100k nodes and 2M directed edges: geodl against PyG's same
layers with identical weights, interleaved in one run; outputs compared.

    .venv/bin/python benchmarks/bench_spectral_conv.py [--repeats 5]
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

from geodl.nn.conv import ChebConv, GCNConv  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=2_000_000)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, args.nodes, (2, args.edges), generator=g)
    x = torch.randn(args.nodes, args.channels, generator=g, requires_grad=True)
    c = args.channels
    print(f"random graph: {args.nodes} nodes, {args.edges} directed edges, {c} -> {c} channels; "
          f"torch {torch.__version__}, PyG {torch_geometric.__version__}, "
          f"threads {torch.get_num_threads()}")
    cases = [
        ("GCNConv (cached=False)", GCNConv(c, c), pyg_nn.GCNConv(c, c)),
        ("GCNConv (cached=True)", GCNConv(c, c, cached=True), pyg_nn.GCNConv(c, c, cached=True)),
        ("ChebConv K=3", ChebConv(c, c, K=3), pyg_nn.ChebConv(c, c, K=3)),
    ]
    for name, ours, theirs in cases:
        ours.load_state_dict(theirs.state_dict())
        compare_layers(name, ours, theirs, x, ei, args.repeats)


if __name__ == "__main__":
    main()
