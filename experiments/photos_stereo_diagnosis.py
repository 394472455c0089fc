"""Where multi-view stereo of a rendered room's photos loses surface.

For one room photographed as in ``room_reconstruction.py --kinds photos``
(its photos project cached under ``--cache``), runs
``geodl.mvs.multi_view_stereo`` with the given options and reports, over
all views at the working resolution, the share of pixels whose depth is
within 1 % of the rendered ground truth ("right"), the share the
consistency filter keeps, kept-and-right, right-but-rejected and
kept-but-wrong (beyond 2 %). It then fuses three sets of depth maps and
scores each mesh (F-score at 5 cm): the estimate as filtered, the estimate
with an oracle filter (exactly its right pixels) and the ground-truth depth
itself. The oracle row bounds what a better filter could give; the
ground-truth row what the fusion and the views' coverage allow.

    .venv/bin/python experiments/photos_stereo_diagnosis.py --seed 0 \
        --options '{"slanted": {}}' --figure /tmp/diag.png
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from room_reconstruction import CACHE, photos_folder, stereo_options  # noqa: E402

from geodl.datasets.rooms.photos import render_room_photos  # noqa: E402
from geodl.mvs import load_posed_photos, multi_view_stereo  # noqa: E402
from geodl.recon.captures import load_room_ground_truth  # noqa: E402
from geodl.recon.evaluate import evaluate_reconstruction  # noqa: E402
from geodl.recon.photos import fuse_stereo  # noqa: E402
from geodl.training.photo_filter import true_depth_at  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="room seed (a training room)")
    ap.add_argument("--options", type=json.loads, default={},
                    help="multi_view_stereo keywords as in room_reconstruction.py --photo-options")
    ap.add_argument("--cache", type=Path, default=CACHE,
                    help="rendered rooms (shared with room_reconstruction.py)")
    ap.add_argument("--figure", type=Path, help="per-view error maps of four views (PNG)")
    args = ap.parse_args(argv)
    folder = photos_folder(args.cache, args.seed)
    frames = load_posed_photos(folder)
    gt_mesh, _, _ = load_room_ground_truth(folder)
    stereo = multi_view_stereo(frames, progress=True, **stereo_options(args.options))
    h, w = stereo.depth[0].shape
    truth = true_depth_at(render_room_photos(args.seed).depth, w)
    counts = dict.fromkeys(("right", "kept", "kept_right", "right_rejected", "kept_wrong"), 0)
    pixels = 0
    for d, kept, g in zip(stereo.depth, stereo.consistent, truth):
        seen = g > 0
        err = (d - g).abs() / g.clamp_min(1e-6)
        right = seen & (err < 0.01)
        pixels += int(seen.sum())
        counts["right"] += int(right.sum())
        counts["kept"] += int((kept & seen).sum())
        counts["kept_right"] += int((kept & right).sum())
        counts["right_rejected"] += int((right & ~kept).sum())
        counts["kept_wrong"] += int((kept & seen & (err >= 0.02)).sum())
    report = {k: round(v / max(1, pixels), 3) for k, v in counts.items()}
    print("shares of the pixels that see a surface:", report)

    def score(result, name: str) -> dict:
        rec = fuse_stereo(result, progress=False)
        m = evaluate_reconstruction(rec.mesh, gt_mesh, frames.cameras)
        print(f"{name:28s} F {m.fscore:.3f}  P {m.precision:.3f}  R {m.recall:.3f}", flush=True)
        return {"fscore": m.fscore, "precision": m.precision, "recall": m.recall}

    rows = {"estimate": score(stereo, "estimate, filtered")}
    oracle = copy.copy(stereo)
    oracle.consistent = [(g > 0) & ((d - g).abs() < 0.01 * g) for d, g in zip(stereo.depth, truth)]
    rows["oracle_filter"] = score(oracle, "estimate, oracle filter")
    exact = copy.copy(stereo)
    exact.depth = list(truth)
    exact.consistent = [g > 0 for g in truth]
    exact.confidence = [torch.ones_like(g) for g in truth]
    rows["ground_truth_depth"] = score(exact, "ground-truth depth")
    if args.figure:
        from PIL import Image
        panels = []
        for k in np.linspace(0, len(frames) - 1, 4).round().astype(int):
            d, kept, g = stereo.depth[k], stereo.consistent[k], truth[k]
            right = ((d - g).abs() < 0.01 * g) & (g > 0)
            cls = np.zeros((h, w, 3), np.uint8)  # green kept right, yellow right rejected,
            cls[(right & kept).numpy()] = (0, 200, 0)  # red kept wrong, blue wrong rejected
            cls[(right & ~kept).numpy()] = (230, 230, 0)
            cls[(~right & kept).numpy()] = (230, 0, 0)
            cls[(~right & ~kept).numpy()] = (0, 0, 200)
            photo = (stereo.images[k].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
            panels.append(np.concatenate([photo, cls], 1))
        Image.fromarray(np.concatenate(panels, 0)).save(args.figure)
    return {"shares": report, "fusion": rows}


if __name__ == "__main__":
    main()
