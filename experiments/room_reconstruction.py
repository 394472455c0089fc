"""3D room reconstruction from light-field captures on the benchmark rooms.

For each room of ``geodl.datasets.BENCHMARK_SEEDS`` (never used for tuning
or training): ``--captures`` light-field rigs placed in the room
(``geodl.datasets.write_room_captures``, rendered once into
``datasets/cache/room_captures/``), read back from disk as any user's
captures are (``geodl.recon.load_captures``: pose, lens, rig and disparity
range from each ``parameters.cfg``). Then, per depth method, every capture's
disparity (``geodl.lightfield.depth.estimate_disparity``; ``ground_truth``:
the rendered depth, the ceiling), TSDF fusion on Open3D's ``VoxelBlockGrid``
(``geodl.recon.fuse_captures``) and the evaluation against ``room_gt.ply``
restricted to the surfaces some capture sees
(``geodl.recon.evaluate_reconstruction``: accuracy, completeness, precision,
recall, F-score at 5 cm). Runtimes per stage; snapshots of the first room's
reconstructions next to its ground truth.

    .venv/bin/python experiments/room_reconstruction.py \
        [--methods cost_volume structure_tensor epinet cost_net] [--rooms 8]

Each estimated method fuses its disparities twice: snapped to the planes
(``geodl.lightfield.depth.planes``, the default of ``reconstruct_room``) and as
estimated (the row "(no planes)").

RGB-D scans of the same rooms (``--kinds rgbd``; ``lightfield rgbd`` for
both): a hand-held structured-light scan per room
(``geodl.datasets.rooms.rgbd.write_room_rgbd``, 7-Scenes layout, rendered once
into the cache), read back with ``load_captures`` and fused from the sensor's
depth by ``reconstruct_room`` with its defaults; the row "rgbd (sensor)" adds
seconds per frame (reading excluded, fusion and meshing included):

    .venv/bin/python experiments/room_reconstruction.py --kinds rgbd \
        --out /tmp/rr

Posed photos (``--kinds photos``): each room also photographed 24 times at 640 x 480
with known cameras (``geodl.datasets.write_room_photos``: a COLMAP project,
cached under ``--cache``), read back with
``geodl.mvs.load_posed_photos`` and reconstructed by plane-sweep stereo,
consistency filtering and TSDF fusion (``geodl.recon.reconstruct_photos``),
the row "photos (plane sweep)":

    .venv/bin/python experiments/room_reconstruction.py --kinds photos --rooms 1 --out /tmp/rr

How the fusion defaults were chosen (training rooms only; writes into /tmp):

    .venv/bin/python experiments/room_reconstruction.py --seeds 0 1 3 \
        --methods cost_volume --min-confidence 0 --min-component 0 --out /tmp/rr
    .venv/bin/python experiments/room_reconstruction.py --seeds 0 1 3 \
        --methods cost_volume --out /tmp/rr
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from geodl.datasets import BENCHMARK_SEEDS, write_room_captures
from geodl.datasets.rooms.photos import write_room_photos
from geodl.datasets.rooms.rgbd import DEFAULT_FRAMES, write_room_rgbd
from geodl.mvs import load_posed_photos
from geodl.mvs.slanted import SlantedConfig
from geodl.mvs.stereo import MAX_SIZE
from geodl.mvs.textureless import PHOTO_FILL
from geodl.recon import (
    evaluate_reconstruction,
    fuse_captures,
    load_captures,
    load_room_ground_truth,
    reconstruct_photos,
    reconstruct_room,
)
from geodl.recon.reconstruct import MIN_COMPONENT_AREA, MIN_CONFIDENCE, estimate_for_fusion
from geodl.structures import Mesh

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / "datasets" / "cache" / "room_captures"
GROUND_TRUTH = "ground_truth"
SHOWN = ("fscore", "precision", "recall", "accuracy_cm", "completeness_cm", "disparity_s",
         "planes_s", "fusion_s", "evaluation_s")
#: the name suffix of a method's row without the planar prior
NO_PLANES = " (no planes)"
#: the row of the RGB-D scans
RGBD = "rgbd (sensor)"
#: the row of posed photos through multi-view stereo
PHOTOS = "photos (plane sweep)"


def photos_folder(cache: Path, seed: int, photos: int = 24) -> Path:
    """Room ``seed``'s photos project (COLMAP text model), rendered on first use."""
    folder = cache / f"room_{seed}_photos{photos}_640x480"
    if not (folder / "captures.json").exists():
        t0 = time.perf_counter()
        write_room_photos(folder, seed, directions=photos // 3, overwrite=True)
        print(f"rendered {folder} in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def stereo_options(options: dict) -> dict:
    """``multi_view_stereo`` keywords from ``--photo-options`` JSON:
    ``"textureless"`` is null (no fill) or fields replacing ``PHOTO_FILL``'s."""
    out = dict(options)
    if isinstance(out.get("textureless"), dict):
        out["textureless"] = replace(PHOTO_FILL, **out["textureless"])
    if isinstance(out.get("slanted"), dict):
        out["slanted"] = SlantedConfig(**{k: tuple(v) if isinstance(v, list) else v
                                          for k, v in out["slanted"].items()})
    return out


def photos_row(cache: Path, seed: int, max_size: int = MAX_SIZE, options: dict | None = None
               ) -> tuple[dict, Mesh]:
    """Room ``seed`` from its posed photos (stereo at ``max_size`` px, with
    ``multi_view_stereo``'s ``options``): the metrics row and the mesh."""
    folder = photos_folder(cache, seed)
    frames = load_posed_photos(folder)
    gt_mesh, _, _ = load_room_ground_truth(folder)
    rec = reconstruct_photos(frames, progress=False, max_size=max_size,
                             **stereo_options(options or {}))
    t1 = time.perf_counter()
    m = evaluate_reconstruction(rec.mesh, gt_mesh, frames.cameras)
    row = {"fscore": m.fscore, "precision": m.precision, "recall": m.recall,
           "accuracy_cm": 100 * m.accuracy, "completeness_cm": 100 * m.completeness,
           "disparity_s": rec.seconds["depth_per_view"], "planes_s": 0.0,
           "fusion_s": rec.seconds["fusion"], "evaluation_s": time.perf_counter() - t1}
    print(f"room {seed} {PHOTOS:28s} F {m.fscore:.3f}  P {m.precision:.3f}  R {m.recall:.3f}  "
          f"acc {row['accuracy_cm']:.1f} cm  comp {row['completeness_cm']:.1f} cm  "
          f"({row['disparity_s']:.1f} s depth per photo, {rec.seconds['filter']:.1f} s filter, "
          f"{row['fusion_s']:.1f} s fusion)", flush=True)
    return row, rec.mesh


def captures_folder(cache: Path, seed: int, captures: int, size: int, grid: int) -> Path:
    """Room ``seed``'s captures folder, rendered on first use."""
    folder = cache / f"room_{seed}_{captures}x{grid}x{grid}_{size}px"
    if not (folder / "captures.json").exists():
        t0 = time.perf_counter()
        write_room_captures(folder, seed, captures, size, grid, overwrite=True)
        print(f"rendered {folder} in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def rgbd_folder(cache: Path, seed: int, frames: int) -> Path:
    """Room ``seed``'s hand-held RGB-D scan (640 x 480), rendered on first use."""
    folder = cache / f"rgbd_{seed}_{frames}f_640x480"
    if not (folder / "captures.json").exists():
        t0 = time.perf_counter()
        write_room_rgbd(folder, seed, frames, overwrite=True)
        print(f"rendered {folder} in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def rgbd_row(folder: Path) -> tuple[dict, Mesh]:
    """Room scan ``folder`` read, fused with ``reconstruct_room``'s defaults,
    scored against its ``room_gt.ply`` (what some depth camera sees)."""
    frames = load_captures(folder, progress=False)
    gt_mesh, _, _ = load_room_ground_truth(folder)
    rec = reconstruct_room(frames, progress=False)
    t1 = time.perf_counter()
    m = evaluate_reconstruction(rec.mesh, gt_mesh, [frames.depth_camera(k)
                                                    for k in range(len(frames))])
    return {"fscore": m.fscore, "precision": m.precision, "recall": m.recall,
            "accuracy_cm": 100 * m.accuracy, "completeness_cm": 100 * m.completeness,
            "disparity_s": 0.0, "planes_s": 0.0, "fusion_s": rec.seconds["total"],
            "evaluation_s": time.perf_counter() - t1, "per_frame_s": rec.seconds["per_frame"],
            "voxel_cm": 100 * rec.meta["voxel_size"], "frames": len(frames)}, rec.mesh


def without(mesh: Mesh, ids: torch.Tensor, names: dict[int, str], drop: str) -> Mesh:
    """``mesh`` without the faces of the objects called ``drop`` (the ceiling,
    so a view from above sees into the room)."""
    gone = torch.tensor([k for k, v in names.items() if v == drop], dtype=torch.long)
    keep = ~torch.isin(ids[mesh.faces[:, 0]], gone)
    return Mesh(mesh.verts64, mesh.faces[keep])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", nargs="+", default=["cost_volume", "structure_tensor"],
                    help="depth methods (ground_truth, the ceiling, is always added)")
    ap.add_argument("--rooms", type=int, default=len(BENCHMARK_SEEDS),
                    help="the first N benchmark rooms")
    ap.add_argument("--seeds", type=int, nargs="+", help="other rooms instead (e.g. training "
                    "seeds, to choose settings: 0 1 3 chose the fusion defaults)")
    ap.add_argument("--kinds", nargs="+", choices=("lightfield", "rgbd", "photos"),
                    default=["lightfield"], help="inputs: light-field captures (default), "
                    "hand-held RGB-D scans, 24 posed photos per room through multi-view stereo")
    ap.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help="RGB-D frames per scan")
    ap.add_argument("--captures", type=int, default=4)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--grid", type=int, default=9)
    ap.add_argument("--voxel", type=float, default=0.02, help="TSDF voxel (m)")
    ap.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE)
    ap.add_argument("--min-component", type=float, default=MIN_COMPONENT_AREA,
                    help="remove mesh pieces under this area (m^2)")
    ap.add_argument("--skip-no-planes", action="store_true", help="only the default "
                    "fusion (snapped to planes), not also the disparity as estimated")
    ap.add_argument("--method-options", type=json.loads, default={}, metavar="JSON",
                    help='options of estimate_disparity for the estimated methods, e.g. '
                    '\'{"confidence_power": 0}\'')
    ap.add_argument("--photo-max-size", type=int, default=MAX_SIZE, help="longest side the "
                    "photos' stereo works at (default: geodl.mvs's)")
    ap.add_argument("--photo-options", type=json.loads, default={}, metavar="JSON",
                    help="keywords of geodl.mvs.multi_view_stereo for the photos, e.g. "
                    "'{\"textureless\": null}' (no fill) or '{\"textureless\": {\"tol\": 0.3}, "
                    "\"filled_relative_depth\": 0.01}'")
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    methods = [m for m in args.methods if m != GROUND_TRUTH] + [GROUND_TRUTH]
    results: dict[str, dict[str, dict]] = {}
    shown: dict[str, Mesh] = {}
    first_gt = None
    seeds = args.seeds or BENCHMARK_SEEDS[:args.rooms]
    for seed in seeds:
        if "rgbd" in args.kinds:
            folder = rgbd_folder(args.cache, seed, args.frames)
            row, mesh = rgbd_row(folder)
            results.setdefault(RGBD, {})[str(seed)] = row
            print(f"room {seed} {RGBD:28s} F {row['fscore']:.3f}  P {row['precision']:.3f}  "
                  f"R {row['recall']:.3f}  acc {row['accuracy_cm']:.1f} cm  comp "
                  f"{row['completeness_cm']:.1f} cm  ({row['per_frame_s']:.2f} s per frame, "
                  f"{row['frames']} frames, voxel {row['voxel_cm']:.2f} cm)", flush=True)
            if seed == seeds[0]:
                shown[RGBD] = mesh
                if first_gt is None:
                    gt_mesh, ids, names = load_room_ground_truth(folder)
                    first_gt = without(gt_mesh, ids, names, "ceiling")
        if "photos" in args.kinds:
            row, mesh = photos_row(args.cache, seed, args.photo_max_size, args.photo_options)
            results.setdefault(PHOTOS, {})[str(seed)] = row
            if seed == seeds[0]:
                shown[PHOTOS] = mesh
                if first_gt is None:
                    gt_mesh, ids, names = load_room_ground_truth(photos_folder(args.cache, seed))
                    first_gt = without(gt_mesh, ids, names, "ceiling")
        if "lightfield" not in args.kinds:
            continue
        folder = captures_folder(args.cache, seed, args.captures, args.size, args.grid)
        captures = load_captures(folder)
        gt_mesh, ids, names = load_room_ground_truth(folder)
        cameras = [lf.camera for lf in captures]
        if first_gt is None:
            first_gt = without(gt_mesh, ids, names, "ceiling")
        for method in methods:
            t0 = time.perf_counter()
            if method == GROUND_TRUTH:
                rec = reconstruct_room(captures, GROUND_TRUTH, args.voxel, progress=False,
                                       min_component_area=args.min_component)
                variants = [(method, rec, rec.seconds["disparity"])]
            else:
                maps = [estimate_for_fusion(lf, method, **args.method_options)
                        for lf in captures]
                seconds_disp = time.perf_counter() - t0
                # the same disparities fused as estimated and snapped to planes
                variants = [(f"{method}{suffix}", fuse_captures(
                    captures, [d for d, _ in maps], [c for _, c in maps], args.voxel,
                    args.min_confidence, progress=False, min_component_area=args.min_component,
                    planes=planes), seconds_disp)
                    for suffix, planes in ((NO_PLANES, False), ("", True))
                    if planes or not args.skip_no_planes]
            for name, rec, seconds_disp in variants:
                t1 = time.perf_counter()
                m = evaluate_reconstruction(rec.mesh, gt_mesh, cameras)
                row = {"fscore": m.fscore, "precision": m.precision, "recall": m.recall,
                       "accuracy_cm": 100 * m.accuracy, "completeness_cm": 100 * m.completeness,
                       "disparity_s": seconds_disp / len(captures),
                       "planes_s": rec.seconds["planes"], "fusion_s": rec.seconds["fusion"],
                       "evaluation_s": time.perf_counter() - t1}
                results.setdefault(name, {})[str(seed)] = row
                print(f"room {seed} {name:28s} F {m.fscore:.3f}  P {m.precision:.3f}  "
                      f"R {m.recall:.3f}  acc {row['accuracy_cm']:.1f} cm  comp "
                      f"{row['completeness_cm']:.1f} cm  ({row['disparity_s']:.1f} s disparity "
                      f"per capture, {row['planes_s']:.1f} s planes, "
                      f"{row['fusion_s']:.1f} s fusion)", flush=True)
                if seed == seeds[0] and not name.endswith(NO_PLANES):
                    shown[name] = rec.mesh
    summary = {m: {k: float(np.mean([r[k] for r in rows.values()])) for k in rows[next(iter(rows))]}
               for m, rows in results.items()}
    print(format_table({m: s for m, s in summary.items() if m != RGBD}, len(seeds)))
    if RGBD in summary:
        s = summary[RGBD]
        print(f"| input (mean over {len(seeds)} rooms) | F-score @ 5 cm | precision | recall | "
              "accuracy (cm) | completeness (cm) | s / frame | frames | voxel (cm) |\n"
              + "|" + "---|" * 9 + f"\n| {RGBD} | {s['fscore']:.3f} | {s['precision']:.3f} | "
              f"{s['recall']:.3f} | {s['accuracy_cm']:.2f} | {s['completeness_cm']:.2f} | "
              f"{s['per_frame_s']:.2f} | {s['frames']:.0f} | {s['voxel_cm']:.2f} |")
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    (args.out / "figures").mkdir(parents=True, exist_ok=True)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    name = "room_reconstruction" if args.kinds == ["lightfield"] else \
        "room_reconstruction_" + "_".join(args.kinds)
    (args.out / "results" / f"{name}.json").write_text(
        json.dumps({"config": config, "per_room": results, "mean": summary}, indent=1))
    figure(shown, first_gt, seeds[0], args.out / "figures" / f"{name}.png")
    return summary


def format_table(summary: dict, rooms: int) -> str:
    if not summary:
        return ""
    head = (f"| depth (mean over {rooms} rooms) | F-score @ 5 cm | precision | recall | "
            "accuracy (cm) | completeness (cm) | disparity s / capture | planes s | fusion s | "
            "eval s |")
    lines = [head, "|" + "---|" * 10]
    for m, s in summary.items():
        lines.append(f"| {m} | {s['fscore']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} | "
                     f"{s['accuracy_cm']:.2f} | {s['completeness_cm']:.2f} | "
                     f"{s['disparity_s']:.1f} | {s['planes_s']:.1f} | {s['fusion_s']:.1f} | "
                     f"{s['evaluation_s']:.1f} |")
    return "\n".join(lines)


def figure(meshes: dict[str, Mesh], gt: Mesh, seed: int, path: Path) -> None:
    """The first room's reconstructions and its ground truth, seen from above
    the same corner (ceilings left out)."""
    import tempfile

    import matplotlib.image as mpimg

    from geodl.viz import Layer, pyplot, save_figure, snapshot

    panels = [("ground truth", Layer(gt, color="0.75"))] + \
             [(f"from {m}", Layer(mesh)) for m, mesh in meshes.items()]
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2))
    with tempfile.TemporaryDirectory() as tmp:
        for ax, (title, layer) in zip(np.atleast_1d(axes), panels):
            png = snapshot([layer], Path(tmp) / "p.png", width=600, height=520, elev=60,
                           azim=-55, legend=False)
            ax.imshow(mpimg.imread(png))
            ax.set_title(title)
            ax.axis("off")
    fig.suptitle(f"room {seed}: fused meshes vs ground truth")
    save_figure(fig, path)


if __name__ == "__main__":
    main()
