"""How much of the view-synthesis ceiling is aliasing in our renders?

Training rooms rendered with 1 and with ``s x s`` samples per pixel: PSNR of
3 views warped from the 4 corners with the ground-truth disparity
(``blend_views``; the centre's disparity carried to each target by
``propagate_disparity``), and ``cost_volume``'s BadPix 0.07 on the same
light field (range: the ground truth's, widened by 0.25 px). Training seeds
only; figures: ``experiments/README.md#render-aliasing``.

    .venv/bin/python experiments/render_aliasing.py [--seeds 5 9] [--size 256] [--samples 3]
"""
from __future__ import annotations

import argparse

import torch

from geodl.datasets import render_hci_scene
from geodl.lightfield.benchmark import evaluate
from geodl.lightfield.depth import estimate_disparity
from geodl.lightfield.synthesis import psnr
from geodl.lightfield.synthesis.blend import blend_views
from geodl.lightfield.synthesis.propagate import propagate_disparity

CORNERS = [(0, 0), (0, 8), (8, 0), (8, 8)]
TARGETS = [(4, 4), (2, 6), (6, 3)]


def measure(seed: int, size: int, supersample: int) -> tuple[float, float]:
    """(mean PSNR of the true-disparity warp, cost_volume BadPix 0.07 %)."""
    lf = render_hci_scene(seed, size=size, grid=9, supersample=supersample, gt_factor=1,
                          progress=False)
    known = torch.isfinite(lf.disparity)
    gt = torch.where(known, lf.disparity, lf.disparity[known].min()).float()
    src = torch.stack([lf.view(r, c) for r, c in CORNERS])
    pos = torch.tensor(CORNERS, dtype=torch.float64)
    centre = torch.tensor(lf.center_index, dtype=torch.float64)
    scores = []
    for t in TARGETS:
        tt = torch.tensor(t, dtype=torch.float64)
        d = gt if torch.equal(tt, centre) else propagate_disparity(gt, centre, tt)
        img, _ = blend_views(src, pos, tt, d)
        scores.append(psnr(img, lf.view(*t)))
    lo, hi = float(lf.disparity[known].min()), float(lf.disparity[known].max())
    disp, _ = estimate_disparity(lf, "cost_volume", disp_range=(lo - 0.25, hi + 0.25),
                                 planes=False)
    return sum(scores) / len(scores), evaluate(disp, lf.ground_truth, border=15)["badpix0.07"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[5, 9])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--samples", type=int, default=3, help="samples per pixel per axis")
    args = ap.parse_args(argv)
    from geodl.datasets import BENCHMARK_SEEDS
    if set(args.seeds) & set(BENCHMARK_SEEDS):
        raise SystemExit("--seeds: training seeds only")
    for seed in args.seeds:
        for ss in (1, args.samples):
            p, b = measure(seed, args.size, ss)
            print(f"room {seed}, {ss}x{ss} samples per pixel: true-disparity warp "
                  f"{p:.2f} dB, cost_volume BadPix 0.07 {b:.1f} %", flush=True)


if __name__ == "__main__":
    main()
