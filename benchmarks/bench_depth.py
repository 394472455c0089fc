"""Disparity estimation speed on one benchmark room (9 x 9 views of 512 x 512):
geodl's methods against the open-source peers that install from the
registries (plenpy 0.9.2's structure tensor and 4-D brute force), each peer
in its own virtual environment (``experiments/lightfield_depth.py`` builds
them under ``datasets/cache/peers``). Rounds alternate the methods; the
peers' times are their own ``get_disparity`` call, without start-up or I/O.
Accuracy on all 8 rooms is in ``experiments/README.md``.

    .venv/bin/python benchmarks/bench_depth.py [--rounds 2] [--peers plenpy_st plenpy_bf4d]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from lightfield_depth import PEERS, benchmark_scenes, run_peer  # noqa: E402

from geodl.lightfield import load_hci  # noqa: E402
from geodl.lightfield.depth import estimate_disparity, scene_disparity_range  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=["cost_volume", "structure_tensor"])
    ap.add_argument("--peers", nargs="*", default=["plenpy_st"], choices=sorted(PEERS))
    ap.add_argument("--scenes", type=Path, help="folder of scene folders (default: benchmark)")
    args = ap.parse_args()
    folder = benchmark_scenes(args.scenes)[0]
    lf = load_hci(folder)
    disp_range = scene_disparity_range(lf)
    times: dict[str, list[float]] = {m: [] for m in args.methods + args.peers}
    print(f"{folder.name}: 9x9 views of {lf.width}x{lf.height}, range {disp_range}, "
          f"torch threads {torch.get_num_threads()}, {args.rounds} rounds")
    for _ in range(args.rounds):
        for m in args.methods:
            t0 = time.perf_counter()
            estimate_disparity(lf, m)
            times[m].append(time.perf_counter() - t0)
        for p in args.peers:
            times[p].append(run_peer(p, folder, disp_range)[1])
    for m, t in times.items():
        print(f"  {m:18s} median {statistics.median(t):7.2f} s   (runs: "
              + ", ".join(f"{x:.2f}" for x in t) + ")")


if __name__ == "__main__":
    main()
