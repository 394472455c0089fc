"""Rendering speed: one 9x9 x 512x512 HCI-style light field of a procedural
room and its 10x block-median ground truth, each against a bare
``RaycastingScene.cast_rays`` of the same number of rays on the same scene
(our overhead: ray generation, shading, textures; for the ground truth the
per-row banding and the block median). Rounds alternate ours and bare.

    .venv/bin/python benchmarks/bench_render.py [--size 512] [--grid 9] [--rounds 2]
    .venv/bin/python benchmarks/bench_render.py --profile   # where a view's time goes
"""
from __future__ import annotations

import argparse
import statistics
import time

from geodl._optional import open3d
from geodl.datasets import median_depth
from geodl.datasets.rooms.scene import room_viewpoint
from geodl.render import Renderer, make_room, render_lightfield, rig_for_depth_range
from geodl.structures import LightFieldRig


def bare_cast(renderer: Renderer, camera, repeats: int) -> float:
    """Seconds to cast ``camera``'s rays ``repeats`` times, rays prebuilt."""
    rays = open3d().core.Tensor(camera.ray_bundle())
    t0 = time.perf_counter()
    for _ in range(repeats):
        renderer.rc.cast_rays(rays)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--grid", type=int, default=9)
    ap.add_argument("--seed", type=int, default=9000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--profile", action="store_true",
                    help="instead: cProfile of 3x3 views rendered one at a time")
    args = ap.parse_args()
    room = make_room(args.seed)
    renderer = Renderer(room)
    cam, z = room_viewpoint(renderer, args.seed, args.size, 60.0)
    baseline, focus = rig_for_depth_range(float(z.min()), float(z.max()), float(cam.K[0, 0]))
    if args.profile:
        import cProfile
        import pstats

        small = LightFieldRig(cam, baseline, focus, (3, 3))
        render_lightfield(renderer, small, progress=False)  # warm-up
        with cProfile.Profile() as prof:  # workers=1: cProfile sees only this thread
            render_lightfield(renderer, small, progress=False, workers=1)
        pstats.Stats(prof).sort_stats("tottime").print_stats(10)
        return
    views, views_bare, gt, gt_bare = [], [], [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        render_lightfield(renderer, LightFieldRig(cam, baseline, focus, (args.grid, args.grid)),
                          progress=False)
        views.append(time.perf_counter() - t0)
        views_bare.append(bare_cast(renderer, cam, args.grid ** 2))
        t0 = time.perf_counter()
        median_depth(renderer, cam, 10)
        gt.append(time.perf_counter() - t0)
        gt_bare.append(bare_cast(renderer, cam, 100))  # 10x10 as many rays
    med = statistics.median
    n_views, n_gt = args.grid ** 2 * args.size ** 2, 100 * args.size ** 2
    print(f"room seed {args.seed} ({len(room.objects)} objects), {args.rounds} rounds, medians")
    print(f"  views: {args.grid}x{args.grid} x {args.size}x{args.size} ({n_views / 1e6:.1f} M rays): "
          f"geodl {med(views):.2f} s, bare cast_rays {med(views_bare):.2f} s, "
          f"overhead {med(views) / med(views_bare):.2f}x")
    print(f"  ground truth at 10x ({n_gt / 1e6:.1f} M rays, block median): "
          f"geodl {med(gt):.2f} s, bare cast_rays {med(gt_bare):.2f} s, "
          f"overhead {med(gt) / med(gt_bare):.2f}x")
    print(f"  scene total: {med(views) + med(gt):.2f} s")


if __name__ == "__main__":
    main()
