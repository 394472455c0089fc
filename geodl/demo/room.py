"""Part 1 of ``geodl demo``: the job the light-field half of geodl exists for.

One seeded room, end to end, everything written into one folder:

1. render K light-field captures of the room (HCI scene folders with poses,
   ``captures/``, plus the room's ground truth ``captures/room_gt.ply``);
2. estimate each capture's disparity (``geodl.recon``'s default,
   ``refine_net``) and score it against
   the rendered ground truth (BadPix 0.07, MSE x100) -> ``disparity.png``;
3. synthesise capture 0's centre view from its 4 corner views (the learned
   network, and warping with a plane-sweep disparity beside it) and score it
   (PSNR / SSIM) -> ``novel_view.png``;
4. give each disparity the planar prior (textureless regions take their
   borders' plane, then the map is snapped to its dominant planes) and fuse
   the captures' depth into one room mesh (TSDF on Open3D's
   ``VoxelBlockGrid``) -> ``room.ply``, ``points.ply``, and the ceiling of
   the same fusion from ground-truth depth;
5. evaluate both meshes against the ground truth (accuracy, completeness,
   precision, recall, F-score at 5 cm) -> ``room.png``, ``report.html``
   (the interactive viewer: reconstruction, ground truth, cameras, tables).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from geodl.recon.reconstruct import DEFAULT_METHOD


@dataclass(frozen=True)
class RoomDemoSize:
    """How big the demo's captures are (``quick``: for tests, seconds)."""

    captures: int
    size: int
    grid: int
    voxel: float

    @classmethod
    def pick(cls, quick: bool) -> "RoomDemoSize":
        return cls(2, 64, 5, 0.05) if quick else cls(4, 512, 9, 0.02)


def _step(title: str) -> float:
    print(f"\n== {title}")
    return time.perf_counter()


def _done(t0: float) -> float:
    seconds = time.perf_counter() - t0
    print(f"   ({seconds:.1f} s)")
    return seconds


def _disparity_figure(captures, estimates, scores, path: Path) -> Path:
    """One row per capture: centre view, estimated disparity, ground truth,
    absolute error (clipped at 0.3 px)."""
    from geodl.viz import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(len(captures), 4, figsize=(14, 3.4 * len(captures)), squeeze=False)
    for row, lf, d, s in zip(axes, captures, estimates, scores):
        gt = lf.disparity
        finite = torch.isfinite(gt)
        lo, hi = float(gt[finite].min()), float(gt[finite].max())
        row[0].imshow(lf.center_view.permute(1, 2, 0).clamp(0, 1).numpy())
        row[0].set_title(f"{lf.meta.get('scene', '')}: centre view")
        row[1].imshow(d.numpy(), cmap="viridis", vmin=lo, vmax=hi)
        row[1].set_title(f"estimated disparity ({DEFAULT_METHOD})")
        im = row[2].imshow(gt.numpy(), cmap="viridis", vmin=lo, vmax=hi)
        row[2].set_title("ground truth (px)")
        fig.colorbar(im, ax=row[2], fraction=0.046)
        err = (d.double() - gt).abs()
        im = row[3].imshow(err.numpy(), cmap="magma", vmin=0, vmax=0.3)
        row[3].set_title(f"|error|: BadPix0.07 {s['badpix0.07']:.1f} %")
        fig.colorbar(im, ax=row[3], fraction=0.046)
        for a in row:
            a.set_xticks([]), a.set_yticks([])
    return save_figure(fig, path)


def _novel_view_figure(lf, sources, synthesised, real, scores, path: Path) -> Path:
    from geodl.viz import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(1, 4, figsize=(15, 4))
    corners = torch.stack([lf.view(int(u), int(v)) for u, v in sources])
    top = torch.cat([corners[0], corners[1]], -1)
    bottom = torch.cat([corners[2], corners[3]], -1)
    ax[0].imshow(torch.cat([top, bottom], -2).permute(1, 2, 0).clamp(0, 1).numpy())
    ax[0].set_title("inputs: the 4 corner views")
    ax[1].imshow(synthesised.permute(1, 2, 0).clamp(0, 1).numpy())
    ax[1].set_title(f"synthesised centre view\nPSNR {scores['psnr']:.2f} dB, "
                    f"SSIM {scores['ssim']:.3f}")
    ax[2].imshow(real.permute(1, 2, 0).clamp(0, 1).numpy())
    ax[2].set_title("real centre view")
    im = ax[3].imshow((synthesised - real).abs().mean(0).numpy(), cmap="magma", vmin=0, vmax=0.2)
    ax[3].set_title("|synthesised - real|")
    fig.colorbar(im, ax=ax[3], fraction=0.046)
    for a in ax:
        a.set_xticks([]), a.set_yticks([])
    return save_figure(fig, path)


def run_room(out: Path, quick: bool = False, seed: int | None = None) -> list[dict]:
    """The pipeline above into ``out``; returns summary rows ("result", "value")."""
    from geodl.datasets import BENCHMARK_SEEDS, write_room_captures
    from geodl.lightfield.benchmark import evaluate
    from geodl.lightfield.synthesis import psnr, ssim, synthesize_views
    from geodl.recon import (
        estimate_for_fusion,
        evaluate_reconstruction,
        fuse_captures,
        load_captures,
        reconstruct_room,
        save_mesh,
    )
    from geodl.viz import Layer, snapshot, to_html

    cfg = RoomDemoSize.pick(quick)
    seed = BENCHMARK_SEEDS[0] if seed is None else seed
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    print(f"geodl demo, part 1: room {seed} from {cfg.captures} light-field captures "
          f"({cfg.grid}x{cfg.grid} views of {cfg.size}x{cfg.size}) to a mesh; writing to {out}/")

    t0 = _step(f"1. Render {cfg.captures} light-field captures of room {seed}")
    folder, rc = write_room_captures(out / "captures", seed, cfg.captures, cfg.size, cfg.grid,
                                     overwrite=True)
    # read back as any user's captures are: pose, lens, rig and disparity range
    # from each parameters.cfg
    captures = load_captures(folder)
    for name, lf in zip(rc.names, captures):
        eye = ", ".join(f"{v:.2f}" for v in lf.camera.center.tolist())
        print(f"   {name}: eye ({eye}) m, baseline {1000 * lf.baseline:.1f} mm, "
              f"focus {lf.focus_distance:.2f} m")
    print(f"   wrote {folder}/ (HCI scene folders with poses, room_gt.ply, captures.json)")
    seconds["render"] = _done(t0)

    t0 = _step(f"2. Disparity of every capture ({DEFAULT_METHOD}), scored against the ground truth")
    estimates, confidences, scores = [], [], []
    for name, lf in zip(rc.names, captures):
        d, c = estimate_for_fusion(lf, DEFAULT_METHOD)
        s = evaluate(d, lf.ground_truth, border=min(15, lf.height // 8))
        estimates.append(d), confidences.append(c), scores.append(s)
        print(f"   {name}: BadPix0.07 {s['badpix0.07']:5.1f} %, MSE x100 {s['mse100']:.2f}")
    print(f"   wrote {_disparity_figure(captures, estimates, scores, out / 'disparity.png')}")
    seconds["disparity"] = _done(t0)

    t0 = _step("3. A novel view: capture 0's centre view from its 4 corner views")
    lf = captures[0]
    U, V = lf.grid_shape
    sources = [(0, 0), (0, V - 1), (U - 1, 0), (U - 1, V - 1)]
    centre = lf.center_index
    real = lf.view(*centre)
    novel = {}
    for method in ("learned", "warp"):
        views, _, _ = synthesize_views(lf, sources, [centre], method=method, progress=False)
        novel[method] = {"psnr": psnr(views[0], real), "ssim": ssim(views[0], real),
                         "image": views[0]}
        print(f"   {method:8s} PSNR {novel[method]['psnr']:.2f} dB, SSIM "
              f"{novel[method]['ssim']:.3f} against the real centre view")
    nv = novel["learned"]
    synthesised = nv["image"]
    print(f"   wrote {_novel_view_figure(lf, sources, synthesised, real, nv, out / 'novel_view.png')}")
    seconds["view synthesis"] = _done(t0)

    t0 = _step("4. Fuse the captures into one room mesh (disparity given the planar prior, "
               "TSDF on Open3D's VoxelBlockGrid)")
    # step 2's disparities, fused (reconstruct_room would estimate them again)
    recon = fuse_captures(captures, estimates, confidences, voxel_size=cfg.voxel, progress=False)
    ceiling = reconstruct_room(captures, method="ground_truth", voxel_size=cfg.voxel,
                               progress=False)
    mesh_path = save_mesh(recon.mesh, out / "room.ply", overwrite=True)
    recon.points.save(out / "points.ply")
    print(f"   wrote {mesh_path} ({recon.mesh.num_verts:,} vertices) and {out / 'points.ply'} "
          f"({len(recon.points):,} points)")
    seconds["fusion"] = _done(t0)

    t0 = _step("5. Evaluate against the room's ground truth (F-score at 5 cm) and report")
    gt_mesh = rc.room.to_mesh()
    cameras = [c.camera for c in captures]
    rows = []
    for label, mesh in ((f"estimated disparity ({DEFAULT_METHOD})", recon.mesh),
                        ("ground-truth depth (ceiling)", ceiling.mesh)):
        m = evaluate_reconstruction(mesh, gt_mesh, cameras)
        rows.append({"depth": label, "F-score": round(m.fscore, 3),
                     "precision": round(m.precision, 3), "recall": round(m.recall, 3),
                     "accuracy (cm)": round(100 * m.accuracy, 2),
                     "completeness (cm)": round(100 * m.completeness, 2)})
    for r in rows:
        print(f"   {r['depth']:36s} F {r['F-score']:.3f}  precision {r['precision']:.3f}  "
              f"recall {r['recall']:.3f}  accuracy {r['accuracy (cm)']:.1f} cm  "
              f"completeness {r['completeness (cm)']:.1f} cm")
    view = {"elev": 55, "azim": -60}
    png = snapshot([Layer(recon.mesh, name="reconstruction")], out / "room.png",
                   title=f"room {seed}: fused from {len(captures)} captures", width=700,
                   height=560, **view)
    png_gt = snapshot([Layer(ceiling.mesh, name="ground-truth depth, fused")],
                      out / "room_ground_truth_depth.png", title="the same fusion from "
                      "ground-truth depth", width=700, height=560, **view)
    print(f"   wrote {png}, {png_gt}")
    seconds["evaluation"] = time.perf_counter() - t0
    timing = [{"stage": k, "seconds": round(v, 1)} for k, v in seconds.items()]
    disparity_rows = [{"capture": n, "BadPix 0.07 (%)": round(s["badpix0.07"], 2),
                       "MSE x100": round(s["mse100"], 3)} for n, s in zip(rc.names, scores)]
    report = to_html(
        [Layer(recon.mesh, name="reconstruction (estimated disparity)"),
         Layer(ceiling.mesh, name="reconstruction (ground-truth depth)", visible=False),
         Layer(rc.room, name="ground truth"),
         Layer(recon.points, name="captured points", visible=False),
         *[Layer(c, name=f"{n} rig") for n, c in zip(rc.names, captures)]],
        out / "report.html", title=f"geodl demo: room {seed} from {len(captures)} light-field "
        "captures", elev=55,
        tables={"reconstruction vs ground truth (F-score at 5 cm)": rows,
                "disparity per capture": disparity_rows,
                "novel view (capture 0 centre from its corners)":
                    [{"method": m, "PSNR (dB)": round(r["psnr"], 2), "SSIM": round(r["ssim"], 3)}
                     for m, r in novel.items()],
                "time per stage": timing})
    print(f"   wrote {report} (open in a browser: drag to turn, legend toggles layers)")
    _done(t0)
    mean_badpix = sum(s["badpix0.07"] for s in scores) / len(scores)
    return [{"result": f"disparity, mean BadPix 0.07 over {len(scores)} captures",
             "value": f"{mean_badpix:.1f} %"},
            {"result": "novel view (centre from 4 corners, learned)",
             "value": f"PSNR {nv['psnr']:.2f} dB, SSIM {nv['ssim']:.3f} (warp "
                      f"{novel['warp']['psnr']:.2f} dB)"},
            *[{"result": f"mesh from {r['depth']}",
               "value": f"F-score {r['F-score']:.3f} (precision {r['precision']:.3f}, "
                        f"recall {r['recall']:.3f})"} for r in rows],
            {"result": "time per stage",
             "value": ", ".join(f"{t['stage']} {t['seconds']:.0f} s" for t in timing)}]
