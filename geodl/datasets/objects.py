r"""Seeded light fields of objects in front of a backdrop: the second scene
family beside the rooms, nearer to what the HCI benchmark's scenes hold.

The rooms (:mod:`geodl.datasets.rooms`) are boxes of large planes seen from
a corner; a benchmark scene is a table of objects: curved and thin shapes,
photographed textures, several layers of occlusion, disparities of about
:math:`\pm 4` px. :func:`make_objects_scene` builds such a scene in world
units of metres (z up, the camera at the origin looking along +y):

- a backdrop: a photo-textured wall across the view at 3-6 m, and a
  textured floor under the objects;
- 6-14 objects at depths drawn uniformly in inverse depth between 0.8 m
  and 90 % of the backdrop's distance, laterally inside the view: spheres,
  boxes at random rotations, cylinders, thin rods (1-2 cm across), tori
  and bumpy (radially displaced) spheres;
- each textured with a box-projected photograph (random tint and scale) or
  a procedural pattern (noise, checker, stripes).

:func:`render_objects_scene` renders it with the HCI rig (9 x 9 views of
512 x 512 px by default, the baseline and focus chosen so the centre view's
disparities span :math:`\pm` ``max_disparity``) and the rooms' anti-aliasing
and block-median depth and disparity ground truth (no evaluation masks).
Seeds are independent of the rooms' (another stream), so the same seed
gives the same scene, byte for byte.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from geodl._optional import trimesh
from geodl.datasets.rooms.scene import ROOM_SUPERSAMPLE, median_depth
from geodl.datasets.rooms.scene_sets import write_scenes
from geodl.render import Renderer, Scene, render_lightfield, rig_for_depth_range
from geodl.render.textures import COLOR_PHOTOS, Texture, checker, noise, photo, stripes
from geodl.structures import GroundTruth, LightField, LightFieldRig, Mesh, PinholeCamera

#: the shapes an object is drawn from
SHAPES = ("sphere", "box", "cylinder", "rod", "torus", "bumpy")
#: horizontal field of view of the centre camera (degrees), the rooms'
FOV_DEG = 60.0
#: the nearest an object comes to the camera (m)
NEAR = 0.8


def objects_scene_name(seed: int) -> str:
    """The scene folder name of objects scene ``seed``."""
    return f"geodl_objects_{seed}"


def _texture(rng: np.random.Generator) -> Texture:
    kind = rng.choice(["photo", "photo", "noise", "checker", "stripes"])
    colour = tuple(float(c) for c in rng.uniform(0.15, 0.9, 3))
    if kind == "photo":
        tint = tuple(float(c) for c in rng.uniform(0.6, 1.0, 3))
        return photo(str(rng.choice(COLOR_PHOTOS)), float(rng.uniform(0.2, 1.0)), tint=tint,
                     offset=tuple(float(v) for v in rng.uniform(-1, 1, 2)))
    if kind == "noise":
        return noise(colour, float(rng.uniform(0.1, 0.3)), float(rng.uniform(0.01, 0.05)),
                     int(rng.integers(1 << 30)))
    other = tuple(float(c) for c in rng.uniform(0.15, 0.9, 3))
    if kind == "checker":
        return checker(colour, other, float(rng.uniform(0.02, 0.1)))
    return stripes(colour, other, float(rng.uniform(0.02, 0.1)), int(rng.integers(3)))


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    return trimesh().transformations.quaternion_matrix(q / np.linalg.norm(q))


def _shape(kind: str, size: float, rng: np.random.Generator):
    """A trimesh of ``kind`` about ``size`` metres across, centred at 0."""
    tm = trimesh()
    if kind == "sphere":
        return tm.creation.icosphere(subdivisions=4, radius=size / 2)
    if kind == "box":
        return tm.creation.box(extents=size * rng.uniform(0.4, 1.0, 3))
    if kind == "cylinder":
        return tm.creation.cylinder(radius=size * rng.uniform(0.15, 0.4),
                                    height=size, sections=32)
    if kind == "rod":  # thin structures: 1-2 cm across, 1.5-3 times ``size`` long
        return tm.creation.cylinder(radius=rng.uniform(0.005, 0.01),
                                    height=size * rng.uniform(1.5, 3.0), sections=12)
    if kind == "torus":
        major = size / 2
        return tm.creation.torus(major_radius=major, minor_radius=major * rng.uniform(0.15, 0.4),
                                 major_sections=48, minor_sections=16)
    m = tm.creation.icosphere(subdivisions=4, radius=size / 2)  # "bumpy"
    v = m.vertices / np.linalg.norm(m.vertices, axis=1, keepdims=True)
    k = rng.normal(size=(3, 3))
    bump = sum(np.sin(v @ k[i] * rng.uniform(2, 5) + rng.uniform(0, 6)) for i in range(3))
    m.vertices = m.vertices * (1 + 0.12 * bump / 3)[:, None]
    return m


def make_objects_scene(seed: int) -> Scene:
    """Objects scene ``seed`` (module docstring); the centre camera looks
    from the origin along +y (:func:`objects_camera`)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    rng = np.random.default_rng([int(seed), 47])
    scene = Scene()
    far = float(rng.uniform(3.0, 6.0))
    half = far * math.tan(math.radians(FOV_DEG) / 2) * 1.6  # beyond the view's edges
    wall = trimesh().creation.box(extents=(2 * half, 0.05, 2 * half))
    wall.apply_translation((0.0, far, 0.0))
    scene.add(Mesh.from_trimesh(wall), _texture(rng), "backdrop")
    floor_z = -float(rng.uniform(0.5, 1.2))
    floor = trimesh().creation.box(extents=(2 * half, far, 0.05))
    floor.apply_translation((0.0, far / 2, floor_z))
    scene.add(Mesh.from_trimesh(floor), _texture(rng), "floor")
    count = int(rng.integers(6, 15))
    inv = np.sort(rng.uniform(1 / (0.9 * far), 1 / NEAR, count))[::-1]  # back to front
    tan = math.tan(math.radians(FOV_DEG) / 2)
    for d in 1 / inv:
        kind = str(rng.choice(SHAPES))
        size = float(rng.uniform(0.08, 0.35)) * d
        m = _shape(kind, size, rng)
        m.apply_transform(_rotation(rng))
        x = rng.uniform(-0.8, 0.8) * d * tan
        z = max(floor_z + size / 2, rng.uniform(-0.8, 0.8) * d * tan)
        m.apply_translation((x, d, z))
        scene.add(Mesh.from_trimesh(m), _texture(rng), kind)
    return scene


def objects_camera(size: int = 512, fov_deg: float = FOV_DEG) -> PinholeCamera:
    """The centre camera of every objects scene: at the origin, looking along +y, z up."""
    return PinholeCamera.look_at((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), up=(0, 0, 1), width=size,
                                 height=size, fov_deg=fov_deg)


def render_objects_scene(seed: int, size: int = 512, grid: int = 9,
                         supersample: int = ROOM_SUPERSAMPLE, max_disparity: float = 4.0,
                         gt_factor: int = 10, progress: bool | None = None) -> LightField:
    """Objects scene ``seed`` as a ``grid`` x ``grid`` light field of ``size``
    px, baseline and focus set so the centre view's disparities span about
    :math:`\\pm` ``max_disparity`` px; ground truth as the rooms' (depth
    rendered at ``gt_factor`` x and reduced by block median). ``meta`` holds
    "scene" and the :class:`~geodl.render.Scene` under "objects"."""
    for name, value, least in (("size", size, 16), ("grid", grid, 2),
                               ("supersample", supersample, 1), ("gt_factor", gt_factor, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name}: expected an integer >= {least}, got {value!r}")
    if (isinstance(max_disparity, bool) or not isinstance(max_disparity, (int, float))
            or not (math.isfinite(max_disparity) and max_disparity > 0)):
        raise ValueError(f"max_disparity: expected a finite number > 0 of px, got "
                         f"{max_disparity!r}")
    scene = make_objects_scene(seed)
    renderer = Renderer(scene)
    cam = objects_camera(size)
    probe = renderer.render(cam.scaled(min(1.0, 96 / size))).depth
    z = probe[torch.isfinite(probe)]
    baseline, focus = rig_for_depth_range(float(z.min()), float(z.max()), float(cam.K[0, 0]),
                                          max_disparity)
    rig = LightFieldRig(cam, baseline, focus, (grid, grid))
    lf = render_lightfield(renderer, rig, supersample, progress)
    depth = median_depth(renderer, cam, gt_factor) if gt_factor > 1 else lf.depth
    depth = torch.where(torch.isfinite(depth), depth, torch.nan).double()
    lf.ground_truth = GroundTruth(rig.depth_to_disparity(depth), depth)
    lf.meta.update(scene=objects_scene_name(seed), objects=scene)
    return lf


def write_objects_scenes(out_dir: str | Path, seeds: Iterable[int], size: int = 512,
                         grid: int = 9, supersample: int = ROOM_SUPERSAMPLE,
                         overwrite: bool = False) -> Iterator[tuple[Path, LightField, float]]:
    """Render objects scene ``seed`` for each seed and write it as an HCI
    scene folder ``out_dir/geodl_objects_<seed>``; yields (folder, light
    field, seconds taken). Existing scene folders are refused before any
    rendering unless ``overwrite``."""
    def render(seed: int) -> LightField:
        return render_objects_scene(seed, size, grid, supersample, progress=False)

    return write_scenes(out_dir, seeds, render, objects_scene_name, overwrite)
