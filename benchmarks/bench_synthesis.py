"""View-synthesis speed: seconds per synthesised 512 x 512 view, per method
of ``synthesize_views``, from the 4 corner views of a rendered training room
(never a benchmark room), rounds interleaved across methods; PSNR of the same
views against the real ones beside it. Goal (issue 10): ``learned`` <= 2 s
per view on this 2-core CPU.

    .venv/bin/python benchmarks/bench_synthesis.py [--size 512] [--rounds 2] [--device cuda]

With ``--device`` the views are moved there first; every method runs once
untimed before the rounds (CUDA start-up), and the clock waits for the
device's queued work.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from geodl.datasets import render_hci_scene, training_seeds
from geodl.lightfield.depth import scene_disparity_range
from geodl.lightfield.synthesis import psnr, synthesize_views
from geodl.structures import LightField

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import synchronize  # noqa: E402

TARGETS = [(4, 4), (2, 3), (6, 5)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=["learned", "warp", "mpi"])
    ap.add_argument("--device", default="cpu", help="torch device of the views (cuda)")
    args = ap.parse_args(argv)
    truth = render_hci_scene(training_seeds(1)[0], size=args.size, gt_factor=1, progress=False)
    # the range a scene folder's parameters.cfg would give
    d = truth.disparity[truth.disparity.isfinite()]
    disp_range = scene_disparity_range(truth, (float(d.min()) - 0.25, float(d.max()) + 0.25))
    device = torch.device(args.device)
    lf = truth
    if device.type != "cpu":
        lf = LightField(truth.views.to(device), truth.camera, truth.baseline,
                        truth.focus_distance)
        for m in args.methods:  # CUDA start-up and kernel loading, untimed
            synthesize_views(lf, "corners", TARGETS[:1], method=m, disp_range=disp_range,
                             progress=False)
    times: dict[str, list[float]] = {m: [] for m in args.methods}
    scores: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for m in args.methods:
            synchronize()
            t0 = time.perf_counter()
            views, _, targets = synthesize_views(lf, "corners", TARGETS, method=m,
                                                 disp_range=disp_range, progress=False)
            synchronize()
            times[m].append((time.perf_counter() - t0) / len(TARGETS))
            scores[m] = [psnr(v.cpu(), truth.view(int(u), int(w))) for v, (u, w) in
                         zip(views, targets.tolist())]
    print(f"{args.size} x {args.size} views, from the 4 corners of training room "
          f"{training_seeds(1)[0]}, targets {TARGETS}, {args.rounds} interleaved rounds, "
          f"device {device}")
    for m in args.methods:
        print(f"  {m:8s} {statistics.median(times[m]):6.2f} s per view (rounds: "
              f"{', '.join(f'{t:.2f}' for t in times[m])})  PSNR "
              f"{' / '.join(f'{p:.2f}' for p in scores[m])} dB")


if __name__ == "__main__":
    main()
