r"""The recipe of one room seen by several light-field captures: ``K`` rigs
placed in a seeded procedural room (:func:`geodl.render.make_room`), each
looking at a different wall from a standing height, written as ``K``
HCI-format scene folders plus the room's ground truth, the input of room
reconstruction (:mod:`geodl.recon`).

Placement of capture :math:`k` of :math:`K` (seeded per capture): the
viewing azimuth is :math:`\varphi_k = 2\pi k / K` plus up to
:math:`\pm 10°` of jitter, so with ``K = 4`` the captures face the walls
x+, y+, x-, y- in turn; the eye stands near the opposite wall (the ray from
the room centre against the viewing direction, 75-100 % of the way to a
0.4 m margin from the walls, shifted sideways by up to 0.5 m) at 1.4-1.8 m,
and looks at a point 60-100 % of the way to the facing wall at 0.6-1.1 m
(a slight downward tilt that keeps the floor in view). With a wide lens
(75° by default) each capture sees its wall whole and part of both side
walls, which the neighbouring captures face: neighbours overlap. A draw is
rejected as in :func:`~geodl.datasets.rooms.scene.clear_viewpoint` when
anything is nearer than 0.6 m (inside or against furniture) or the median
depth is under 1.5 m.

Each rig's baseline and focus come from
:func:`~geodl.render.rig_for_depth_range` on its preview depths, so
disparities span about [-3, 3] px (HCI-like) whatever the focal length.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from geodl.datasets.rooms.scene import (
    FINE_PARTS,
    clear_viewpoint,
    median_depth,
    room_box,
    scene_ground_truth,
)
from geodl.io.atomic import check_output_folder, staging_folder
from geodl.lightfield import parameters_from_light_field, write_hci_scene
from geodl.lightfield.benchmark.masks import evaluation_masks
from geodl.lightfield.hci_io import scene_files
from geodl.recon.captures import (
    GROUND_TRUTH_FILE,
    INDEX_FILE,
    read_room_index,
    room_index,
    write_room_ground_truth,
    write_room_index,
)
from geodl.render import Renderer, Scene, make_room, render_lightfield, rig_for_depth_range
from geodl.structures import GroundTruth, LightField, LightFieldRig

#: horizontal field of view of a capture by default (degrees); rooms want wide lenses
DEFAULT_FOV_DEG = 75.0


def capture_name(k: int) -> str:
    """The folder and scene name of capture ``k``: ``capture_<kk>``."""
    return f"capture_{k:02d}"


@dataclass
class RoomCaptures:
    """Room ``seed`` and its captures: ``captures[k]`` is the light field
    called ``names[k]`` (its ``meta["scene"]``), with the centre view's ground
    truth depth, disparity and evaluation masks."""

    seed: int
    room: Scene
    captures: list[LightField] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def room_size(self) -> tuple[float, float, float]:
        """(width x, depth y, height z) of the room's inner box, metres."""
        lo, hi = room_box(self.room)
        return tuple(float(v) for v in hi - lo)

    def object_names(self) -> dict[int, str]:
        """Object id -> name (floor, ceiling, wall_x-, ..., table_top, ...)."""
        return {o.object_id: o.name for o in self.room.objects}


def _propose(rng: np.random.Generator, k: int, captures: int, lo: np.ndarray, hi: np.ndarray):
    """A draw of (eye, target) for capture ``k`` (see the module docstring)."""
    centre = (lo[:2] + hi[:2]) / 2
    half = (hi[:2] - lo[:2]) / 2 - 0.4  # walls keep 0.4 m clear of the eye

    def propose() -> tuple[list[float], list[float]]:
        phi = 2 * math.pi * k / captures + math.radians(rng.uniform(-10, 10))
        d = np.array([math.cos(phi), math.sin(phi)])
        side = np.array([-d[1], d[0]])
        with np.errstate(divide="ignore"):
            reach = float(np.min(half / np.abs(d)))  # centre -> margin along d
        eye = centre - d * reach * rng.uniform(0.75, 1.0) + side * rng.uniform(-0.5, 0.5)
        eye = np.clip(eye, centre - half, centre + half)
        target = centre + d * reach * rng.uniform(0.6, 1.0) + side * rng.uniform(-0.4, 0.4)
        return ([float(eye[0]), float(eye[1]), float(lo[2] + rng.uniform(1.4, 1.8))],
                [float(target[0]), float(target[1]), float(lo[2] + rng.uniform(0.6, 1.1))])

    return propose


def render_room_captures(seed: int, captures: int = 4, size: int = 512, grid: int = 9,
                         fov_deg: float = DEFAULT_FOV_DEG, supersample: int = 1,
                         gt_factor: int = 1, view_depth: bool = False,
                         progress: bool | None = None) -> RoomCaptures:
    """Room ``make_room(seed)`` seen by ``captures`` light-field rigs of
    ``grid`` x ``grid`` views of ``size`` x ``size`` px with horizontal field
    of view ``fov_deg`` (placement in the module docstring; seeded: the same
    arguments give the same bytes).

    Ground truth per capture: the centre view's depth (``gt_factor`` 1: the
    plain render at pixel centres; more: a ``gt_factor`` x render reduced by
    block median, as the benchmark), its disparity and the evaluation masks;
    ``view_depth`` keeps every view's depth. ``meta`` of each light field
    holds "scene" (``capture_<kk>``), "room" and the centre view's
    "object_id" (H, W) and "normal" (3, H, W).

    ``supersample`` stays at one ray per pixel here, unlike the benchmark
    rooms' ``ROOM_SUPERSAMPLE``: the reconstruction's settings and figures
    (``geodl.recon``, ``experiments/room_reconstruction.py``) were measured
    on such captures, and 3 x 3 rays would make each capture 5x slower to
    render (the demo renders four)."""
    for name, value, least in (("captures", captures, 1), ("size", size, 8), ("grid", grid, 1),
                               ("supersample", supersample, 1), ("gt_factor", gt_factor, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name}: expected an integer >= {least}, got {value!r}")
    if grid % 2 == 0:
        raise ValueError(f"grid: expected an odd number of views (a centre view), got {grid}")
    if not 0 < fov_deg < 150:
        raise ValueError(f"fov_deg: expected in (0, 150) degrees, got {fov_deg}")
    room = make_room(seed)
    renderer = Renderer(room)
    lo, hi = room_box(room)
    fine = [o.object_id for o in room.objects if o.name in FINE_PARTS]
    out = RoomCaptures(seed, room)
    for k in tqdm(range(captures), desc="rendering captures",
                  disable=None if progress is None else not progress):
        rng = np.random.default_rng([seed, 11, k])
        cam, z = clear_viewpoint(renderer, _propose(rng, k, captures, lo, hi), size, fov_deg,
                                 min_median_depth=1.5, what=f"room {seed} capture {k}")
        baseline, focus = rig_for_depth_range(float(z.min()), float(z.max()),
                                              float(cam.K[0, 0]))
        rig = LightFieldRig(cam, baseline, focus, (grid, grid))
        lf = render_lightfield(renderer, rig, supersample, progress=False, view_depth=view_depth)
        depth = lf.depth if gt_factor == 1 else median_depth(renderer, cam, gt_factor)
        depth = torch.where(torch.isfinite(depth), depth, torch.nan).double()
        masks = evaluation_masks(torch.nan_to_num(depth, nan=torch.inf), lf.meta["normal"],
                                 lf.meta["object_id"], fine)
        lf.ground_truth = GroundTruth(rig.depth_to_disparity(depth), depth, masks,
                                      view_depth=lf.ground_truth.view_depth)
        lf.meta.update(scene=capture_name(k), room=room)
        # what write_hci_scene writes and load_hci reads (pose, lens, rig,
        # disparity range), so a capture in memory estimates like one on disk
        lf.meta["parameters"] = parameters_from_light_field(lf, scene=capture_name(k))
        out.captures.append(lf)
        out.names.append(capture_name(k))
    return out


def captures_index(rc: RoomCaptures) -> dict:
    """The ``captures.json`` of ``rc``: seed, room size, object id -> name and
    per capture its folder, camera-to-world 4x4 (OpenCV frame), K, image size,
    grid, baseline (m), focus distance (m) and ground-truth disparity range."""
    entries = []
    for name, lf in zip(rc.names, rc.captures):
        d = lf.disparity[torch.isfinite(lf.disparity)]
        entries.append({
            "folder": name, "camera_to_world": lf.camera.cam_to_world.tolist(),
            "K": lf.camera.K.tolist(), "width": lf.width, "height": lf.height,
            "grid": list(lf.grid_shape), "baseline": lf.baseline,
            "focus_distance": lf.focus_distance,
            "disparity_range": [float(d.min()), float(d.max())]})
    return room_index("lightfield", rc.seed, rc.room_size, rc.object_names(), captures=entries)


def write_room_captures(out: str | Path, seed: int, captures: int = 4, size: int = 512,
                        grid: int = 9, fov_deg: float = DEFAULT_FOV_DEG, supersample: int = 1,
                        gt_factor: int = 1, overwrite: bool = False,
                        progress: bool | None = None) -> tuple[Path, RoomCaptures]:
    """Render room ``seed``'s captures (:func:`render_room_captures`) and write
    them into ``out``: one HCI scene folder per capture (``capture_<kk>/``,
    :func:`~geodl.lightfield.write_hci_scene`: views, ``parameters.cfg`` with
    the centre camera's pose, lens, rig and disparity range, ground truth and
    masks), ``room_gt.ply`` (the room's meshes as one, with each vertex's
    object id) and ``captures.json`` (:func:`captures_index`). Returns
    (``out``, the captures).

    A non-empty ``out`` is refused before any rendering unless ``overwrite``,
    which replaces only what such a folder consists of: the two index files
    and the scene files of the capture folders (those written now and those
    the old ``captures.json`` lists); other files stay. Everything is written
    into a temporary sibling first and moved in at the end."""
    out = check_output_folder(out, overwrite, "the captures in it")
    rc = render_room_captures(seed, captures, size, grid, fov_deg, supersample, gt_factor,
                              progress=progress)
    with staging_folder(out) as tmp:
        for name, lf in zip(rc.names, rc.captures):
            write_hci_scene(tmp / name, lf, scene=name)
        mesh, ids, _ = scene_ground_truth(rc.room)
        write_room_ground_truth(tmp / GROUND_TRUTH_FILE, mesh, ids)
        write_room_index(tmp, captures_index(rc))
        if out.is_dir():
            _replace_owned(out, tmp)
        else:
            os.rename(tmp, out)
    return out, rc


def _replace_owned(out: Path, tmp: Path) -> None:
    """Move ``tmp``'s captures into the existing ``out``, first removing the
    files of ``out`` that a captures folder owns (nothing else)."""
    stale = set()
    try:
        listed = (read_room_index(out) or {}).get("captures", [])
        stale = {c.get("folder") for c in listed if isinstance(c, dict)}
    except (ValueError, TypeError):  # not our index: own no folder by it
        stale = set()
    stale = {n for n in stale if isinstance(n, str)}
    for name in sorted(stale | {p.name for p in tmp.iterdir() if p.is_dir()}):
        folder = out / name
        # only plain child names: an index listing "..", "/x" or "a/b" touches nothing
        if Path(name).name == name and name not in ("", ".", "..") and folder.is_dir():
            for f in scene_files(folder):
                f.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
    for f in (GROUND_TRUTH_FILE, INDEX_FILE):
        if (out / f).is_file():
            (out / f).unlink()
    for item in sorted(tmp.iterdir()):
        target = out / item.name
        if item.is_dir() and target.is_dir():  # a folder holding other files too
            for f in item.iterdir():
                os.replace(f, target / f.name)
        else:
            os.replace(item, target)
