r"""Render a ``LightField`` with the HCI camera model.

A :class:`~geodl.structures.LightFieldRig`: a U x V grid of cameras with
parallel optical axes, spaced by the baseline :math:`b` along the centre
camera's x (columns) and y (rows) axes, each sensor shifted so that points at
the focus distance :math:`F` have zero disparity. The centre view's depth
:math:`Z` gives the disparity :math:`d = b f_{px}(1/Z - 1/F)`.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Callable, Iterator

import torch
from tqdm import tqdm

from geodl.render.raycast import Renderer
from geodl.render.scene import Scene
from geodl.structures import GroundTruth, LightField, LightFieldRig


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


def render_lightfield(scene: Scene | Renderer, rig: LightFieldRig, supersample: int = 1,
                      progress: bool | None = None, workers: int | None = None,
                      view_depth: bool = False) -> LightField:
    """Render every view of ``rig``.

    The result's ground truth holds the centre view's depth (NaN where
    nothing is hit) and disparity, and with ``view_depth`` every view's depth
    (U, V, H, W); ``meta`` holds the centre view's "object_id" (H, W) and
    world-frame "normal" (3, H, W).

    ``workers`` views are rendered at once (default: up to 4, one per core):
    Open3D casts without holding the GIL, so one view's NumPy shading overlaps
    another's casting; the result does not depend on it (tested)."""
    if not isinstance(rig, LightFieldRig):
        raise TypeError(f"rig: expected a LightFieldRig, got {type(rig).__name__}")
    renderer = scene if isinstance(scene, Renderer) else Renderer(scene)
    (U, V), cam = rig.grid, rig.camera
    views = torch.zeros(U, V, 3, cam.height, cam.width)
    depths = torch.zeros(U, V, cam.height, cam.width) if view_depth else None
    centre = None
    jobs = [(r, c) for r in range(U) for c in range(V)]
    workers = workers or min(4, os.cpu_count() or 1)

    def render(rc: tuple[int, int]):
        return renderer.render(rig.camera_at(*rc), supersample)

    # one worker: render in this thread (no pool), e.g. for profiling
    with ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        outs = _ordered_map(pool, render, jobs, workers) if pool else map(render, jobs)
        for (r, c), out in tqdm(zip(jobs, outs), total=len(jobs), desc="rendering views",
                                disable=None if progress is None else not progress):
            views[r, c] = out.color
            if depths is not None:
                depths[r, c] = torch.where(torch.isfinite(out.depth), out.depth, torch.nan)
            if (r, c) == rig.center_index:
                centre = out
    depth = torch.where(torch.isfinite(centre.depth), centre.depth, torch.nan).double()
    gt = GroundTruth(disparity=rig.depth_to_disparity(depth), depth=depth, view_depth=depths)
    return LightField(views, cam, rig.baseline, rig.focus_distance, ground_truth=gt,
                      meta={"object_id": centre.object_id, "normal": centre.normal})
