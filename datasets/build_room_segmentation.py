"""Build (once) the cached room-segmentation meshes and labels that
``experiments/room_segmentation.py`` trains and tests on, with a progress bar.

    .venv/bin/python datasets/build_room_segmentation.py --source ground_truth \\
        --train 16 --voxel 0.1

Rooms: ``training_seeds(--train)`` and the 8 ``BENCHMARK_SEEDS``; each is
stored as ``datasets/cache/room_segmentation/<config>/room_<seed>.pt``
(git-ignored); rooms already there are skipped. See
``geodl.datasets.rooms.segmentation`` for the sources.
"""
from __future__ import annotations

import argparse
import time

from geodl.datasets.rooms.labels import CLASSES
from geodl.datasets.rooms.segmentation import DEFAULT_ROOT, RoomMeshConfig, segmentation_splits


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default="ground_truth",
                    help="'standin' or a reconstruct_room method (ground_truth, cost_volume)")
    ap.add_argument("--train", type=int, default=16)
    ap.add_argument("--test", type=int, default=8)
    ap.add_argument("--voxel", type=float, default=0.1)
    ap.add_argument("--captures", type=int, default=4)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--grid", type=int, default=5)
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--root", default=str(DEFAULT_ROOT))
    args = ap.parse_args(argv)
    config = RoomMeshConfig(args.source, args.voxel, args.captures, args.size, args.grid,
                            args.tolerance)
    t0 = time.perf_counter()
    train, test = segmentation_splits(args.train, config, args.test, args.root, progress=True)
    for name, ds in (("train", train), ("test", test)):
        counts = ds.class_counts().tolist()
        verts = sum(s.mesh.num_verts for s in ds) / len(ds)
        ignored = sum(int((s.labels < 0).sum()) for s in ds) / sum(s.mesh.num_verts for s in ds)
        print(f"{name}: {len(ds)} rooms, {verts:.0f} vertices per room, "
              + ", ".join(f"{c} {n}" for c, n in zip(CLASSES, counts))
              + f", ignored {100 * ignored:.1f} %, built in {ds.build_seconds:.0f} s")
    print(f"{config.key}: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
