"""Forward + backward of GCNConv and ChebConv (K=3), 64 -> 64 channels:
geodl against PyG's same layers with identical weights, interleaved in one
run; outputs compared. Three rows:

* ``large``: a random graph of 100k nodes and 2M directed edges;
* ``small``: 2 000 nodes and 20 000 edges, the same ``edge_index`` every call
  (geodl reuses its CSR structure; ``cached=False``);
* ``minibatch``: NeighborLoader-style subgraphs of the large graph (1 024
  seeds, 25 then 10 sampled neighbours per hop, relabelled, seeds first),
  a new subgraph every call.

    .venv/bin/python benchmarks/bench_spectral_conv.py [--repeats 5] [--rows large,small,minibatch]
        [--device cuda]
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

from geodl.nn.conv import ChebConv, GCNConv  # noqa: E402


def _cases(c: int, cached: bool = True, device: torch.device | str = "cpu"):
    cases = [("GCNConv (cached=False)", GCNConv(c, c), pyg_nn.GCNConv(c, c))]
    if cached:
        cases.append(("GCNConv (cached=True)", GCNConv(c, c, cached=True),
                      pyg_nn.GCNConv(c, c, cached=True)))
    cases.append(("ChebConv K=3", ChebConv(c, c, K=3), pyg_nn.ChebConv(c, c, K=3)))
    for _, ours, theirs in cases:
        ours.load_state_dict(theirs.state_dict())
        ours.to(device)
        theirs.to(device)
    return cases


def _cycle(layer, batches):
    turn = [0]

    def call():
        x, ei = batches[turn[0] % len(batches)]
        turn[0] += 1
        return layer(x, ei)
    return call


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=2_000_000)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rows", default="large,small,minibatch")
    ap.add_argument("--device", default="cpu", help="torch device of both libraries (cuda)")
    args = ap.parse_args()
    device = torch.device(args.device)
    rows = args.rows.split(",")
    g = torch.Generator().manual_seed(0)
    ei_cpu = torch.randint(0, args.nodes, (2, args.edges), generator=g)
    ei = ei_cpu.to(device)
    x = torch.randn(args.nodes, args.channels, generator=g).to(device).requires_grad_()
    c = args.channels
    print(f"torch {torch.__version__}, PyG {torch_geometric.__version__}, "
          f"threads {torch.get_num_threads()}, device {device}")
    if "large" in rows:
        print(f"\n== large: random graph, {args.nodes} nodes, {args.edges} directed edges, "
              f"{c} -> {c} channels")
        for name, ours, theirs in _cases(c, device=device):
            compare_layers(name, ours, theirs, x, ei, args.repeats)
    if "small" in rows:
        ei_s = torch.randint(0, 2000, (2, 20_000), generator=g).to(device)
        x_s = torch.randn(2000, c, generator=g).to(device).requires_grad_()
        print("\n== small: 2000 nodes, 20000 edges, same edge_index every call; "
              "20 passes per timing, 10 timings")
        for name, ours, theirs in _cases(c, device=device):
            compare_calls(name, lambda: ours(x_s, ei_s), lambda: theirs(x_s, ei_s), 10, 20)
    if "minibatch" in rows:
        batches = []
        for _ in range(8):
            nodes, ei_b, counts = neighbor_batch(ei_cpu, args.nodes, 1024, [25, 10], g)
            batches.append((x.detach()[nodes.to(device)].requires_grad_(), ei_b.to(device)))
        n = sum(b[0].shape[0] for b in batches) / len(batches)
        e = sum(b[1].shape[1] for b in batches) / len(batches)
        print(f"\n== minibatch: 8 NeighborLoader-style subgraphs (1024 seeds, fanouts 25, 10; "
              f"~{n:.0f} nodes, ~{e:.0f} edges), a new subgraph every call; "
              f"one timing = the 8 subgraphs")
        for name, ours, theirs in _cases(c, cached=False, device=device):
            compare_calls(name, _cycle(ours, batches), _cycle(theirs, batches),
                          args.repeats * 2, len(batches))


if __name__ == "__main__":
    main()
