"""One seeded HCI-style scene: a procedural room seen by a 9x9 light-field rig."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from geodl.render.ground_truth import (FINE_PARTS, block_median, evaluation_masks,
                                       high_res_depth, median_depth)
from geodl.render.lightfield_rig import render_lightfield, rig_for_depth_range
from geodl.render.raycast import Renderer
from geodl.render.scene import make_room
from geodl.structures import LightField, PinholeCamera


def scene_name(seed: int) -> str:
    """The folder and scene name of room ``seed``: ``geodl_room_<seed>``."""
    return f"geodl_room_{seed:04d}"


def _nan_outside(depth: Tensor) -> Tensor:
    """Depth with NaN where nothing was hit (the benchmark's convention)."""
    return torch.where(torch.isfinite(depth), depth, torch.nan)


def _disparity(lf: LightField, depth: Tensor) -> Tensor:
    finite = torch.isfinite(depth)
    d = lf.depth_to_disparity(torch.where(finite, depth, 1.0).double())
    return torch.where(finite, d, torch.nan)


def _viewpoint(renderer: Renderer, seed: int, size: int, fov_deg: float,
               min_depth: float = 0.6, min_median_depth: float = 2.0, tries: int = 50
               ) -> tuple[PinholeCamera, Tensor]:
    """A seeded camera in one corner looking into the room, redrawn until
    nothing is closer than ``min_depth`` (not inside or against furniture) and
    the median depth exceeds ``min_median_depth`` (the view shows the room, not
    one piece of furniture); returns it and its preview depths."""
    rng = np.random.default_rng(seed + 12345)
    for _ in range(tries):
        eye = [rng.uniform(-2.4, -1.6), rng.uniform(-2.0, -1.2), rng.uniform(1.3, 1.8)]
        target = [rng.uniform(-0.5, 1.5), rng.uniform(-0.5, 1.5), rng.uniform(0.5, 1.2)]
        cam = PinholeCamera.look_at(eye, target, up=(0, 0, 1), width=size, height=size,
                                    fov_deg=fov_deg)
        probe = renderer.render(cam.scaled(min(1.0, 96 / size))).depth
        z = probe[torch.isfinite(probe)]
        if len(z) and float(z.min()) > min_depth and float(z.median()) > min_median_depth:
            return cam, z
    raise RuntimeError(f"room {seed}: no clear viewpoint in {tries} tries")


def render_hci_scene(seed: int, size: int = 512, grid: int = 9, supersample: int = 1,
                     fov_deg: float = 60.0, gt_factor: int = 10, highres: bool = False,
                     progress: bool | None = None) -> LightField:
    """Room ``seed`` from a seeded viewpoint; baseline and focus chosen so the
    centre view's disparities span about [-3, 3] px (HCI-like).

    The ground-truth depth is rendered at ``gt_factor`` x resolution and reduced
    by block median (1 = plain low-resolution depth); ``meta["masks"]`` holds
    the evaluation masks. With ``highres`` the full-resolution ground truth is
    kept too, as the benchmark ships it: ``meta["highres"]`` = {"factor",
    "depth" and "disparity" (H f, W f) — disparity in low-resolution pixels,
    so a low-resolution estimate upsampled by pixel repetition compares
    directly — and "masks" at that resolution}."""
    room = make_room(seed)
    renderer = Renderer(room)
    cam, z = _viewpoint(renderer, seed, size, fov_deg)
    near, far = float(z.min()), float(z.max())
    baseline, focus = rig_for_depth_range(near, far, float(cam.K[0, 0]))
    lf = render_lightfield(renderer, cam, baseline, focus, (grid, grid), supersample, progress)
    fine = [o.object_id for o in room.objects if o.name in FINE_PARTS]
    if highres and gt_factor > 1:
        depth_hr, normal_hr, ids_hr = high_res_depth(renderer, cam, gt_factor)
        depth = block_median(depth_hr, gt_factor)
        masks_hr = evaluation_masks(depth_hr, normal_hr, ids_hr, fine, scale=gt_factor)
        del normal_hr, ids_hr
        lf.meta["highres"] = {"factor": gt_factor, "depth": _nan_outside(depth_hr),
                              "disparity": _disparity(lf, depth_hr).float(), "masks": masks_hr}
    elif gt_factor > 1:
        depth = median_depth(renderer, cam, gt_factor)
    else:
        depth = lf.depth
    lf.depth = _nan_outside(depth)
    lf.disparity = _disparity(lf, depth)
    low_depth = torch.nan_to_num(lf.depth, nan=torch.inf)
    lf.meta["masks"] = evaluation_masks(low_depth, lf.meta["normal"], lf.meta["object_id"], fine)
    lf.meta["scene"] = scene_name(seed)
    lf.meta["room"] = room
    return lf
