"""How precise must disparity be for an F-score of 0.85? Ground truth plus noise.

The captures of ``experiments/room_reconstruction.py`` (the same cached
renders), each capture's ground-truth centre disparity disturbed by Gaussian
noise of standard deviation ``sigma`` px, spatially correlated (white noise
blurred by a Gaussian of ``--smooth`` px and rescaled to unit variance: a
matcher's errors are correlated over its windows, and uncorrelated noise
averages out in the TSDF), then fused and scored exactly as the estimated
disparities are (``geodl.recon.fuse_captures`` without the planar prior,
``geodl.recon.evaluate_reconstruction``, F-score at 5 cm). The curve of
F-score against ``sigma`` says which disparity precision the rooms' rigs
(baseline x focal length) need for a given F-score; it tunes nothing.

Also per capture: the depth error one disparity px makes at its median
ground-truth depth, |dZ/dd| = Z^2 / (b f), and the share of pixels where
0.03 px of disparity error stays under 5 cm.

    .venv/bin/python experiments/room_reconstruction_bound.py [--seeds 0 1 3] \
        [--sigmas 0.01 0.02 0.03 0.05] [--smooth 8]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from room_reconstruction import CACHE, HERE, captures_folder  # noqa: E402  (same renders)

from geodl.datasets import BENCHMARK_SEEDS  # noqa: E402
from geodl.lightfield.depth.filters import gaussian_blur  # noqa: E402
from geodl.recon import (  # noqa: E402
    evaluate_reconstruction,
    fuse_captures,
    load_captures,
    load_room_ground_truth,
)
from geodl.recon.reconstruct import ground_truth_disparity  # noqa: E402
from geodl.structures import LightField  # noqa: E402


def correlated_noise(shape: tuple[int, int], smooth: float, generator: torch.Generator
                     ) -> torch.Tensor:
    """(H, W) zero-mean, unit-variance Gaussian noise, blurred by a Gaussian of
    ``smooth`` px first (0: white)."""
    n = torch.randn(shape, generator=generator, dtype=torch.float64)
    if smooth > 0:
        n = gaussian_blur(n[None, None], smooth)[0, 0]
        n = (n - n.mean()) / n.std()
    return n


def depth_per_px(lf: LightField, disparity: torch.Tensor) -> torch.Tensor:
    """|dZ/dd| (m per px of disparity) at each pixel, by a finite difference."""
    step = 1e-3
    z0 = lf.rig.disparity_to_depth(disparity)
    return (lf.rig.disparity_to_depth(disparity + step) - z0).abs() / step


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(BENCHMARK_SEEDS))
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.01, 0.02, 0.03, 0.05])
    ap.add_argument("--smooth", type=float, default=8.0, help="noise correlation (px)")
    ap.add_argument("--captures", type=int, default=4)
    ap.add_argument("--voxel", type=float, default=0.02)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--out", type=Path, default=HERE / "results" /
                    "room_reconstruction_bound.json")
    args = ap.parse_args(argv)
    if any(not s >= 0 for s in args.sigmas) or args.smooth < 0:
        ap.error("--sigmas and --smooth: expected >= 0")
    per_room: dict[str, dict[str, dict]] = {}
    geometry: dict[str, list[dict]] = {}
    for seed in args.seeds:
        folder = captures_folder(args.cache, seed, args.captures, 512, 9)
        captures = load_captures(folder)
        gt_mesh, _, _ = load_room_ground_truth(folder)
        cameras = [lf.camera for lf in captures]
        truth = [ground_truth_disparity(lf, i) for i, lf in enumerate(captures)]
        geometry[str(seed)] = []
        for i, (lf, d) in enumerate(zip(captures, truth)):
            slope = depth_per_px(lf, d)
            depth = lf.rig.disparity_to_depth(d)
            row = {"median_depth_m": float(depth.nanmedian()),
                   "median_m_per_px": float(slope.nanmedian()),
                   "share_0.03px_under_5cm": float((slope * 0.03 < 0.05).double().mean())}
            geometry[str(seed)].append(row)
            print(f"room {seed} capture {i}: median depth {row['median_depth_m']:.2f} m, "
                  f"{row['median_m_per_px']:.2f} m per px there, 0.03 px within 5 cm on "
                  f"{100 * row['share_0.03px_under_5cm']:.0f} % of pixels", flush=True)
        for sigma in args.sigmas:
            gen = torch.Generator().manual_seed(seed)
            noisy = [d + sigma * correlated_noise(tuple(d.shape), args.smooth, gen) for d in truth]
            rec = fuse_captures(captures, noisy, None, args.voxel, progress=False, planes=False)
            m = evaluate_reconstruction(rec.mesh, gt_mesh, cameras)
            per_room.setdefault(str(sigma), {})[str(seed)] = {
                "fscore": m.fscore, "precision": m.precision, "recall": m.recall}
            print(f"room {seed} sigma {sigma:.3f} px: F {m.fscore:.3f}  P {m.precision:.3f}  "
                  f"R {m.recall:.3f}", flush=True)
    mean = {s: {k: float(np.mean([r[k] for r in rows.values()]))
                for k in ("fscore", "precision", "recall")} for s, rows in per_room.items()}
    print(f"| disparity noise sigma (px, correlated over {args.smooth:g} px) | F-score @ 5 cm | "
          f"precision | recall |\n|---|---|---|---|")
    for s, r in mean.items():
        print(f"| {s} | {r['fscore']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    args.out.write_text(json.dumps({"config": config, "mean": mean, "per_room": per_room,
                                    "geometry": geometry}, indent=1))
    return mean


if __name__ == "__main__":
    main()
