r"""The recipe of one room photographed from many positions with known
cameras, written as a COLMAP project: the input of multi-view stereo
(:mod:`geodl.mvs`) with the room's ground truth.

Placement (seeded per room): ``directions`` viewing azimuths
:math:`2\pi k / K` (up to :math:`\pm 10°` jitter); for each, a station towards
the opposite wall as in :mod:`~geodl.datasets.rooms.lightfield_captures` (eye 1.4-1.8 m
high, a target 60-100 % of the way to the facing wall at 0.6-1.1 m) and
``per_direction`` photos from it: the eye stepped sideways by ``step`` (m)
and up or down by up to 0.1 m, every photo looking at the station's
target (converging views: a wall point is seen by all of them, at
triangulation angles of a few degrees). A station is redrawn when any photo
of it has something nearer than 0.6 m (inside or against furniture).

The model is written in COLMAP's text format (``sparse/0``) with the
cameras and sparse 3-D points, as structure from motion would give: up to
``points_per_photo`` pixels per photo on a grid, lifted with the rendered
depth and kept with every photo that sees them unoccluded (its depth at the
projection within 1 %), when at least two do.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from tqdm import tqdm

from geodl.datasets.rooms.scene import room_box, scene_ground_truth
from geodl.io.atomic import check_output_folder, staging_folder
from geodl.mvs.colmap import write_colmap_text
from geodl.recon.captures import (
    GROUND_TRUTH_FILE,
    INDEX_FILE,
    room_index,
    write_room_ground_truth,
    write_room_index,
)
from geodl.render import Renderer, Scene, make_room
from geodl.structures import PinholeCamera

#: the photos' horizontal field of view in degrees by default, a phone's main camera's
DEFAULT_FOV_DEG = 65.0
#: folders of a photos project
IMAGES, MODEL = "images", Path("sparse") / "0"


def photo_name(k: int) -> str:
    """The file name of photo ``k``: ``photo_<kkk>.png``."""
    return f"photo_{k:03d}.png"


@dataclass
class RoomPhotos:
    """Room ``seed``, its photos (N, 3, H, W), their cameras and ground-truth
    depth (N, H, W) (inf where nothing is hit)."""

    seed: int
    room: Scene
    cameras: list[PinholeCamera] = field(default_factory=list)
    images: Tensor | None = None
    depth: Tensor | None = None

    def object_names(self) -> dict[int, str]:
        return {o.object_id: o.name for o in self.room.objects}


def _stations(rng: np.random.Generator, renderer: Renderer, k: int, directions: int,
              per_direction: int, step: float, lo: np.ndarray, hi: np.ndarray, width: int,
              height: int, fov_deg: float, tries: int = 50) -> list[PinholeCamera]:
    centre = (lo[:2] + hi[:2]) / 2
    half = (hi[:2] - lo[:2]) / 2 - 0.4
    for _ in range(tries):
        phi = 2 * math.pi * k / directions + math.radians(rng.uniform(-10, 10))
        d = np.array([math.cos(phi), math.sin(phi)])
        side = np.array([-d[1], d[0]])
        with np.errstate(divide="ignore"):
            reach = float(np.min(half / np.abs(d)))
        base = centre - d * reach * rng.uniform(0.5, 1.0) + side * rng.uniform(-0.8, 0.8)
        target = centre + d * reach * rng.uniform(0.6, 1.0) + side * rng.uniform(-0.4, 0.4)
        tz = lo[2] + rng.uniform(0.6, 1.1)
        ez = lo[2] + rng.uniform(1.4, 1.8)
        cams = []
        for i in range(per_direction):
            offset = (i - (per_direction - 1) / 2) * step
            eye = np.clip(base + side * offset, centre - half, centre + half)
            z = ez + rng.uniform(-0.1, 0.1)
            cams.append(PinholeCamera.look_at([*eye, z], [*target, tz], up=(0, 0, 1),
                                              width=width, height=height, fov_deg=fov_deg))
        probes = [renderer.render(c.scaled(96 / width)).depth for c in cams]
        if all(bool(torch.isfinite(p).any()) and float(p[torch.isfinite(p)].min()) > 0.6
               for p in probes):
            return cams
    raise RuntimeError(f"room: no clear station for direction {k} in {tries} tries")


def render_room_photos(seed: int, directions: int = 8, per_direction: int = 3,
                       width: int = 640, height: int = 480, fov_deg: float = DEFAULT_FOV_DEG,
                       step: float = 0.3, supersample: int = 2,
                       progress: bool | None = None) -> RoomPhotos:
    """Room ``make_room(seed)`` in ``directions x per_direction`` photos of
    ``width`` x ``height`` (module docstring), anti-aliased with
    ``supersample`` x ``supersample`` rays per pixel as a camera's optics
    would; seeded: the same arguments give the same bytes."""
    for name, value, least in (("directions", directions, 1), ("per_direction", per_direction, 1),
                               ("width", width, 16), ("height", height, 16),
                               ("supersample", supersample, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name}: expected an integer >= {least}, got {value!r}")
    if not 0 < fov_deg < 150:
        raise ValueError(f"fov_deg: expected in (0, 150) degrees, got {fov_deg}")
    room = make_room(seed)
    renderer = Renderer(room)
    lo, hi = room_box(room)
    out = RoomPhotos(seed, room)
    for k in range(directions):
        rng = np.random.default_rng([seed, 29, k])
        out.cameras += _stations(rng, renderer, k, directions, per_direction, step, lo, hi,
                                 width, height, fov_deg)
    images, depth = [], []
    for cam in tqdm(out.cameras, desc="rendering photos", leave=False,
                    disable=None if progress is None else not progress):
        r = renderer.render(cam, supersample)
        images.append(r.color.float())
        depth.append(r.depth.float())
    out.images, out.depth = torch.stack(images), torch.stack(depth)
    return out


def sparse_points(photos: RoomPhotos, points_per_photo: int = 300, tolerance: float = 0.01
                  ) -> tuple[Tensor, Tensor, list[list[tuple[int, float, float]]]]:
    """Sparse 3-D points (P, 3), colours (P, 3) and observations (per point
    the (photo, u, v) that see it) from the rendered depth (module docstring)."""
    n, _, H, W = photos.images.shape
    side = max(1, int(math.sqrt(points_per_photo * W / H)))
    cols = np.linspace(0, W - 1, side).round().astype(int)
    rows = np.linspace(0, H - 1, max(1, points_per_photo // side)).round().astype(int)
    pts, rgb, obs = [], [], []
    for k, cam in enumerate(photos.cameras):
        d = photos.depth[k].double()
        sub = torch.full_like(d, torch.nan)
        ii, jj = np.meshgrid(rows, cols, indexing="ij")
        sub[ii, jj] = d[ii, jj]
        X, valid = cam.unproject(torch.where(torch.isfinite(sub), sub, torch.nan))
        X = X[valid]
        color = photos.images[k].permute(1, 2, 0)[valid]
        seen = []
        for j, other in enumerate(photos.cameras):
            uv, z = other.project(X)
            u, v = uv[:, 0], uv[:, 1]
            inside = (z > 0) & (u >= 0) & (u < W) & (v >= 0) & (v < H)
            ju = u.floor().long().clamp(0, W - 1)
            iv = v.floor().long().clamp(0, H - 1)
            dz = photos.depth[j].double()[iv, ju]
            ok = inside & torch.isfinite(dz) & ((dz - z).abs() <= tolerance * z)
            seen.append((ok, uv))
        for p in range(len(X)):
            track = [(j, float(uv[p, 0]), float(uv[p, 1])) for j, (ok, uv) in enumerate(seen)
                     if bool(ok[p])]
            if len(track) >= 2:
                pts.append(X[p])
                rgb.append(color[p])
                obs.append(track)
    if not pts:
        return torch.zeros(0, 3, dtype=torch.float64), torch.zeros(0, 3), []
    return torch.stack(pts), torch.stack(rgb).float(), obs


def photos_index(photos: RoomPhotos) -> dict:
    """The project's ``captures.json``: seed, room size, object id -> name,
    the photos' names (so :func:`~geodl.recon.load_room_ground_truth` reads
    the object names as for light-field captures)."""
    lo, hi = room_box(photos.room)
    return room_index("colmap", photos.seed, hi - lo, photos.object_names(),
                      photos=[photo_name(k) for k in range(len(photos.cameras))],
                      model=str(MODEL))


def _owned(folder: Path) -> list[Path]:
    """The files of a photos project (``overwrite`` replaces only these)."""
    files = [folder / GROUND_TRUTH_FILE, folder / INDEX_FILE]
    files += [folder / MODEL / f"{n}.txt" for n in ("cameras", "images", "points3D")]
    files += sorted((folder / IMAGES).glob("photo_*.png"))
    return [f for f in files if f.is_file()]


def write_room_photos(out: str | Path, seed: int, directions: int = 8, per_direction: int = 3,
                      width: int = 640, height: int = 480, fov_deg: float = DEFAULT_FOV_DEG,
                      step: float = 0.3, supersample: int = 2, points_per_photo: int = 300,
                      overwrite: bool = False, progress: bool | None = None
                      ) -> tuple[Path, RoomPhotos]:
    """Render room ``seed``'s photos (:func:`render_room_photos`) and write a
    COLMAP project into ``out``: ``images/photo_<kkk>.png``, ``sparse/0/``
    (cameras, images and points in COLMAP's text format), ``room_gt.ply``
    and ``captures.json`` (:func:`photos_index`). A non-empty ``out`` is
    refused unless ``overwrite``, which replaces only these files; written
    into a temporary sibling first."""
    out = check_output_folder(out, overwrite, "the photos in it")
    photos = render_room_photos(seed, directions, per_direction, width, height, fov_deg, step,
                                supersample, progress)
    pts, rgb, obs = sparse_points(photos, points_per_photo)
    out.parent.mkdir(parents=True, exist_ok=True)
    with staging_folder(out) as tmp:
        (tmp / IMAGES).mkdir()
        names = [photo_name(k) for k in range(len(photos.cameras))]
        for name, img in zip(names, photos.images):
            arr = np.clip(np.rint(img.permute(1, 2, 0).numpy() * 255), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(tmp / IMAGES / name)
        write_colmap_text(tmp / MODEL, photos.cameras, names, pts, rgb, obs)
        mesh, ids, _ = scene_ground_truth(photos.room)
        write_room_ground_truth(tmp / GROUND_TRUTH_FILE, mesh, ids)
        write_room_index(tmp, photos_index(photos))
        if out.is_dir():
            for f in _owned(out):
                f.unlink()
        for item in sorted(p for p in tmp.rglob("*") if p.is_file()):
            target = out / item.relative_to(tmp)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(item, target)
    return out, photos
