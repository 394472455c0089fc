"""Validation of the learned view synthesis on a held-out TRAINING-seed room
(never a benchmark room): PSNR / SSIM of the views synthesised from the 4
corners of the 9 x 9 grid and from the 4 corners of the inner 7 x 7 grid, and
the seconds per synthesised view.

    python experiments/learned_synthesis_val.py [--checkpoint RUN_DIR] [--seed 17]
        [--every 1] [--compare warp] [--json experiments/results/learned_synthesis_val.json]

The room comes from the training cache (``geodl train-synthesis``'s
``datasets/cache/synthesis_rooms``; rendered there when missing). The shipped
weights trained on seeds 0-15 and validated on 16 (``--rooms 16 --val-rooms
1``), so the default seed 17 is a room they never saw; a seed below 17
validates on one of their training rooms.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from geodl.datasets import BENCHMARK_SEEDS
from geodl.lightfield.synthesis import METHODS, psnr, ssim
from geodl.lightfield.synthesis.learned import load_synthesis_model, synthesize_learned
from geodl.training.synthesis import SynthRoom, cache_room

SETTINGS = {
    "9x9 corners": ([(0, 0), (0, 8), (8, 0), (8, 8)], range(0, 9)),
    "7x7 corners": ([(1, 1), (1, 7), (7, 1), (7, 7)], range(1, 8)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default=None, help="weights (default: the shipped ones)")
    ap.add_argument("--seed", type=int, default=17,
                    help="training-seed room to validate on (default 17; 17 and above are "
                         "unseen by the shipped weights)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--cache", default="datasets/cache/synthesis_rooms")
    ap.add_argument("--every", type=int, default=1, help="use every k-th target view")
    ap.add_argument("--border", type=int, default=0, help="px cropped before the metrics")
    ap.add_argument("--compare", nargs="*", default=[], help="other methods, e.g. warp")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    if args.seed in BENCHMARK_SEEDS:
        raise SystemExit("--seed: benchmark rooms are for the benchmark, not for validation")
    room = SynthRoom.load(cache_room(args.seed, args.size, args.cache))
    views = room.views.float() / 255
    model = load_synthesis_model(args.checkpoint)
    results = {"seed": args.seed, "checkpoint": args.checkpoint or "shipped",
               "threads": torch.get_num_threads(), "settings": {}}
    for name, (sources, span) in SETTINGS.items():
        targets = [(r, c) for r in span for c in span if (r, c) not in sources][::args.every]
        src = torch.stack([views[r, c] for r, c in sources])
        row = {"targets": len(targets)}
        for method in ["learned", *args.compare]:
            scores, seconds = [], []
            for t in targets:
                t0 = time.perf_counter()
                if method == "learned":
                    out = synthesize_learned(src, sources, [t], room.disp_range, model=model)[0][0]
                else:
                    out = METHODS[method](src, torch.tensor(sources, dtype=torch.float64),
                                          torch.tensor([t], dtype=torch.float64),
                                          disp_range=room.disp_range, progress=False)[0][0]
                seconds.append(time.perf_counter() - t0)
                truth = views[t[0], t[1]]
                scores.append((psnr(out, truth, border=args.border),
                               ssim(out, truth, border=args.border)))
            row[method] = {"psnr": sum(s[0] for s in scores) / len(scores),
                           "ssim": sum(s[1] for s in scores) / len(scores),
                           "seconds_per_view": sum(seconds) / len(seconds)}
            r = row[method]
            print(f"{name:12s} {method:8s} {len(targets):3d} views  PSNR {r['psnr']:.2f} dB  "
                  f"SSIM {r['ssim']:.4f}  {r['seconds_per_view']:.2f} s/view", flush=True)
        results["settings"][name] = row
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
