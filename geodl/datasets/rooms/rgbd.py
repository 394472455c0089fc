r"""The recipe of one room scanned by a hand-held RGB-D sensor: a seeded
procedural room (:func:`geodl.render.make_room`), a smooth hand-held
trajectory through it, and per frame the colour image, the structured-light
sensor's depth (:class:`geodl.render.sensor.StructuredLightSensor`: noise and
quantisation growing with :math:`z^2`, projector shadows, dropouts at
grazing angles and edges) and the pose; written in the 7-Scenes layout
(:func:`geodl.recon.rgbd_readers.write_7scenes`) with the room's
ground-truth mesh, so that ``geodl reconstruct`` reads it and scores itself.

The trajectory: the operator walks ``loops`` times around an ellipse near
the room's centre (centre offset, semi-axes and start angle seeded), the
sensor facing outwards, first tilted down to the floor (``pitch_low_deg``)
and after half the frames tilted up (``pitch_high_deg``) so the ceiling and
the tops of the walls are seen too; a hand's motion is added as a sum of
slow seeded sinusoids (a few cm, a few degrees; no jumps between frames).
A draw is rejected when an eye position comes within ``clearance`` of any
surface (inside or against furniture).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from geodl.datasets.rooms.scene import room_box, scene_ground_truth
from geodl.io.atomic import check_output_folder
from geodl.recon.captures import (
    GROUND_TRUTH_FILE,
    room_index,
    write_room_ground_truth,
    write_room_index,
)
from geodl.recon.rgbd_readers import write_7scenes
from geodl.render import Renderer, Scene, make_room
from geodl.render.sensor import StructuredLightSensor
from geodl.structures import PinholeCamera, PosedImages

#: the Kinect v1 colour/depth camera of 7-Scenes at 640 x 480 (fx = fy, cx, cy)
KINECT_INTRINSICS = (585.0, 585.0, 320.0, 240.0)
#: frames of a scan by default, two loops of 40 (9 degrees of turn per frame)
DEFAULT_FRAMES = 80


@dataclass
class RoomScan:
    """Room ``seed`` and its scan: ``frames`` holds the colour images, the
    sensor's depth and the cameras; ``true_depth`` (N, H, W) the exact
    z-depth of the render (inf where nothing is hit)."""

    seed: int
    room: Scene
    frames: PosedImages
    true_depth: Tensor
    sensor: StructuredLightSensor


def _shake(rng: np.random.Generator, amplitude: float, terms: int = 3):
    """s -> a smooth random motion of about ``amplitude``: a sum of
    sinusoids of 1-6 cycles over the scan, seeded."""
    freq = rng.uniform(1.0, 6.0, terms)
    phase = rng.uniform(0, 2 * math.pi, terms)
    amp = rng.uniform(0.5, 1.0, terms) * amplitude / math.sqrt(terms)
    return lambda s: float(np.sum(amp * np.sin(2 * math.pi * freq * s + phase)))


def _camera(eye: np.ndarray, yaw: float, pitch: float, roll: float, K: Tensor, width: int,
            height: int) -> PinholeCamera:
    """The camera at ``eye`` looking along (yaw, pitch) (radians, z up),
    rolled by ``roll`` about its optical axis."""
    forward = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw),
                        math.sin(pitch)])
    cam = PinholeCamera.look_at(eye, eye + forward, up=(0.0, 0.0, 1.0), K=K, width=width,
                                height=height)
    c, s = math.cos(roll), math.sin(roll)
    R = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64) @ cam.R
    E = torch.eye(4, dtype=torch.float64)
    E[:3, :3] = R
    E[:3, 3] = -R @ torch.as_tensor(eye, dtype=torch.float64)
    return PinholeCamera(K, E, width, height)


def handheld_trajectory(renderer: Renderer, seed: int, frames: int, K: Tensor, width: int,
                        height: int, loops: int = 2, pitch_low_deg: float = -28.0,
                        pitch_high_deg: float = 8.0, clearance: float = 0.45,
                        tries: int = 200) -> list[PinholeCamera]:
    """``frames`` cameras along a seeded hand-held path (module docstring)."""
    room = renderer.scene
    lo, hi = room_box(room)
    centre = (lo[:2] + hi[:2]) / 2
    half = (hi[:2] - lo[:2]) / 2
    o3d_scene = renderer.rc
    from geodl._optional import open3d

    o3d = open3d()
    s = np.arange(frames) / frames
    for attempt in range(tries):
        rng = np.random.default_rng([seed, 29, attempt])
        c = centre + rng.uniform(-0.25, 0.25, 2) * half
        radii = rng.uniform(0.15, 0.35, 2) * half
        theta0 = rng.uniform(0, 2 * math.pi)
        height_eye = lo[2] + rng.uniform(1.35, 1.65)
        shakes = [_shake(rng, a) for a in (0.04, 0.04, 0.03)]
        turns = [_shake(rng, math.radians(a)) for a in (4.0, 3.0, 2.0)]
        theta = theta0 + 2 * math.pi * loops * s
        eyes = np.stack([c[0] + radii[0] * np.cos(theta) + [shakes[0](v) for v in s],
                         c[1] + radii[1] * np.sin(theta) + [shakes[1](v) for v in s],
                         height_eye + np.array([shakes[2](v) for v in s])], 1)
        dist = o3d_scene.compute_distance(o3d.core.Tensor(eyes.astype(np.float32))).numpy()
        inside = (np.abs(eyes[:, :2] - centre) > half - clearance).any(1)
        if dist.min() < clearance or inside.any():
            continue
        ramp = np.clip((s - 0.45) / 0.1, 0, 1)
        ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep: no jump in the tilt
        pitch = np.radians(pitch_low_deg + (pitch_high_deg - pitch_low_deg) * ramp)
        return [_camera(eyes[i], theta[i] + turns[0](s[i]), pitch[i] + turns[1](s[i]),
                        turns[2](s[i]), K, width, height) for i in range(frames)]
    raise RuntimeError(f"room {seed}: no hand-held path clear of the furniture in {tries} tries")


def render_room_rgbd(seed: int, frames: int = DEFAULT_FRAMES, width: int = 640,
                     height: int = 480, sensor: StructuredLightSensor | None = None,
                     progress: bool | None = None) -> RoomScan:
    """Room ``make_room(seed)`` scanned along :func:`handheld_trajectory`
    with the Kinect's intrinsics scaled to ``width`` x ``height``; each
    frame's depth measured by ``sensor`` (default
    :class:`~geodl.render.sensor.StructuredLightSensor`), its noise seeded per frame
    (the same arguments give the same bytes)."""
    for name, value, least in (("frames", frames, 2), ("width", width, 8),
                               ("height", height, 8)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name}: expected an integer >= {least}, got {value!r}")
    sensor = StructuredLightSensor() if sensor is None else sensor
    fx, fy, cx, cy = KINECT_INTRINSICS
    K = torch.tensor([[fx * width / 640, 0, cx * width / 640],
                      [0, fy * height / 480, cy * height / 480], [0, 0, 1]], dtype=torch.float64)
    room = make_room(seed)
    renderer = Renderer(room)
    cameras = handheld_trajectory(renderer, seed, frames, K, width, height)
    images = torch.empty((frames, 3, height, width))
    depth = torch.empty((frames, height, width))
    true_depth = torch.empty((frames, height, width))
    for k, cam in enumerate(tqdm(cameras, desc="rendering RGB-D frames",
                                 disable=None if progress is None else not progress)):
        r = renderer.render(cam)
        images[k] = r.color
        true_depth[k] = r.depth.float()
        depth[k] = sensor.measure(renderer, cam, r, np.random.default_rng([seed, 31, k]))
    scan = PosedImages(images, cameras, depth, names=[f"frame-{k:06d}" for k in range(frames)],
                       meta={"layout": "7scenes", "units": "m", "seed": seed})
    return RoomScan(seed, room, scan, true_depth, sensor)


def write_room_rgbd(out: str | Path, seed: int, frames: int = DEFAULT_FRAMES, width: int = 640,
                    height: int = 480, sensor: StructuredLightSensor | None = None,
                    overwrite: bool = False, progress: bool | None = None
                    ) -> tuple[Path, RoomScan]:
    """Render room ``seed``'s scan (:func:`render_room_rgbd`) and write it
    into ``out`` in the 7-Scenes layout (depth in millimetres), with
    ``room_gt.ply`` (the room as one mesh with each vertex's object id) and
    ``captures.json`` (seed, room size, object names, the sensor's
    parameters). A non-empty ``out`` is refused before any rendering unless
    ``overwrite`` (which replaces only the frames and those two files)."""
    out = check_output_folder(out, overwrite, "the scan in it")
    scan = render_room_rgbd(seed, frames, width, height, sensor, progress)
    write_7scenes(out, scan.frames, overwrite=overwrite)
    mesh, ids, names = scene_ground_truth(scan.room)
    write_room_ground_truth(out / GROUND_TRUTH_FILE, mesh, ids)
    lo, hi = room_box(scan.room)
    write_room_index(out, room_index("7scenes", seed, hi - lo, names, frames=frames,
                                     sensor=scan.sensor.as_dict(), depth_scale=1000.0))
    return out, scan
