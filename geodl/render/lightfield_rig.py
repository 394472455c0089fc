r"""Render a ``LightField`` with the HCI camera model.

A U x V grid of cameras with parallel optical axes, spaced by the baseline
:math:`b` along the centre camera's x (columns) and y (rows) axes, each sensor
shifted so that points at the focus distance :math:`F` have zero disparity
(``LightField.camera_at``). The centre view's ground truth depth :math:`Z`
gives the disparity :math:`d = b f_{px}(1/Z - 1/F)`.
"""
from __future__ import annotations

import os
from collections import deque
from contextlib import nullcontext
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import torch
from tqdm import tqdm

from geodl.render.raycast import Renderer
from geodl.render.scene import Scene
from geodl.structures import LightField, PinholeCamera


def rig_for_depth_range(z_near: float, z_far: float, focal_px: float,
                        max_disparity: float = 3.0) -> tuple[float, float]:
    """(baseline, focus distance) so that disparities span
    [-max_disparity, +max_disparity] over [z_near, z_far]."""
    if not 0 < z_near < z_far:
        raise ValueError(f"z_near, z_far: expected 0 < z_near < z_far, got {z_near}, {z_far}")
    inv_f = 0.5 * (1 / z_near + 1 / z_far)
    baseline = max_disparity / (focal_px * (1 / z_near - inv_f))
    return baseline, 1 / inv_f


def _ordered_map(pool: ThreadPoolExecutor, fn: Callable, items: list, window: int) -> Iterator:
    """``fn`` over ``items`` in order, at most ``window`` running or finished
    ahead of the consumer (``Executor.map`` would submit all at once and hold
    every finished view in memory)."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def render_lightfield(scene: Scene | Renderer, camera: PinholeCamera, baseline: float,
                      focus_distance: float, grid: tuple[int, int] = (9, 9),
                      supersample: int = 1, progress: bool | None = None,
                      workers: int | None = None) -> LightField:
    """Render every view; ground-truth depth and disparity of the centre view
    go into ``LightField.depth`` / ``.disparity``, object ids into ``meta``.

    ``workers`` views are rendered at once (default: up to 4, one per core):
    Open3D casts without holding the GIL, so one view's NumPy shading overlaps
    another's casting; the result does not depend on it (tested)."""
    renderer = scene if isinstance(scene, Renderer) else Renderer(scene)
    U, V = grid
    dummy = LightField(torch.zeros(U, V, 1, camera.height, camera.width), camera, baseline,
                       focus_distance)
    views = torch.zeros(U, V, 3, camera.height, camera.width)
    centre = None
    jobs = [(r, c) for r in range(U) for c in range(V)]
    workers = workers or min(4, os.cpu_count() or 1)

    def render(rc: tuple[int, int]):
        return renderer.render(dummy.camera_at(*rc), supersample)

    # one worker: render in this thread (no pool), e.g. for profiling
    with ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        outs = _ordered_map(pool, render, jobs, workers) if pool else map(render, jobs)
        for (r, c), out in tqdm(zip(jobs, outs), total=len(jobs), desc="rendering views",
                                disable=None if progress is None else not progress):
            views[r, c] = out.color
            if (r, c) == dummy.center_index:
                centre = out
    depth = centre.depth
    lf = LightField(views, camera, baseline, focus_distance,
                    depth=torch.where(torch.isfinite(depth), depth, torch.nan),
                    meta={"object_id": centre.object_id, "normal": centre.normal})
    lf.disparity = lf.depth_to_disparity(depth.clamp_min(1e-6)).where(torch.isfinite(depth),
                                                                        torch.tensor(torch.nan))
    return lf
