"""Score a benchmark submission folder against scene folders with ground truth.

A submission is the layout ``write_submission`` writes (``disp_maps/<scene>.pfm``,
``runtimes/<scene>.txt``); each scene folder holds ``gt_disp_lowres.pfm`` and,
where present, the evaluation masks and the 10x ground truth. Every scene gets
``geodl.lightfield.metrics.evaluate`` plus its runtime.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from geodl.lightfield.hci_io import load_ground_truth
from geodl.lightfield.metrics import evaluate
from geodl.lightfield.pfm import read_pfm


def evaluate_submission(submission: str | Path, scenes: str | Path, highres: bool = False
                        ) -> dict[str, dict[str, float]]:
    """{scene: {metric: value}} for every ``disp_maps/<scene>.pfm`` in
    ``submission`` whose scene folder ``scenes/<scene>`` exists; ``highres``
    adds BadPix on discontinuities from the 10x ground truth."""
    submission, scenes = Path(submission), Path(scenes)
    maps = sorted((submission / "disp_maps").glob("*.pfm"))
    if not maps:
        raise FileNotFoundError(f"{submission / 'disp_maps'}: no <scene>.pfm disparity maps")
    results = {}
    for path in maps:
        name = path.stem
        folder = scenes / name
        if not (folder / "gt_disp_lowres.pfm").exists():
            raise FileNotFoundError(f"{folder / 'gt_disp_lowres.pfm'}: no ground truth for "
                                    f"submitted scene {name!r}")
        gt = load_ground_truth(folder, highres=highres)  # the views are not needed
        algo = read_pfm(path)
        if algo.shape != tuple(gt["disparity"].shape):
            raise ValueError(f"{path}: shape {algo.shape}, expected "
                             f"{tuple(gt['disparity'].shape)}")
        scores = evaluate(algo, gt["disparity"].numpy(), gt["masks"], highres=gt.get("highres"))
        runtime = submission / "runtimes" / f"{name}.txt"
        scores["runtime_s"] = float(runtime.read_text()) if runtime.exists() else float("nan")
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
