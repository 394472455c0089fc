"""Novel-view synthesis on the benchmark rooms: from the 4 corner views, the
77 other views of the 9 x 9 grid, and the 45 other views of the inner 7 x 7
grid from its own 4 corners (the setting of the published 2x2 -> 7x7
figures).

Methods (``geodl.lightfield.synthesis.synthesize_views``):

* ``nearest``: a copy of the nearest input view;
* ``warp``: disparity by a plane sweep over the 4 inputs at the grid centre
  (the scene's ``disp_min``/``disp_max`` + 0.25 px), carried to each
  target by z-buffered forward warping, then the inputs backward-warped
  and blended;
* ``warp_gt``: the same warping with the ground-truth centre disparity
  (``gt_disp_lowres.pfm``) carried to each target the same way (the
  centre view exact; disocclusions filled with the background): the
  ceiling of warping;
* ``mpi``: a 32-plane multiplane image at the centre from the estimated
  disparity, rendered at each target;
* ``learned``: when a method of that name is registered.

Per method: mean PSNR / SSIM over the synthesised views (every pixel, no
border crop; SSIM with the 11 x 11 Gaussian window) and runtime per view;
a heat map of PSNR per view position (mean over rooms); a figure with the
inputs, a synthesised centre view, its error map and an EPI of the
synthesised light field beside the real one.

    nice -n 5 .venv/bin/python experiments/view_synthesis.py [--scenes DIR] [--rooms N]
    .venv/bin/python experiments/view_synthesis.py --quick   # a small room, seconds
    .venv/bin/python experiments/view_synthesis.py --methods learned --checkpoint OLD.pt --out DIR
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lightfield_depth import benchmark_scenes  # noqa: E402  (the same cached rooms)

from geodl.datasets import render_hci_scene, training_seeds  # noqa: E402
from geodl.lightfield import epi, load_hci, write_hci_scene  # noqa: E402
from geodl.lightfield.synthesis import METHODS, psnr, ssim, synthesize_views  # noqa: E402
from geodl.lightfield.synthesis.propagate import propagate_disparity  # noqa: E402
from geodl.structures import LightField  # noqa: E402

SETTINGS = ("9x9", "7x7")


def inner_grid(lf: LightField, n: int) -> LightField:
    """The central n x n views (same centre view, camera, baseline and focus)."""
    U, V = lf.grid_shape
    a, b = (U - n) // 2, (V - n) // 2
    return LightField(lf.views[a:a + n, b:b + n], lf.camera, lf.baseline, lf.focus_distance,
                      ground_truth=lf.ground_truth, meta=lf.meta)


def gt_disparity(lf: LightField):
    """(u, v) -> the ground-truth centre disparity carried to (u, v)."""
    centre = lf.disparity.float()
    centre = torch.where(torch.isfinite(centre), centre, torch.nan_to_num(centre, nan=0.0).min())
    r0, c0 = lf.center_index

    def at(u: float, v: float) -> torch.Tensor:
        if (u, v) == (r0, c0):
            return centre
        return propagate_disparity(centre, (r0, c0), (u, v))
    return at


def run_method(lf: LightField, method: str, options: dict) -> dict:
    name = "warp" if method == "warp_gt" else method
    disparity = gt_disparity(lf) if method == "warp_gt" else None
    t0 = time.perf_counter()
    images, valid, targets = synthesize_views(lf, "corners", method=name, disparity=disparity,
                                              progress=False, **options.get(name, {}))
    seconds = time.perf_counter() - t0
    per_view = {}
    for img, (u, v) in zip(images, targets.tolist()):
        real = lf.view(int(u), int(v))
        per_view[f"{int(u)},{int(v)}"] = (psnr(img, real), ssim(img, real))
    return {"per_view": per_view, "seconds_per_view": seconds / len(targets),
            "psnr": float(np.mean([p for p, _ in per_view.values()])),
            "ssim": float(np.mean([s for _, s in per_view.values()])),
            "images": images, "targets": targets}


def heat_maps(results: dict, grids: dict, path: Path) -> None:
    from geodl.viz import pyplot
    plt = pyplot()
    methods = list(next(iter(results.values())).keys())
    fig, axes = plt.subplots(len(grids), len(methods), figsize=(2.6 * len(methods), 2.6 * len(grids)),
                             squeeze=False)
    for i, (setting, n) in enumerate(grids.items()):
        for j, m in enumerate(methods):
            grid = np.full((n, n), np.nan)
            for key in results[setting][m]["mean_per_view"]:
                u, v = (int(x) for x in key.split(","))
                grid[u, v] = results[setting][m]["mean_per_view"][key]
            ax = axes[i, j]
            im = ax.imshow(grid, cmap="magma", vmin=np.nanmin(grid), vmax=np.nanmax(grid))
            ax.set_title(f"{setting} {m}\n{np.nanmean(grid):.2f} dB", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("PSNR (dB) per view position; inputs (corners) blank", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def example_figure(lf: LightField, run: dict, method: str, path: Path) -> None:
    """Inputs, the synthesised centre view, its error, and EPIs (real / synthesised)."""
    from geodl.viz import pyplot
    plt = pyplot()
    U, V = lf.grid_shape
    synth = lf.views.clone()
    for img, (u, v) in zip(run["images"], run["targets"].tolist()):
        synth[int(u), int(v)] = img.clamp(0, 1)
    fake = LightField(synth, lf.camera, lf.baseline, lf.focus_distance)
    r0, c0 = lf.center_index
    centre = synth[r0, c0]
    err = (centre - lf.views[r0, c0]).abs().mean(0)
    row = lf.height // 2
    epi_real, epi_fake = epi(lf, "horizontal", row), epi(fake, "horizontal", row)
    fig, axes = plt.subplots(2, 4, figsize=(14, 7))
    for ax, (r, c) in zip(axes[0], [(0, 0), (0, V - 1), (U - 1, 0), (U - 1, V - 1)]):
        ax.imshow(lf.views[r, c].permute(1, 2, 0).numpy())
        ax.set_title(f"input ({r}, {c})")
    axes[1, 0].imshow(centre.permute(1, 2, 0).numpy())
    axes[1, 0].set_title(f"{method}: centre ({r0}, {c0}), {psnr(centre, lf.views[r0, c0]):.2f} dB")
    im = axes[1, 1].imshow(err.numpy(), cmap="inferno", vmin=0, vmax=0.2)
    axes[1, 1].set_title("|error| (mean over RGB)")
    fig.colorbar(im, ax=axes[1, 1], fraction=0.046)
    for ax, e, name in ((axes[1, 2], epi_real, "real"), (axes[1, 3], epi_fake, "synthesised")):
        ax.imshow(e.permute(0, 2, 1).clamp(0, 1).numpy(), aspect="auto", interpolation="nearest")
        ax.set_title(f"EPI (row {row}, centre views): {name}")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def quick_scene(tmp: Path) -> list[Path]:
    """A small training room (64 px, 5 x 5) written as a scene folder."""
    lf = render_hci_scene(training_seeds(1, offset=21)[0], size=64, grid=5, gt_factor=1,
                          progress=False)
    return [write_hci_scene(tmp / "quick_room", lf, scene="quick_room")]


def format_table(results: dict) -> str:
    """The mean table, then PSNR per room (one table per setting)."""
    lines = ["| setting | method | PSNR (dB) | SSIM | s per view |", "|---|---|---|---|---|"]
    for setting, per in results.items():
        for m, r in per.items():
            lines.append(f"| {setting} | {m} | {r['psnr']:.2f} | {r['ssim']:.4f} | "
                         f"{r['seconds_per_view']:.2f} |")
    for setting, per in results.items():
        rooms = list(next(iter(per.values()))["rooms"])
        lines += ["", f"PSNR (dB) per room, {setting}:", "",
                  "| method | " + " | ".join(r.replace("geodl_room_", "") for r in rooms) + " |",
                  "|---|" + "---|" * len(rooms)]
        for m, r in per.items():
            lines.append(f"| {m} | " + " | ".join(
                f"{r['rooms'][room]['psnr']:.2f}" if room in r["rooms"] else "-" for room in rooms)
                + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenes", type=Path, help="folder of scene folders (default: the cached "
                    "benchmark rooms, rendered on first use)")
    ap.add_argument("--rooms", type=int, default=0, help="only the first N rooms (0: all)")
    default = ["nearest", "warp", "warp_gt", "mpi"] + (["learned"] if "learned" in METHODS else [])
    ap.add_argument("--methods", nargs="+", default=default)
    ap.add_argument("--quick", action="store_true", help="one small training room (a test)")
    ap.add_argument("--out", type=Path, default=HERE, help="writes results/ and figures/ here")
    ap.add_argument("--checkpoint", type=Path, help="weights of `learned` other than the "
                    "shipped ones (a .pt beside its .json, or a run folder)")
    ap.add_argument("--resume", action="store_true", help="keep the rooms and methods already "
                    "in results/view_synthesis.json and run only the missing ones")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    tmp = tempfile.TemporaryDirectory()
    if args.quick:
        scenes, grids = quick_scene(Path(tmp.name)), {"5x5": 5, "3x3": 3}
        options = {"mpi": {"planes": 8}}
    else:
        scenes, grids = benchmark_scenes(args.scenes), {"9x9": 9, "7x7": 7}
        options = {}
    if args.checkpoint is not None:
        options["learned"] = {"checkpoint": args.checkpoint}
    if args.rooms:
        scenes = scenes[:args.rooms]
    results: dict = {s: {m: {"rooms": {}} for m in args.methods} for s in grids}
    previous = args.out / "results" / "view_synthesis.json"
    if args.resume and previous.exists():
        old = json.loads(previous.read_text())["results"]
        for setting in grids:
            for m in args.methods:
                results[setting][m]["rooms"].update(old.get(setting, {}).get(m, {}).get("rooms", {}))
    example = None  # (light field, run) of the figure's method on the first room
    shown = "learned" if "learned" in args.methods else "warp"
    done: list[Path] = []
    for folder in scenes:
        lf_full = load_hci(folder)
        for setting, n in grids.items():
            lf = lf_full if n == lf_full.grid_shape[0] else inner_grid(lf_full, n)
            for m in args.methods:
                if folder.name in results[setting][m]["rooms"] and not (
                        example is None and m == shown and setting == next(iter(grids))):
                    continue  # kept from the previous run
                run = run_method(lf, m, options)
                print(f"{folder.name} {setting} {m}: PSNR {run['psnr']:.2f} dB, SSIM "
                      f"{run['ssim']:.4f}, {run['seconds_per_view']:.2f} s per view", flush=True)
                if example is None and m == shown and setting == next(iter(grids)):
                    example = (lf, run)
                results[setting][m]["rooms"][folder.name] = {
                    k: run[k] for k in ("per_view", "psnr", "ssim", "seconds_per_view")}
        done.append(folder)
        table = save(results, grids, done, example, shown, args.out)  # after every room: a long run
    print(table)                                                # can stop early and keep them
    tmp.cleanup()
    return {"scenes": [p.name for p in done], "results": results}


def save(results: dict, grids: dict, done: list[Path], example, shown: str, out: Path) -> str:
    """Means over the rooms so far; JSON, table, heat maps and the example figure."""
    for setting in grids:
        for r in results[setting].values():
            rooms = list(r["rooms"].values())
            r["psnr"] = float(np.mean([x["psnr"] for x in rooms]))
            r["ssim"] = float(np.mean([x["ssim"] for x in rooms]))
            r["seconds_per_view"] = float(np.mean([x["seconds_per_view"] for x in rooms]))
            keys = rooms[0]["per_view"].keys()
            r["mean_per_view"] = {k: float(np.mean([x["per_view"][k][0] for x in rooms])) for k in keys}
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    summary = {"scenes": [p.name for p in done], "results": results}
    (out / "results" / "view_synthesis.json").write_text(json.dumps(summary, indent=1))
    table = format_table(results)
    (out / "results" / "view_synthesis.md").write_text(
        f"rooms: {', '.join(p.name for p in done)}\n\n{table}\n")
    heat_maps(results, grids, out / "figures" / "view_synthesis_psnr_per_view.png")
    if example is not None:
        example_figure(*example, shown, out / "figures" / "view_synthesis_example.png")
    return table


if __name__ == "__main__":
    main()
