"""Disparity on light fields made by others: every geodl method on the real
HCI-format scenes under ``--data``, beside the published per-scene figures.

A scene is any folder under ``--data`` (searched recursively) that
``geodl.lightfield.load_lightfield`` reads and that has ``gt_disp_lowres.pfm``
(``parameters.cfg`` optional, as public copies of benchmark scenes come:
without it the search range is estimated from the views). Per
scene and method: BadPix 0.07 / 0.03 / 0.01 and MSE x100 on the centre view
(``geodl.lightfield.benchmark.evaluate``: the toolkit's 15 px border), and
the runtime. Every method searches the scene's ``disp_min``/``disp_max``
(or the estimated range) widened by 0.25 px, with its defaults (one parameter set for every scene, the
benchmark's rule; no planar prior unless ``--planes``). Where the LFattNet
paper's Table 1 (Tsai et al., AAAI 2020) gives a scene's figures, SPO,
EPINet-fcn and LFattNet are printed beside ours (BadPix 0.07 and MSE x100).

The benchmark's evaluation scenes (its four *training* and four *stratified*
scenes) are reported here, never tuned on; the *additional* scenes (antinous)
are where settings may be chosen.

    .venv/bin/python experiments/lightfield_depth_real.py --data ../shared/data/hci \
        --lytro ../shared/data/lytro/2067 --lytro-reference path/to/epinet/2067.pfm

``--peers plenpy_st plenpy_bf4d`` adds plenpy's two methods, each in its own
environment, calibrated on planes of known disparity (as
``experiments/lightfield_depth.py`` runs them on the rooms).

``--lytro`` adds a real capture without ground truth (the EPINet authors'
decoded Lytro Illum capture 2067), read as published (``load_lightfield``, its
range estimated from the views), with a peer's map of it beside ours
(EPINet's, published in the authors' repository).
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

from geodl.lightfield import load_lightfield
from geodl.lightfield.benchmark import evaluate
from geodl.lightfield.depth import METHODS, estimate_disparity, scene_disparity_range
from geodl.lightfield.loader import holds_views

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from lightfield_depth import PEERS, calibrate, figure, run_peer  # noqa: E402  (same layout, same peers)

#: scene -> method -> (BadPix 0.07 %, MSE x100), from the LFattNet paper's Table 1;
#: only the figures we have checked against the paper (None: not quoted here)
PUBLISHED: dict[str, dict[str, tuple[float, float | None]]] = {
    "cotton": {"SPO": (2.594, None), "EPINet-fcn": (0.508, None), "LFattNet": (0.271, None)},
    "backgammon": {"SPO": (3.781, None), "EPINet-fcn": (3.580, None), "LFattNet": (3.126, None)},
}
SHOWN = ("badpix0.07", "badpix0.03", "badpix0.01", "mse100", "runtime_s")


#: the benchmark's evaluation scenes (its *training* and *stratified* sets): reported, never tuned on
EVALUATION_SCENES = {"boxes", "cotton", "dino", "sideboard",
                     "backgammon", "dots", "pyramids", "stripes"}


def real_scenes(root: Path) -> list[Path]:
    """Folders under ``root`` (itself included) with gt_disp_lowres.pfm and views."""
    found = sorted({p.parent for p in root.rglob("gt_disp_lowres.pfm")
                    if holds_views(p.parent)})
    if not found:
        raise SystemExit(f"--data {root}: no scene folder with views and "
                         "gt_disp_lowres.pfm under it")
    return found


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a folder holding HCI-format "
                    "scene folders with ground truth (searched recursively)")
    ap.add_argument("--methods", nargs="+", default=sorted(METHODS),
                    choices=sorted(METHODS), help="geodl methods (default: all)")
    ap.add_argument("--planes", action="store_true", help="ask for the planar prior")
    ap.add_argument("--peers", nargs="*", default=[], choices=sorted(PEERS),
                    help="open-source peers, each in its own environment, sign and unit "
                    "calibrated on planes (as experiments/lightfield_depth.py runs them)")
    ap.add_argument("--options", type=json.loads, default={}, metavar="JSON",
                    help='options of estimate_disparity for every method, e.g. '
                    '\'{"iterations": 0}\' with --methods cost_volume')
    ap.add_argument("--lytro", type=Path, help="a decoded Lytro capture without ground truth "
                    "(e.g. the EPINet authors' 2067/ folder of 2067_RR_CC.png), read by "
                    "load_lightfield with its range estimated from the views")
    ap.add_argument("--lytro-reference", type=Path, metavar="PFM", help="a peer's disparity "
                    "map of that capture (EPINet's 2067.pfm: its network crops 11 px per "
                    "side), compared with ours over the pixels both cover")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    if args.lytro_reference is not None and args.lytro is None:
        ap.error("--lytro-reference needs --lytro")
    torch.manual_seed(0)
    results: dict[str, dict[str, dict[str, float]]] = {}
    maps: dict[str, dict[str, np.ndarray]] = {}
    calibration = {}
    if args.peers:
        with tempfile.TemporaryDirectory() as tmp:
            calibration = {peer: calibrate(peer, Path(tmp)) for peer in args.peers}
    for folder in real_scenes(args.data):
        lf = load_lightfield(folder)
        name = folder.name
        maps[name] = {"gt": lf.disparity.numpy(), "centre": lf.center_view.permute(1, 2, 0).numpy()}
        for method in args.methods + args.peers:
            t0 = time.perf_counter()
            if method in PEERS:
                raw, seconds = run_peer(method, folder, scene_disparity_range(lf))
                scale, offset = calibration[method]
                est = scale * raw + offset
            else:
                est = estimate_disparity(lf, method, planes=args.planes, **args.options)[0]
                est = est.double().numpy()
                seconds = time.perf_counter() - t0
            scores = evaluate(est, lf.ground_truth)
            scores["runtime_s"] = seconds
            results.setdefault(name, {})[method] = {k: float(scores[k]) for k in SHOWN}
            maps[name][method] = est
            print(f"{name} {method:18s} " + " ".join(f"{k}={scores[k]:.3f}" for k in SHOWN),
                  flush=True)
    table = format_table(results)
    print(table)
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    (args.out / "results" / "lightfield_depth_real_scenes.json").write_text(json.dumps(
        {"per_scene": results, "published_badpix0.07": {
            s: {m: v[0] for m, v in per.items()} for s, per in PUBLISHED.items()},
         "planes": args.planes, "options": args.options}, indent=2))
    figure(maps, args.out / "figures" / "lightfield_depth_real_scenes.png")
    if args.lytro is not None:
        results["lytro"] = lytro_comparison(args.lytro, args.lytro_reference, args.methods,
                                            args.planes, args.options, args.out)
    return results


def lytro_comparison(folder: Path, reference: Path | None, methods: list[str], planes: bool,
                     options: dict, out: Path) -> dict:
    """Each method's disparity of a capture without ground truth, beside a
    peer's map of it: per method the runtime and, with ``reference``, the
    median |ours - peer| and the share of pixels within 0.07 / 0.2 px over
    the centred crop both maps cover; a figure of the maps and differences."""
    from geodl.lightfield.pfm import read_pfm
    from geodl.viz import pyplot, save_figure

    lf = load_lightfield(folder)
    peer = None if reference is None else np.asarray(read_pfm(reference), dtype=np.float64)
    H, W = lf.height, lf.width
    if peer is not None and (peer.shape[0] > H or peer.shape[1] > W):
        raise SystemExit(f"--lytro-reference {reference}: {peer.shape} is larger than the "
                         f"views ({H}, {W})")
    top = 0 if peer is None else (H - peer.shape[0]) // 2
    left = 0 if peer is None else (W - peer.shape[1]) // 2
    crop = (slice(top, H - top if peer is not None else H),
            slice(left, W - left if peer is not None else W))
    rows, shown = {}, {}
    for method in methods:
        t0 = time.perf_counter()
        d = estimate_disparity(lf, method, planes=planes, **options)[0].double().numpy()
        row = {"runtime_s": time.perf_counter() - t0}
        ours = d[crop]
        if peer is not None:
            diff = np.abs(ours[:peer.shape[0], :peer.shape[1]] - peer)
            row.update(median_abs_diff=float(np.nanmedian(diff)),
                       within_0_07=float(100 * np.mean(diff <= 0.07)),
                       within_0_2=float(100 * np.mean(diff <= 0.2)))
        rows[method], shown[method] = row, ours
        print(f"{folder.name} {method:18s} " + " ".join(f"{k}={v:.3f}" for k, v in row.items()),
              flush=True)
    lo, hi = lf.meta.get("estimated_disp_range", (float(np.nanmin(d)), float(np.nanmax(d))))
    panels = [("centre view", lf.center_view.permute(1, 2, 0).numpy()[crop], None)]
    if peer is not None:
        panels.append(("peer (reference)", peer, None))
    panels += [(m, shown[m], peer) for m in methods]
    fig, ax = pyplot().subplots(2, len(panels), figsize=(3.2 * len(panels), 5), squeeze=False)
    for j, (title, img, ref) in enumerate(panels):
        ax[0, j].imshow(img, **({} if img.ndim == 3 else {"vmin": lo, "vmax": hi}))
        ax[0, j].set_title(title, fontsize=8)
        if ref is not None:
            diff = np.abs(img[:ref.shape[0], :ref.shape[1]] - ref)
            ax[1, j].imshow(diff, vmin=0, vmax=0.3, cmap="magma")
            ax[1, j].set_title(f"|{title} - peer| (0 .. 0.3 px)", fontsize=8)
    for a in ax.ravel():
        a.axis("off")
    save_figure(fig, out / "figures" / "lightfield_depth_lytro.png")
    (out / "results" / "lightfield_depth_lytro.json").write_text(json.dumps(
        {"capture": folder.name, "reference": None if reference is None else reference.name,
         "estimated_disp_range": [lo, hi], "planes": planes, "options": options,
         "per_method": rows}, indent=2))
    return rows


def format_table(results: dict) -> str:
    rows = ["| scene | method | BadPix 0.07 | 0.03 | 0.01 | MSE x100 | runtime s |",
            "|---|---|---|---|---|---|---|"]
    for scene, per in results.items():
        label = f"{scene} (evaluation)" if scene in EVALUATION_SCENES else scene
        for method, s in per.items():
            rows.append(f"| {label} | {method} | " + " | ".join(
                f"{s[k]:.2f}" for k in SHOWN) + " |")
        for peer, (bp, mse) in PUBLISHED.get(scene, {}).items():
            rows.append(f"| {label} | {peer} (published) | {bp:.3f} | | | "
                        f"{'' if mse is None else f'{mse:.3f}'} | |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
