"""Where a disparity method's bad pixels lie: near depth edges, on low-texture
surfaces, or on textured ones (training rooms only: a diagnostic for choosing
what to improve, never run on the benchmark rooms).

    .venv/bin/python experiments/depth_error_analysis.py --methods cost_volume refine_net

The rooms are the anti-aliased ``ROOM_SUPERSAMPLE`` renders;
``--supersample 1`` renders them with one ray per pixel (the figures in
``experiments/README.md#disparity-error-analysis`` are of such rooms).

Regions (inside the benchmark's 15 px border), from the ground truth and the
centre view:

* near an edge: within 6 px of a ground-truth disparity jump of more than
  0.05 px between 4-neighbours;
* low texture: elsewhere, where the mean squared grey gradient over a 7 x 7
  window is below 1e-4 (grey in [0, 1]; a step of 0.01 grey per pixel);
* textured: the rest.

For each region: its share of the pixels, the share of them that are bad
(error above 0.07 px), its share of all bad pixels; and where the bad pixels
near edges lie: at the nearer side's disparity (foreground fattening), at the
farther side's, or between the two (a blend across the edge), the sides
being the maximum and minimum true disparity within 6 px.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from geodl.datasets import ROOM_SUPERSAMPLE, cached_room_scenes
from geodl.lightfield import load_hci
from geodl.lightfield.depth import METHODS, estimate_disparity
from geodl.lightfield.depth.filters import box_mean, to_grey

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / "datasets" / "cache" / "analysis_rooms"
BORDER, BAD, EDGE_JUMP, EDGE_REACH, LOW_TEXTURE = 15, 0.07, 0.05, 6, 1e-4


def _dilate(mask: torch.Tensor, reach: int) -> torch.Tensor:
    return F.max_pool2d(mask.float()[None, None], 2 * reach + 1, 1, reach)[0, 0] > 0


def regions(gt: torch.Tensor, centre_rgb: torch.Tensor) -> dict[str, torch.Tensor]:
    """Boolean (H, W) masks of the three regions (module docstring)."""
    jump = torch.zeros_like(gt, dtype=torch.bool)
    jump[:, 1:] |= (gt[:, 1:] - gt[:, :-1]).abs() > EDGE_JUMP
    jump[1:] |= (gt[1:] - gt[:-1]).abs() > EDGE_JUMP
    near = _dilate(jump, EDGE_REACH)
    grey = to_grey(centre_rgb)
    gx, gy = torch.zeros_like(grey), torch.zeros_like(grey)
    gx[:, 1:-1] = 0.5 * (grey[:, 2:] - grey[:, :-2])
    gy[1:-1] = 0.5 * (grey[2:] - grey[:-2])
    low = (box_mean(gx ** 2 + gy ** 2, 3) < LOW_TEXTURE) & ~near
    inside = torch.zeros_like(near)
    inside[BORDER:-BORDER, BORDER:-BORDER] = True
    return {"near edge": near & inside, "low texture": low & inside,
            "textured": ~near & ~low & inside}


def breakdown(est: torch.Tensor, gt: torch.Tensor, masks: dict[str, torch.Tensor]) -> dict[str, float]:
    """Percentages of the module docstring for one estimate (H, W)."""
    bad = ~((est - gt).abs() <= BAD)  # non-finite estimates count as bad
    everything = sum(m for m in masks.values())
    n, n_bad = int(everything.sum()), int((bad & everything.bool()).sum())
    out = {"badpix": 100 * n_bad / n}
    for name, m in masks.items():
        out[f"{name}: % of px"] = 100 * int(m.sum()) / n
        out[f"{name}: % bad"] = 100 * int((bad & m).sum()) / max(1, int(m.sum()))
        out[f"{name}: % of bad"] = 100 * int((bad & m).sum()) / max(1, n_bad)
    near_bad = bad & masks["near edge"]
    k = 2 * EDGE_REACH + 1
    hi = F.max_pool2d(gt[None, None], k, 1, EDGE_REACH)[0, 0]
    lo = -F.max_pool2d(-gt[None, None], k, 1, EDGE_REACH)[0, 0]
    total = max(1, int(near_bad.sum()))
    for side, where in (("at the nearer side", (est - hi).abs() <= BAD),
                        ("at the farther side", (est - lo).abs() <= BAD),
                        ("between", (est > lo + BAD) & (est < hi - BAD))):
        out[f"near-edge bad: {side}"] = 100 * int((near_bad & where).sum()) / total
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", nargs="+", default=["cost_volume"], choices=sorted(METHODS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[100, 101, 102],
                    help="training rooms (the rooms cost_volume's settings were chosen on)")
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--supersample", type=int, default=ROOM_SUPERSAMPLE,
                    help="rays per pixel side of the renders (the recorded figures: 1)")
    args = ap.parse_args(argv)
    folders = dict(zip(args.seeds, cached_room_scenes(args.cache, args.seeds,
                                                      supersample=args.supersample)))
    results: dict[str, list[dict[str, float]]] = {m: [] for m in args.methods}
    for seed in args.seeds:
        lf = load_hci(folders[seed])
        gt = lf.ground_truth.disparity.float()
        masks = regions(gt, lf.center_view.float())
        for method in args.methods:
            t0 = time.perf_counter()
            est = estimate_disparity(lf, method, planes=True)[0].float()  # rooms: the prior on
            row = breakdown(est, gt, masks)
            results[method].append(row)
            print(f"room {seed} {method}: BadPix 0.07 {row['badpix']:.2f} % "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
    summary = {m: {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
               for m, rows in results.items()}
    keys = list(next(iter(summary.values())))
    print(f"\nmean over rooms {', '.join(map(str, args.seeds))}\n")
    print("| | " + " | ".join(summary) + " |\n|---" + "|---" * len(summary) + "|")
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{summary[m][k]:.1f}" for m in summary) + " |")
    return summary


if __name__ == "__main__":
    main()
