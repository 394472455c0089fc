"""Benchmark submissions: write, read and score them against scene folders.

A submission is the HCI benchmark's layout: ``disp_maps/<scene>.pfm`` (the
centre view's float32 disparity) and ``runtimes/<scene>.txt`` (seconds). Each
scene folder holds ``gt_disp_lowres.pfm`` and, where present, the evaluation
masks and the 10x ground truth; every scene gets
:func:`geodl.lightfield.benchmark.metrics.evaluate` plus its runtime.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from geodl.io.atomic import atomic_path, write_bytes_atomic
from geodl.lightfield.benchmark.metrics import evaluate
from geodl.lightfield.hci_io import load_ground_truth
from geodl.lightfield.pfm import read_pfm, write_pfm


def check_scene_name(scene: str) -> str:
    """A scene name usable as one path component (not ``.``, ``..``, no separators)."""
    if not isinstance(scene, str) or scene in ("", ".", "..") or \
            any(ch in scene for ch in "/\\\0"):
        raise ValueError(f"scene: expected a plain folder name, got {scene!r}")
    return scene


def write_submission(folder: str | Path, scene: str, disparity, runtime_s: float,
                     overwrite: bool = False) -> Path:
    """Add one scene's result: ``disp_maps/<scene>.pfm`` and
    ``runtimes/<scene>.txt``; an existing result of that scene is refused
    unless ``overwrite``. Non-finite disparities are written as they are (the
    metrics count them as wrong). Returns the PFM's path."""
    d = np.asarray(disparity.detach().cpu() if isinstance(disparity, torch.Tensor) else disparity,
                   dtype=np.float32)
    if d.ndim != 2:
        raise ValueError(f"disparity: expected an (H, W) map, got shape {d.shape}")
    if not (isinstance(runtime_s, (int, float)) and runtime_s >= 0 and math.isfinite(runtime_s)):
        raise ValueError(f"runtime_s: expected a finite non-negative number, got {runtime_s!r}")
    check_scene_name(scene)
    folder = Path(folder)
    pfm, txt = folder / "disp_maps" / f"{scene}.pfm", folder / "runtimes" / f"{scene}.txt"
    if not overwrite and (pfm.exists() or txt.exists()):
        raise FileExistsError(f"{pfm}: a result for scene {scene!r} exists "
                              "(overwrite=True / --force replaces it)")
    with atomic_path(pfm) as tmp:
        write_pfm(tmp, d)
    write_bytes_atomic(txt, f"{runtime_s:.6f}\n".encode())
    return pfm


def read_submission(folder: str | Path) -> dict[str, tuple[np.ndarray, float]]:
    """{scene: (disparity (H, W) float32, runtime in s or NaN)} of a submission."""
    folder = Path(folder)
    maps = sorted((folder / "disp_maps").glob("*.pfm"))
    if not maps:
        raise FileNotFoundError(f"{folder / 'disp_maps'}: no <scene>.pfm disparity maps")
    out = {}
    for path in maps:
        name = check_scene_name(path.stem)
        runtime = folder / "runtimes" / f"{name}.txt"
        try:
            seconds = float(runtime.read_text()) if runtime.exists() else float("nan")
        except ValueError:
            raise ValueError(f"{runtime}: expected a number of seconds") from None
        out[name] = (read_pfm(path), seconds)
    return out


def evaluate_submission(submission: str | Path, scenes: str | Path, highres: bool = False
                        ) -> dict[str, dict[str, float]]:
    """{scene: {metric: value}} for every ``disp_maps/<scene>.pfm`` in
    ``submission``; each needs ``scenes/<scene>/gt_disp_lowres.pfm``.
    ``highres`` adds BadPix on discontinuities from the 10x ground truth."""
    scenes = Path(scenes)
    results = {}
    for name, (algo, seconds) in read_submission(submission).items():
        folder = scenes / name
        if not (folder / "gt_disp_lowres.pfm").exists():
            raise FileNotFoundError(f"{folder / 'gt_disp_lowres.pfm'}: no ground truth for "
                                    f"submitted scene {name!r}")
        gt = load_ground_truth(folder, highres=highres)  # the views are not needed
        if algo.shape != gt.shape:
            raise ValueError(f"{name}: disparity of shape {algo.shape}, the ground truth is "
                             f"{gt.shape}")
        scores = evaluate(algo, gt)
        scores["runtime_s"] = seconds
        results[name] = scores
    return results


def format_table(results: dict[str, dict[str, float]]) -> str:
    """A Markdown table, one row per scene and a mean row."""
    metrics = sorted({m for r in results.values() for m in r})
    lines = ["| scene | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for scene, r in results.items():
        lines.append(f"| {scene} | " + " | ".join(f"{r.get(m, np.nan):.3f}" for m in metrics)
                     + " |")
    means = [np.nanmean([r.get(m, np.nan) for r in results.values()]) for m in metrics]
    lines.append("| mean | " + " | ".join(f"{v:.3f}" for v in means) + " |")
    return "\n".join(lines)
