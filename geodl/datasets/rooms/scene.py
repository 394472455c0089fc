"""The recipe of one seeded HCI-style scene: a procedural room seen by a 9x9
light-field rig, with the benchmark's ground truth (10x block-median depth,
evaluation masks; optionally the 10x maps themselves)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor

from geodl.lightfield.benchmark.masks import block_median, evaluation_masks
from geodl.render import (
    Renderer,
    Scene,
    high_res_depth,
    make_room,
    render_lightfield,
    rig_for_depth_range,
)
from geodl.structures import GroundTruth, LightField, LightFieldRig, Mesh, PinholeCamera

#: the room objects that are thin (the benchmark's "fine structures")
FINE_PARTS = ("table_leg", "chair_leg", "shelf_board", "shelf_side")

#: Rays per pixel side of the seeded rooms' views (box-filtered, so 3 x 3
#: samples per pixel). A camera integrates light over each pixel, and the HCI
#: benchmark's scenes are anti-aliased renders; one ray per pixel aliases the
#: procedural textures (checkers, bricks), so warping a view by its true
#: disparity could not reproduce another (experiments/render_aliasing.py).
#: Caches of rendered rooms carry it in their names (``ss3``).
ROOM_SUPERSAMPLE = 3


def scene_name(seed: int) -> str:
    """The folder and scene name of room ``seed``: ``geodl_room_<seed>``."""
    return f"geodl_room_{seed:04d}"


def clear_viewpoint(renderer: Renderer, propose: Callable[[], tuple[Any, Any]], size: int,
                    fov_deg: float, min_depth: float = 0.6, min_median_depth: float = 2.0,
                    tries: int = 50, what: str = "room") -> tuple[PinholeCamera, Tensor]:
    """The first camera ``look_at(*propose())`` (z up, ``size`` x ``size`` px,
    horizontal field of view ``fov_deg``) that nothing is closer to than
    ``min_depth`` (not inside or against furniture) and whose median depth
    exceeds ``min_median_depth`` (it shows the room, not one piece of
    furniture), judged on a 96 px preview; returns it and the preview's finite
    depths. ``propose`` draws (eye, target) from the caller's seeded stream, so
    the camera is seeded too; RuntimeError naming ``what`` after ``tries``."""
    for _ in range(tries):
        eye, target = propose()
        cam = PinholeCamera.look_at(eye, target, up=(0, 0, 1), width=size, height=size,
                                    fov_deg=fov_deg)
        probe = renderer.render(cam.scaled(min(1.0, 96 / size))).depth
        z = probe[torch.isfinite(probe)]
        if len(z) and float(z.min()) > min_depth and float(z.median()) > min_median_depth:
            return cam, z
    raise RuntimeError(f"{what}: no clear viewpoint in {tries} tries")


def room_viewpoint(renderer: Renderer, seed: int, size: int, fov_deg: float,
                   min_depth: float = 0.6, min_median_depth: float = 2.0, tries: int = 50
                   ) -> tuple[PinholeCamera, Tensor]:
    """The seeded camera of room ``seed``'s benchmark scene: in one corner,
    looking into the room, with a clear view (see :func:`clear_viewpoint`);
    returns the camera and its preview's finite depths (:func:`clear_viewpoint`)."""
    rng = np.random.default_rng(seed + 12345)

    def propose() -> tuple[list[float], list[float]]:
        eye = [rng.uniform(-2.4, -1.6), rng.uniform(-2.0, -1.2), rng.uniform(1.3, 1.8)]
        target = [rng.uniform(-0.5, 1.5), rng.uniform(-0.5, 1.5), rng.uniform(0.5, 1.2)]
        return eye, target

    return clear_viewpoint(renderer, propose, size, fov_deg, min_depth, min_median_depth, tries,
                           f"room {seed}")


def render_hci_scene(seed: int, size: int = 512, grid: int = 9,
                     supersample: int = ROOM_SUPERSAMPLE,
                     fov_deg: float = 60.0, gt_factor: int = 10, highres: bool = False,
                     view_depth: bool = False, progress: bool | None = None) -> LightField:
    """Room ``seed`` from a seeded viewpoint; baseline and focus chosen so the
    centre view's disparities span about [-3, 3] px (HCI-like).

    Each view is rendered with ``supersample`` x ``supersample`` rays per
    pixel, averaged (:data:`ROOM_SUPERSAMPLE`, the benchmark's anti-aliasing;
    1 is a point-sampled render, one ray per pixel).

    The ground-truth depth is rendered at ``gt_factor`` x resolution and
    reduced by block median (1 = plain low-resolution depth), with the
    evaluation masks. ``highres`` keeps the full-resolution ground truth as
    the benchmark ships it (``ground_truth.highres``: depth, disparity in
    low-resolution pixels, masks); ``view_depth`` keeps every view's rendered
    depth. ``meta`` holds "scene", "room" (the :class:`~geodl.render.Scene`)
    and the centre view's "object_id" and "normal"."""
    room = make_room(seed)
    renderer = Renderer(room)
    cam, z = room_viewpoint(renderer, seed, size, fov_deg)
    baseline, focus = rig_for_depth_range(float(z.min()), float(z.max()), float(cam.K[0, 0]))
    rig = LightFieldRig(cam, baseline, focus, (grid, grid))
    lf = render_lightfield(renderer, rig, supersample, progress, view_depth=view_depth)
    fine = [o.object_id for o in room.objects if o.name in FINE_PARTS]
    hr = None
    if highres and gt_factor > 1:
        depth_hr, normal_hr, ids_hr = high_res_depth(renderer, cam, gt_factor)
        depth = block_median(depth_hr, gt_factor)
        masks_hr = evaluation_masks(depth_hr, normal_hr, ids_hr, fine, scale=gt_factor)
        del normal_hr, ids_hr
        depth_hr = torch.where(torch.isfinite(depth_hr), depth_hr, torch.nan)
        hr = GroundTruth(rig.depth_to_disparity(depth_hr).float(), depth_hr, masks_hr,
                         factor=gt_factor)
    elif gt_factor > 1:
        depth = median_depth(renderer, cam, gt_factor)
    else:
        depth = lf.depth
    depth = torch.where(torch.isfinite(depth), depth, torch.nan).double()
    masks = evaluation_masks(torch.nan_to_num(depth, nan=torch.inf), lf.meta["normal"],
                             lf.meta["object_id"], fine)
    lf.ground_truth = GroundTruth(rig.depth_to_disparity(depth), depth, masks, highres=hr,
                                  view_depth=lf.ground_truth.view_depth)
    lf.meta.update(scene=scene_name(seed), room=room)
    return lf


def median_depth(renderer: Renderer, camera: PinholeCamera, factor: int = 10,
                 band_rows: int = 8) -> Tensor:
    """(H, W) depth rendered at ``factor`` x resolution and reduced by
    ``factor`` x ``factor`` block median, as the benchmark's low-resolution
    ground truth; computed ``band_rows`` image rows at a time (bounded memory)."""
    if factor < 1:
        raise ValueError(f"factor: expected >= 1, got {factor}")
    cam = camera.scaled(factor)
    bands = []
    for top in range(0, camera.height, band_rows):
        rows = min(band_rows, camera.height - top)
        rays = cam.crop(top * factor, 0, rows * factor, cam.width).ray_bundle()
        t_hit = renderer.cast(rays)["t_hit"]
        bands.append(block_median(torch.from_numpy(t_hit), factor))
    return torch.cat(bands)


def scene_ground_truth(scene: Scene) -> tuple[Mesh, Tensor, dict[int, str]]:
    """The scene as one mesh, each vertex's object id (V,) long, and
    ``{object id: name}``; the same triple as the ``room_gt.ply`` of a capture
    folder (``geodl.recon.load_room_ground_truth``)."""
    mesh = scene.to_mesh()
    ids = torch.cat([torch.full((o.mesh.num_verts,), o.object_id, dtype=torch.long)
                     for o in scene.objects])
    return mesh, ids, {o.object_id: o.name for o in scene.objects}


def room_box(room: Scene) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), the inner box of a :func:`~geodl.render.make_room` room: the
    floor's x-y extent from its top face (z = lo[2]) to the ceiling's bottom
    face (z = hi[2]), metres."""
    parts = {o.name: o.mesh.verts64.numpy() for o in room.objects
             if o.name in ("floor", "ceiling")}
    if len(parts) != 2:
        raise ValueError("room: expected a make_room scene with a floor and a ceiling")
    floor, ceiling = parts["floor"], parts["ceiling"]
    lo = np.array([floor[:, 0].min(), floor[:, 1].min(), floor[:, 2].max()])
    hi = np.array([floor[:, 0].max(), floor[:, 1].max(), ceiling[:, 2].min()])
    return lo, hi
