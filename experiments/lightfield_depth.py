"""Disparity estimation on the benchmark rooms: every geodl method and the
open-source peers that install from the package registries, in one run.

For each room of ``geodl.datasets.BENCHMARK_SEEDS`` (rendered once with its
10x ground truth into ``datasets/cache/benchmark_rooms``, or ``--scenes``):
per method the benchmark metrics (``geodl.lightfield.benchmark.evaluate``:
MSE x100, BadPix 0.07/0.03/0.01, BadPix 0.07 on discontinuities at 10x,
bumpiness on planes) and the runtime. Every method searches the scene's
``disp_min``/``disp_max`` from ``parameters.cfg`` widened by 0.25 px, and
geodl's methods are asked for the planar prior (``planes=True``: rooms are
man-made scenes; ``--no-planes`` for the methods' own answers), and with it
``cost_volume`` reads the rooms' matching (``ROOM_OPTIONS``:
``geodl.lightfield.depth.cost_volume.ROOM_MATCHING``, for renders that alias)
with its Lucas-Kanade refinement (with the prior, 3 steps are better on
training rooms 100-106, 7.68 against 8.59 % BadPix 0.07;
experiments/README.md#lucas-kanade-refinement).

Peers (``--peers``), never dependencies of geodl, each in a virtual
environment of its own under ``datasets/cache/peers`` (built on first use):

* ``plenpy`` 0.9.2, ``LightField.get_disparity`` with ``structure_tensor``
  and ``brute_force_4d`` (``vmin``/``vmax`` = the search range; plenpy's
  default TV-L1 fusion). ``np.int`` is aliased first (plenpy still calls it).
* ``disneydisp`` 0.1.11 (Kim et al. 2013; one row of views: the centre row;
  float64 input; NumPy < 1.24 and scikit-image 0.19).

Each peer's sign and unit are calibrated on textured planes of known
disparity (+1 and -1 px) in the same run and printed; non-finite pixels count
as wrong (the metrics' rule).

    .venv/bin/python experiments/lightfield_depth.py [--peers plenpy_st plenpy_bf4d disney]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from geodl.datasets import BENCHMARK_SEEDS, cached_room_scenes, textured_plane
from geodl.lightfield import load_hci, write_hci_scene
from geodl.lightfield.benchmark import evaluate
from geodl.lightfield.depth import METHODS, estimate_disparity, scene_disparity_range
from geodl.lightfield.depth.cost_volume import ROOM_MATCHING

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / "datasets" / "cache"
PEER_ENVS = {
    "plenpy": ["plenpy==0.9.2"],
    "disney": ["numpy<1.24", "scikit-image==0.19.*", "disneydisp==0.1.11"],
}
PEERS = {  # name -> (environment, runner script, method argument)
    "plenpy_st": ("plenpy", "run_plenpy.py", "structure_tensor"),
    "plenpy_bf4d": ("plenpy", "run_plenpy.py", "brute_force_4d"),
    "disney": ("disney", "run_disney.py", "-"),
}
SHOWN = ("mse100", "badpix0.07", "badpix0.03", "badpix0.01", "badpix0.07_discontinuities",
         "bumpiness_planes", "runtime_s")


#: what the room benchmark asks of a method, with the planar prior (True) and
#: without: ``cost_volume`` reads the rooms' matching (``ROOM_MATCHING``), with its
#: Lucas-Kanade refinement where the prior follows
ROOM_OPTIONS: dict[bool, dict[str, dict]] = {
    True: {"cost_volume": {"config": ROOM_MATCHING}},
    False: {"cost_volume": {"config": replace(ROOM_MATCHING, iterations=0)}}}

def peer_python(env: str) -> Path:
    """The Python of a peer's own virtual environment, built on first use."""
    root = CACHE / "peers" / env
    python = root / "bin" / "python"
    if not python.exists():
        print(f"building the {env} environment in {root} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_ENVS[env]],
                       check=True)
    return python


def run_peer(peer: str, folder: Path, disp_range: tuple[float, float]) -> tuple[np.ndarray, float]:
    env, script, method = PEERS[peer]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "d.npy"
        done = subprocess.run([str(peer_python(env)), str(HERE / "peers" / script), str(folder),
                               method, str(disp_range[0]), str(disp_range[1]), str(out)],
                              check=True, capture_output=True, text=True)
        seconds = float(done.stdout.strip().splitlines()[-1])
        return np.load(out).astype(np.float64), seconds


def calibrate(peer: str, tmp: Path) -> tuple[float, float]:
    """(scale, offset) with HCI disparity = scale * peer + offset, from
    planes at -1 and +1 px (median over their interiors)."""
    medians = []
    for d in (-1.0, 1.0):
        folder = write_hci_scene(tmp / f"plane_{peer}_{d:+.0f}",
                                 textured_plane(d, size=64, grid=9, seed=4), scene="plane")
        est, _ = run_peer(peer, folder, (-3.0, 3.0))
        medians.append(float(np.median(est[12:-12, 12:-12])))
    scale = 2.0 / (medians[1] - medians[0])
    return scale, -scale * 0.5 * (medians[0] + medians[1])


def benchmark_scenes(folder: Path | None, cache: Path = CACHE / "benchmark_rooms") -> list[Path]:
    if folder is not None:
        scenes = sorted(p for p in folder.iterdir() if (p / "parameters.cfg").exists())
        if not scenes:
            raise SystemExit(f"{folder}: no scene folders")
        return scenes
    return cached_room_scenes(cache, BENCHMARK_SEEDS, highres=True)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", nargs="+", default=["cost_volume", "structure_tensor"],
                    help=f"geodl methods ({', '.join(sorted(METHODS))})")
    ap.add_argument("--peers", nargs="*", default=[], choices=sorted(PEERS))
    ap.add_argument("--scenes", type=Path, help="a folder of scene folders (default: the "
                    "benchmark rooms)")
    ap.add_argument("--limit", type=int, help="only the first N scenes")
    ap.add_argument("--cache", type=Path, default=CACHE / "benchmark_rooms",
                    help="where the rendered rooms are kept (default: datasets/cache/benchmark_rooms)")
    ap.add_argument("--planes", action=argparse.BooleanOptionalAction, default=True,
                    help="snap geodl's answers to the rooms' planes (default: on)")
    ap.add_argument("--options", type=json.loads, default={}, metavar="JSON",
                    help="options of estimate_disparity for every method, over the rooms' "
                         "own, e.g. '{\"checkpoint\": \"RUN\"}' with --methods cost_net")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    scenes = benchmark_scenes(args.scenes, args.cache)[:args.limit]
    calibration = {}
    with tempfile.TemporaryDirectory() as tmp:
        for peer in args.peers:
            calibration[peer] = calibrate(peer, Path(tmp))
            print(f"{peer}: HCI disparity = {calibration[peer][0]:.4f} x its output "
                  f"{calibration[peer][1]:+.4f} (planes at -1 and +1 px)", flush=True)
    results: dict[str, dict[str, dict[str, float]]] = {}
    maps: dict[str, dict[str, np.ndarray]] = {}
    for folder in scenes:
        lf = load_hci(folder, highres=True)
        disp_range = scene_disparity_range(lf)
        for method in args.methods + args.peers:
            if method in PEERS:
                raw, seconds = run_peer(method, folder, disp_range)
                scale, offset = calibration[method]
                est = scale * raw + offset
            else:
                t0 = time.perf_counter()
                options = {**ROOM_OPTIONS[args.planes].get(method, {}), **args.options}
                est = estimate_disparity(lf, method, planes=args.planes, **options)[0]
                est = est.double().numpy()
                seconds = time.perf_counter() - t0
            scores = evaluate(est, lf.ground_truth)
            scores["runtime_s"] = seconds
            scores["nonfinite_pct"] = 100.0 * float((~np.isfinite(est)).mean())
            results.setdefault(method, {})[folder.name] = scores
            if len(maps) < 2 or folder.name in maps:
                maps.setdefault(folder.name, {"gt": lf.disparity.numpy(),
                                              "centre": lf.center_view.permute(1, 2, 0).numpy()})
                maps[folder.name][method] = est
            print(f"{folder.name} {method:18s} " + " ".join(
                f"{k}={scores[k]:.3f}" for k in SHOWN if k in scores), flush=True)
        del lf
    def mean(values: list[float]) -> float:  # a metric a scene lacks (no such mask) is skipped
        finite = [v for v in values if not np.isnan(v)]
        return float(np.mean(finite)) if finite else float("nan")

    summary = {m: {k: mean([r.get(k, np.nan) for r in per.values()]) for k in SHOWN}
               for m, per in results.items()}
    table = format_tables(results, summary)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results").mkdir(exist_ok=True)
    (args.out / "results" / "lightfield_depth.json").write_text(json.dumps(
        {"per_scene": results, "mean": summary, "calibration": calibration,
         "options": args.options}, indent=2))
    figure(maps, args.out / "figures" / "lightfield_depth.png")
    return summary


def format_tables(results, summary) -> str:
    head = "| method | " + " | ".join(SHOWN) + " |\n|---" * 1 + "|---" * len(SHOWN) + "|"
    rows = [f"| {m} | " + " | ".join(f"{summary[m][k]:.3f}" for k in SHOWN) + " |"
            for m in summary]
    per = ["", "BadPix 0.07 per room:", "", "| method | " + " | ".join(
        next(iter(results.values())).keys()) + " |",
        "|---" * (1 + len(next(iter(results.values())))) + "|"]
    for m, r in results.items():
        per.append(f"| {m} | " + " | ".join(f"{s['badpix0.07']:.2f}" for s in r.values()) + " |")
    return "\n".join(["Mean over the rooms:", "", head, *rows, *per])


def figure(maps: dict, path: Path) -> None:
    from geodl.viz import pyplot, save_figure

    plt = pyplot()
    scenes = list(maps)
    methods = [k for k in maps[scenes[0]] if k not in ("gt", "centre")]
    fig, ax = plt.subplots(2 * len(scenes), 2 + len(methods),
                           figsize=(3 * (2 + len(methods)), 6 * len(scenes)))
    ax = np.atleast_2d(ax)
    for i, name in enumerate(scenes):
        m = maps[name]
        gt = m["gt"]
        lo, hi = np.nanmin(gt), np.nanmax(gt)
        ax[2 * i, 0].imshow(m["centre"])
        ax[2 * i, 0].set_title(name, fontsize=8)
        ax[2 * i, 1].imshow(gt, vmin=lo, vmax=hi)
        ax[2 * i, 1].set_title("ground truth", fontsize=8)
        for j, method in enumerate(methods):
            ax[2 * i, 2 + j].imshow(m[method], vmin=lo, vmax=hi)
            ax[2 * i, 2 + j].set_title(method, fontsize=8)
            err = np.abs(m[method] - gt)
            im = ax[2 * i + 1, 2 + j].imshow(np.where(np.isfinite(err), err, 1.0), vmin=0,
                                             vmax=0.3, cmap="magma")
            inner, has_gt = err[15:-15, 15:-15], np.isfinite(gt[15:-15, 15:-15])
            bad = 100 * np.mean(~(inner[has_gt] <= 0.07))  # non-finite estimates are bad
            ax[2 * i + 1, 2 + j].set_title(f"|error| (BadPix0.07 {bad:.1f} %)", fontsize=8)
        ax[2 * i + 1, 0].axis("off")
        ax[2 * i + 1, 1].axis("off")
        fig.colorbar(im, ax=ax[2 * i + 1, 1], fraction=0.5, label="|error| (px)")
    for a in ax.flat:
        a.set_xticks([]), a.set_yticks([])
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {save_figure(fig, path)}")


if __name__ == "__main__":
    main()
