"""TSDF fusion speed: geodl's ``TSDFVolume.integrate`` against a bare Open3D
``VoxelBlockGrid`` (``compute_unique_block_coordinates`` + ``integrate``) on
the same 512 x 512 depth + colour frames of a procedural room.

Bare Open3D gets its frames ready-made (Open3D images, invalid depth already
0); ours starts from our ``DepthFrame`` (NaN = no depth, colour (3, H, W))
and pays for the conversion. Both build a fresh volume with the same block
count every round; rounds alternate ours and bare. Goal: ours <= 1.2x bare.

    .venv/bin/python benchmarks/bench_fusion.py [--size 512] [--frames 8] [--rounds 3]
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from geodl._optional import open3d
from geodl.datasets import training_seeds
from geodl.recon.fusion import BLOCK_RESOLUTION, DepthFrame, TSDFVolume
from geodl.render import Renderer, make_room
from geodl.structures import PinholeCamera


def room_frames(size: int, n: int) -> list[DepthFrame]:
    """``n`` frames from the middle of training room 0, turning around the room."""
    renderer = Renderer(make_room(training_seeds(1)[0]))
    frames = []
    for k in range(n):
        a = 2 * math.pi * k / n
        cam = PinholeCamera.look_at((0.4 * math.cos(a), 0.4 * math.sin(a), 1.5),
                                    (3 * math.cos(a), 3 * math.sin(a), 1.0),
                                    fov_deg=75, width=size, height=size)
        r = renderer.render(cam)
        depth = torch.where(torch.isfinite(r.depth), r.depth, torch.nan)
        frames.append(DepthFrame(cam, depth, r.color))
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--voxel", type=float, default=0.02)
    args = ap.parse_args()
    o3d = open3d()
    frames = room_frames(args.size, args.frames)
    blocks, trunc_mult = 1000, 4.0
    device = o3d.core.Device("CPU:0")
    # bare Open3D's inputs, prepared outside the timing
    bare_inputs = [(o3d.t.geometry.Image(o3d.core.Tensor(f.open3d_depth(math.inf))),
                    o3d.t.geometry.Image(o3d.core.Tensor(f.open3d_color())),
                    o3d.core.Tensor(f.camera.K.numpy()),
                    o3d.core.Tensor(f.camera.extrinsic.numpy())) for f in frames]

    def ours() -> None:
        vol = TSDFVolume(args.voxel, trunc_mult * args.voxel, device="CPU:0", block_count=blocks)
        for f in frames:
            vol.integrate(f)

    def bare() -> None:
        f32 = o3d.core.float32
        vbg = o3d.t.geometry.VoxelBlockGrid(("tsdf", "weight", "color"), (f32, f32, f32),
                                            ((1), (1), (3)), args.voxel, BLOCK_RESOLUTION,
                                            blocks, device)
        for depth, color, K, E in bare_inputs:
            coords = vbg.compute_unique_block_coordinates(depth, K, E, 1.0, 1e6, trunc_mult)
            vbg.integrate(coords, depth, color, K, K, E, 1.0, 1e6, trunc_mult)

    ours()
    bare()  # warm-up (allocator, thread pool)
    times: dict[str, list[float]] = {"geodl TSDFVolume.integrate": [], "bare Open3D integrate": []}
    for _ in range(args.rounds):
        for name, fn in zip(times, (ours, bare)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    n = len(frames)
    print(f"{n} frames of {args.size} x {args.size}, voxel {args.voxel} m, "
          f"truncation {trunc_mult} voxels, {args.rounds} interleaved rounds, Open3D "
          f"{o3d.__version__} on {device}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, ts in times.items():
        print(f"  {name:30s} {1000 * med[name] / n:8.1f} ms per frame  "
              f"(rounds: {', '.join(f'{1000 * t / n:.1f}' for t in ts)})")
    ratio = med["geodl TSDFVolume.integrate"] / med["bare Open3D integrate"]
    print(f"  ratio ours / bare: {ratio:.3f}  (goal <= 1.2)")
    vol = TSDFVolume(args.voxel, trunc_mult * args.voxel, device="CPU:0", block_count=blocks)
    for f in frames:
        vol.integrate(f)
    t0 = time.perf_counter()
    mesh = vol.extract_mesh()
    print(f"  extraction + cleaning (not in the ratio): {time.perf_counter() - t0:.2f} s, "
          f"{mesh.num_verts} vertices")


if __name__ == "__main__":
    main()
