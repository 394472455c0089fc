"""Rendering speed: one 9x9 x 512x512 HCI-style light field of a procedural
room, against a bare ``RaycastingScene.cast_rays`` of the same number of rays
on the same scene (our overhead ratio: ray generation, shading, textures).

    .venv/bin/python benchmarks/bench_render.py [--size 512] [--grid 9]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from geodl._optional import open3d
from geodl.render import Renderer, make_room, render_hci_scene


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--grid", type=int, default=9)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    lf = render_hci_scene(args.seed, size=args.size, grid=args.grid, progress=False)
    ours = time.perf_counter() - t0
    n_rays = args.grid ** 2 * args.size ** 2
    # the same rays, cast bare: one view's rays reused grid^2 times
    renderer = Renderer(make_room(args.seed))
    o, d = (t.numpy() for t in lf.camera.rays())
    rays = open3d().core.Tensor(np.concatenate([o, d], -1).astype(np.float32))
    t0 = time.perf_counter()
    for _ in range(args.grid ** 2):
        renderer.rc.cast_rays(rays)
    bare = time.perf_counter() - t0
    print(f"{args.grid}x{args.grid} views of {args.size}x{args.size} ({n_rays / 1e6:.1f} M rays), "
          f"room seed {args.seed}, {len(make_room(args.seed).objects)} objects")
    print(f"  geodl render_hci_scene (rays, cast, shading, textures): {ours:.2f} s "
          f"({n_rays / ours / 1e6:.2f} M rays/s)")
    print(f"  bare RaycastingScene.cast_rays, same ray count:          {bare:.2f} s "
          f"({n_rays / bare / 1e6:.2f} M rays/s)")
    print(f"  overhead ratio: {ours / bare:.2f}x")


if __name__ == "__main__":
    main()
