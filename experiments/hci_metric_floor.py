"""What the benchmark metrics give the exact low-resolution ground truth.

Each room is rendered with its 10x ground truth and scored against itself:
every low-resolution metric is 0 by construction, but BadPix on
discontinuities (and the fine-structure metrics) compare the 512 x 512 answer,
repeated 10 x 10, with the 10x truth, so a pixel-accurate answer still misses
the far side of each edge inside its boundary pixels. That is the floor of
those metrics for methods without sub-pixel edges.

    .venv/bin/python experiments/hci_metric_floor.py [--seeds 9000 9001]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from geodl.datasets import render_hci_scene
from geodl.lightfield.benchmark import evaluate

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[9000, 9001])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    results = {}
    for seed in args.seeds:
        lf = render_hci_scene(seed, size=args.size, grid=3, highres=True, progress=False)
        exact = torch.nan_to_num(lf.disparity).numpy()
        results[seed] = evaluate(exact, lf.ground_truth)
    keys = sorted({k for r in results.values() for k in r})
    print("| room | " + " | ".join(keys) + " |\n|---" * 1 + "|---" * len(keys) + "|")
    for seed, r in results.items():
        print(f"| {seed} | " + " | ".join(f"{r[k]:.2f}" if k in r else "-" for k in keys) + " |")
    out = Path(args.out) / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hci_metric_floor.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
