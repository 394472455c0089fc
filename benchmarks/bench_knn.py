"""kNN graph (k=16) on 1M points, uniform and adversarial: geodl.ops.knn_graph
(exact, method chosen per input) against scipy's cKDTree, interleaved rounds.

Distributions (float32, 1M points each):

* ``uniform``: the unit cube;
* ``outlier``: the unit cube with one point moved to (1e9, -1e9, 1e9);
* ``two scales``: half the points in a cube of side 1e-6, half in one of side 1;
* ``line``: a segment in 3D (every point collinear);
* ``sphere``: the unit sphere's surface.

A grid with one cell size fitted to the bounding box took over 280 s on
``outlier`` (40 s on ``uniform``); a k-d tree adapts its cells to the data.
Each row checks the result: neighbour sets against cKDTree's (which breaks
ties arbitrarily and ranks float32 input in float64, as geodl does), and 200
sampled rows against a float64 brute force, in order.

    .venv/bin/python benchmarks/bench_knn.py [--points 1000000] [--repeats 3]
    .venv/bin/python benchmarks/bench_knn.py --only uniform,outlier
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


def distributions(n: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    uniform = torch.rand(n, 3, generator=g)
    outlier = uniform.clone()
    outlier[-1] = torch.tensor([1e9, -1e9, 1e9])
    two = torch.cat([1e-6 * torch.rand(n // 2, 3, generator=g),
                     torch.rand(n - n // 2, 3, generator=g)])
    line = torch.rand(n, 1, generator=g) * torch.tensor([[1.0, -2.0, 3.0]])
    sphere = torch.randn(n, 3, generator=g)
    sphere = sphere / sphere.norm(dim=1, keepdim=True)
    return {"uniform": uniform, "outlier": outlier, "two scales": two, "line": line,
            "sphere": sphere}


def check(x: torch.Tensor, edges: torch.Tensor, kd_idx: np.ndarray, k: int) -> str:
    n = x.shape[0]
    ours = edges[0].numpy().reshape(n, k)
    same = (np.sort(ours, 1) == np.sort(kd_idx[:, 1:], 1)).all(1)
    rows = np.random.default_rng(0).choice(n, 200, replace=False)
    xd = x.double().numpy()
    exact = 0
    for r in rows:
        d = ((xd - xd[r]) ** 2).sum(1)
        d[r] = np.inf
        ref = np.lexsort((np.arange(n), d))[:k]
        exact += int(np.array_equal(ours[r], ref))
    return (f"neighbour sets equal to cKDTree's for {same.mean() * 100:.4f} % of points; "
            f"{exact}/200 sampled rows equal to float64 brute force (order included)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("-k", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated distribution names")
    args = ap.parse_args()
    data = distributions(args.points)
    if args.only:
        data = {name: data[name] for name in args.only.split(",")}
    print(f"{args.points} points, float32, k = {args.k}; torch threads = "
          f"{torch.get_num_threads()}, cores = {os.cpu_count()}")
    for name, x in data.items():
        xn = x.numpy()
        out = {}

        def ours():
            out["geodl"] = ops.knn_graph(x, args.k)

        def kdtree(workers: int):
            def run():
                _, idx = cKDTree(xn).query(xn, args.k + 1, workers=workers)
                out["kd"] = idx
            return run

        funcs = {f"geodl.ops.knn_graph ({name})": ours,
                 f"cKDTree build+query, workers=-1 ({name})": kdtree(-1)}
        if name == "uniform":
            funcs[f"cKDTree build+query, workers=1 ({name})"] = kdtree(1)
        print(f"\n{name}:")
        times = interleaved(funcs, args.repeats)
        report(times, f"cKDTree build+query, workers=-1 ({name})")
        print("  " + check(x, out["geodl"], out["kd"], args.k))


if __name__ == "__main__":
    main()
