"""Contact sheet of light-field scenes: centre view above ground-truth disparity."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from geodl.structures import LightField
from geodl.viz.figure import pyplot, save_figure


def save_contact_sheet(light_fields: Sequence[LightField], path: str | Path,
                       columns: int = 4) -> Path:
    """A PNG grid: for each scene its centre view and, below it, its ground-truth
    disparity (shared colour scale, colour bar in px); titled by ``meta["scene"]``."""
    if not light_fields:
        raise ValueError("light_fields: expected at least one scene")
    plt = pyplot()
    n = len(light_fields)
    cols = min(columns, n)
    rows = (n + cols - 1) // cols
    disp = [lf.disparity for lf in light_fields if lf.disparity is not None]
    finite = torch.cat([d[torch.isfinite(d)].flatten() for d in disp]) if disp else None
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite is not None else (0, 1)
    fig, axes = plt.subplots(2 * rows, cols, figsize=(2.6 * cols, 5.0 * rows), squeeze=False)
    image = None
    for k in range(rows * cols):
        top, bottom = axes[2 * (k // cols), k % cols], axes[2 * (k // cols) + 1, k % cols]
        top.axis("off")
        bottom.axis("off")
        if k >= n:
            continue
        lf = light_fields[k]
        top.imshow(lf.center_view.permute(1, 2, 0).clamp(0, 1).numpy())
        top.set_title(str(lf.meta.get("scene", k)), fontsize=8)
        if lf.disparity is not None:
            image = bottom.imshow(lf.disparity.numpy(), cmap="viridis", vmin=vmin, vmax=vmax)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.5, label="disparity (px)")
    return save_figure(fig, path)
