"""Disparity estimation speed on one benchmark room (9 x 9 views of 512 x 512):
geodl's methods against the open-source peers that install from the
registries (plenpy 0.9.2's structure tensor and 4-D brute force), each peer
in its own virtual environment (``experiments/lightfield_depth.py`` builds
them under ``datasets/cache/peers``). Rounds alternate the methods; the
peers' times are their own ``get_disparity`` call, without start-up or I/O.
Accuracy on all 8 rooms is in ``experiments/README.md``.

    .venv/bin/python benchmarks/bench_depth.py [--rounds 2] [--peers plenpy_st plenpy_bf4d]
        [--device cuda]

With ``--device`` the views are moved there first (the peers stay on the
CPU); every method runs once untimed before the rounds (CUDA start-up), and
the clock waits for the device's queued work.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from lightfield_depth import CACHE, PEERS, benchmark_scenes, run_peer  # noqa: E402

from geodl.datasets import BENCHMARK_SEEDS, cached_room_scenes  # noqa: E402
from geodl.lightfield import load_hci  # noqa: E402
from geodl.lightfield.depth import estimate_disparity, scene_disparity_range  # noqa: E402
from geodl.structures import LightField  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import synchronize  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=["cost_volume", "structure_tensor"])
    ap.add_argument("--peers", nargs="*", default=["plenpy_st"], choices=sorted(PEERS))
    ap.add_argument("--scenes", type=Path, help="folder of scene folders (default: the first "
                    "benchmark room)")
    ap.add_argument("--device", default="cpu", help="torch device of geodl's methods (cuda)")
    args = ap.parse_args()
    folder = (benchmark_scenes(args.scenes) if args.scenes else
              cached_room_scenes(CACHE / "benchmark_rooms", BENCHMARK_SEEDS[:1], highres=True))[0]
    lf = load_hci(folder)
    disp_range = scene_disparity_range(lf)
    device = torch.device(args.device)
    if device.type != "cpu":
        lf = LightField(lf.views.to(device), lf.camera, lf.baseline, lf.focus_distance,
                        meta=lf.meta)
        for m in args.methods:  # CUDA start-up and kernel loading, untimed
            estimate_disparity(lf, m, disp_range)
    times: dict[str, list[float]] = {m: [] for m in args.methods + args.peers}
    print(f"{folder.name}: 9x9 views of {lf.width}x{lf.height}, range {disp_range}, "
          f"torch threads {torch.get_num_threads()}, device {device}, {args.rounds} rounds")
    for _ in range(args.rounds):
        for m in args.methods:
            synchronize()
            t0 = time.perf_counter()
            estimate_disparity(lf, m, disp_range)
            synchronize()
            times[m].append(time.perf_counter() - t0)
        for p in args.peers:
            times[p].append(run_peer(p, folder, disp_range)[1])
    for m, t in times.items():
        print(f"  {m:18s} median {statistics.median(t):7.2f} s   (runs: "
              + ", ".join(f"{x:.2f}" for x in t) + ")")


if __name__ == "__main__":
    main()
