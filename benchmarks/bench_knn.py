"""kNN graph (k=16) on 1M random points: geodl.ops.knn_graph (pure torch,
exact) against scipy's cKDTree, interleaved in one run; results compared.

    .venv/bin/python benchmarks/bench_knn.py [--points 1000000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
from scipy.spatial import cKDTree

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved, report  # noqa: E402

from geodl import ops  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("-k", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.points, 3, generator=g)
    xn = x.numpy()
    out = {}
    print(f"{args.points} points uniform in the unit cube (float32), k = {args.k}; "
          f"torch threads = {torch.get_num_threads()}")

    def ours():
        out["geodl"] = ops.knn_graph(x, args.k)

    def kdtree(workers: int):
        def run():
            _, idx = cKDTree(xn).query(xn, args.k + 1, workers=workers)
            out[f"kd{workers}"] = idx
        return run

    funcs = {"geodl.ops.knn_graph": ours,
             "scipy cKDTree build+query, workers=1": kdtree(1),
             "scipy cKDTree build+query, workers=-1": kdtree(-1)}
    times = interleaved(funcs, args.repeats)
    report(times, "scipy cKDTree build+query, workers=-1")
    n, k = args.points, args.k
    ours_sets = np.sort(out["geodl"][0].numpy().reshape(n, k), 1)
    ref = np.sort(out["kd-1"][:, 1:], 1)
    same = (ours_sets == ref).all(1)
    print(f"  identical neighbour sets: {same.mean() * 100:.4f} % of points "
          f"({(~same).sum()} differ; cKDTree computes float32 distances in float64)")


if __name__ == "__main__":
    main()
