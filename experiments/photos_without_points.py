"""Posed photos without 3-D points from a sequence looking ahead: the depth
range from the frusta against the range from a wide low-resolution sweep
(``geodl.mvs.swept_range``).

A tracked hand-held camera (an RGB-D sensor's colour frames with their
poses) gives cameras but no points. This script keeps only the colour images
and cameras of a 7-Scenes-layout folder and runs ``multi_view_stereo`` and
the fusion twice, with the range as ``scene_range`` gives it (where the
frusta overlap) and refined by the sweep (the default). The mesh is scored
(F-score at 5 cm) against ``room_gt.ply`` when the folder has one (a
``geodl render-captures --kind rgbd`` room), else against the folder's own
RGB-D fusion.

    .venv/bin/geodl render-captures /tmp/rgbd0 --kind rgbd --seed 0
    .venv/bin/python experiments/photos_without_points.py /tmp/rgbd0

``--ranges-only`` times the two depth ranges and stops there.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from unittest import mock

from geodl.mvs import multi_view_stereo
from geodl.mvs.depth_range import scene_range
from geodl.mvs.swept_range import swept_range
from geodl.recon import reconstruct_room
from geodl.recon.evaluate import evaluate_reconstruction
from geodl.recon.photos import fuse_stereo
from geodl.recon.rgbd_readers import read_7scenes
from geodl.structures import Mesh, PosedImages


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a 7-Scenes-layout folder (frames with poses)")
    ap.add_argument("--color-intrinsics", help="K of the colour images when they are not the "
                    "depth camera's (as read_7scenes takes it, e.g. tum_default)")
    ap.add_argument("--out", type=Path, help="write the figures here as JSON")
    ap.add_argument("--ranges-only", action="store_true",
                    help="only time the range from the frusta and the swept range")
    args = ap.parse_args(argv)
    frames = read_7scenes(args.folder, color_intrinsics=args.color_intrinsics)
    photos = PosedImages(frames.images, frames.cameras)  # no depth, no points
    start = time.perf_counter()
    frusta = scene_range(photos)
    middle = time.perf_counter()
    swept = swept_range(photos, frusta)
    end = time.perf_counter()
    print(f"{len(photos)} views: range from the frusta {middle - start:.1f} s (median "
          f"{frusta.ranges[:, 0].median():.2f}-{frusta.ranges[:, 1].median():.2f}), swept "
          f"{end - middle:.1f} s (median {swept.ranges[:, 0].median():.2f}-"
          f"{swept.ranges[:, 1].median():.2f})", flush=True)
    if args.ranges_only:
        return {"frusta_seconds": middle - start, "swept_seconds": end - middle}
    gt_path = args.folder / "room_gt.ply"
    if gt_path.exists():
        reference, against = Mesh.load(gt_path), "room_gt.ply"
    else:
        reference, against = reconstruct_room(frames).mesh, "its RGB-D fusion"
    rows = {}
    for name, sweep in (("frusta", False), ("swept (default)", True)):
        start = time.perf_counter()
        if sweep:
            stereo = multi_view_stereo(photos, progress=True)
        else:
            with mock.patch("geodl.mvs.stereo.swept_range", lambda frames, scene: scene):
                stereo = multi_view_stereo(photos, progress=True)
        mesh = fuse_stereo(stereo, progress=False).mesh
        m = evaluate_reconstruction(mesh, reference, photos.cameras)
        rows[name] = {"fscore": m.fscore, "precision": m.precision, "recall": m.recall,
                      "accuracy_cm": 100 * m.accuracy, "completeness_cm": 100 * m.completeness,
                      "seconds": time.perf_counter() - start,
                      "median_range": [float(v) for v in stereo.scene.ranges.median(0).values]}
        r = rows[name]
        print(f"{name:16s} against {against}: F {r['fscore']:.3f}  P {r['precision']:.3f}  "
              f"R {r['recall']:.3f}  median range {r['median_range'][0]:.2f}-"
              f"{r['median_range'][1]:.2f}  ({r['seconds']:.0f} s)", flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
