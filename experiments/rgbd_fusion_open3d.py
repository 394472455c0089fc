"""Real Kinect frames fused by geodl beside the same frames fused by bare Open3D.

A 7-Scenes sequence folder (``frame-XXXXXX.color.jpg``, ``.depth.png``,
``.pose.txt``, ``camera-intrinsics.txt``; e.g. the 50 frames of
``7scenes_frames_000_490``) goes through

* geodl: ``geodl.recon.load_captures`` (detects the 7-Scenes layout) and
  ``geodl.recon.reconstruct_room`` (the sensor depth, TSDF on Open3D's
  ``VoxelBlockGrid``), files to mesh, exactly what ``geodl reconstruct`` runs;
* bare Open3D: the same files read with ``open3d.t.io.read_image`` and fused
  by a ``VoxelBlockGrid`` written out below, with geodl's settings (voxel
  size, truncation of 4 voxels, maximum depth, a voxel kept when one frame
  saw it).

After one untimed run of each, both alternate ``--repeats`` times in one
process (the machine is shared, so single timings are noisy; medians
reported). The F-score at
``--threshold`` between the two meshes (each sampled by area, distances to
the other's triangles, :func:`geodl.recon.evaluate_reconstruction` with no
visibility restriction) says whether they are the same surface; a snapshot
of geodl's mesh is written to ``figures/rgbd_fusion_7scenes.png``.

    .venv/bin/python experiments/rgbd_fusion_open3d.py \\
        /work/shared/data/rgbd/7scenes_frames_000_490
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from geodl._optional import open3d
from geodl.recon import evaluate_reconstruction, load_captures, reconstruct_room
from geodl.structures import Mesh

HERE = Path(__file__).resolve().parent


def fuse_geodl(folder: Path, voxel: float | None, depth_max: float) -> tuple[Mesh, float]:
    """geodl from files to mesh: (mesh, the voxel size it chose)."""
    frames = load_captures(folder, depth_max=depth_max, progress=False)
    result = reconstruct_room(frames, voxel_size=voxel, progress=False)
    return result.mesh, result.meta["voxel_size"]


def fuse_open3d(folder: Path, voxel: float, depth_max: float, depth_scale: float = 1000.0
                ) -> Mesh:
    """Bare Open3D: read every frame, integrate into a ``VoxelBlockGrid``,
    extract the mesh (Open3D's reconstruction-system recipe)."""
    o3d = open3d()
    f32 = o3d.core.float32
    device = o3d.core.Device("CPU:0")
    K = o3d.core.Tensor(np.loadtxt(folder / "camera-intrinsics.txt"), o3d.core.float64)
    grid = o3d.t.geometry.VoxelBlockGrid(("tsdf", "weight", "color"), (f32, f32, f32),
                                         ((1), (1), (3)), voxel, 16, 1000, device)
    for pose_file in sorted(folder.glob("frame-*.pose.txt")):
        stem = pose_file.name[:-len(".pose.txt")]
        depth = o3d.t.io.read_image(str(folder / f"{stem}.depth.png")).to(device)
        color_file = next(folder.glob(f"{stem}.color.*"))
        color = o3d.t.io.read_image(str(color_file)).to(device)
        extrinsic = o3d.core.Tensor(np.linalg.inv(np.loadtxt(pose_file)), o3d.core.float64)
        blocks = grid.compute_unique_block_coordinates(depth, K, extrinsic, depth_scale,
                                                       depth_max, 4.0)
        grid.integrate(blocks, depth, color, K, K, extrinsic, depth_scale, depth_max, 4.0)
    # weight > 0.5: a voxel seen by one frame is kept, as geodl's min_weight=1
    mesh = grid.extract_triangle_mesh(weight_threshold=0.5).to_legacy()
    return Mesh.from_open3d(mesh)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a 7-Scenes sequence folder")
    ap.add_argument("--voxel", type=float, help="voxel size in metres (default: geodl's "
                    "choice from the depth, used for both)")
    ap.add_argument("--depth-max", type=float, default=4.0, help="metres (default 4: "
                    "beyond the Kinect's useful range)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threshold", type=float, default=0.05, help="F-score distance (m)")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    times: dict[str, list[float]] = {"geodl": [], "open3d": []}
    cpu: dict[str, list[float]] = {"geodl": [], "open3d": []}
    # one untimed run of each first: imports, Open3D's first kernels, the file cache
    _, voxel = fuse_geodl(args.folder, args.voxel, args.depth_max)
    fuse_open3d(args.folder, voxel, args.depth_max)
    for r in range(args.repeats):
        # alternate which one goes first, so neither always gets a warm cache
        for who in (("geodl", "open3d") if r % 2 == 0 else ("open3d", "geodl")):
            t0, c0 = time.perf_counter(), time.process_time()
            if who == "geodl":
                mesh_geodl, voxel = fuse_geodl(args.folder, voxel, args.depth_max)
            else:
                mesh_o3d = fuse_open3d(args.folder, voxel, args.depth_max)
            times[who].append(time.perf_counter() - t0)
            cpu[who].append(time.process_time() - c0)
            print(f"run {r} {who:7s} {times[who][-1]:.2f} s ({cpu[who][-1]:.2f} s CPU)",
                  flush=True)
    m = evaluate_reconstruction(mesh_geodl, mesh_o3d, cameras=None, threshold=args.threshold)
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    frames = len(list(args.folder.glob("frame-*.pose.txt")))
    summary = {"frames": frames, "voxel_m": voxel, "depth_max_m": args.depth_max,
               "fscore": m.fscore, "precision": m.precision, "recall": m.recall,
               "accuracy_mm": 1000 * m.accuracy, "completeness_mm": 1000 * m.completeness,
               "geodl_s": med["geodl"], "open3d_s": med["open3d"],
               "ratio": med["geodl"] / med["open3d"], "times": times,
               "geodl_cpu_s": med_cpu["geodl"], "open3d_cpu_s": med_cpu["open3d"],
               "cpu_ratio": med_cpu["geodl"] / med_cpu["open3d"], "cpu_times": cpu,
               "geodl_faces": mesh_geodl.num_faces, "open3d_faces": mesh_o3d.num_faces}
    print(f"{frames} frames, voxel {100 * voxel:.2f} cm: F-score at "
          f"{100 * args.threshold:.0f} cm between the meshes {m.fscore:.4f} (precision "
          f"{m.precision:.4f}, recall {m.recall:.4f}, mean distances {1000 * m.accuracy:.2f} / "
          f"{1000 * m.completeness:.2f} mm); median seconds geodl {med['geodl']:.2f}, Open3D "
          f"{med['open3d']:.2f} (ratio {summary['ratio']:.2f}; CPU seconds {med_cpu['geodl']:.2f} "
          f"/ {med_cpu['open3d']:.2f}, ratio {summary['cpu_ratio']:.2f}); faces {mesh_geodl.num_faces:,}"
          f" / {mesh_o3d.num_faces:,}")
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    (args.out / "figures").mkdir(parents=True, exist_ok=True)
    (args.out / "results" / "rgbd_fusion_open3d.json").write_text(json.dumps(
        {"config": {k: str(v) for k, v in vars(args).items()}, **summary}, indent=1))
    from geodl.viz import Layer, snapshot

    png = snapshot([Layer(mesh_geodl)], args.out / "figures" / "rgbd_fusion_7scenes.png",
                   width=900, height=700, title=f"7-Scenes, {frames} Kinect frames fused by "
                   "geodl", legend=False, up="-y")
    print(f"wrote {png}")
    return summary


if __name__ == "__main__":
    main()
