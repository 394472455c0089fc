"""Procedural rooms: seeded scenes of textured meshes with object ids.

A ``Scene`` is a list of ``SceneObject`` (a ``Mesh``, an id and a solid
texture: a colour function of the 3D hit point, so no UV maps are needed).
``make_room(seed)`` builds a box room (floor, ceiling, four walls) with
furniture: tables and cabinets (boxes), pillars (cylinders), balls (spheres)
and thin structures (chair-like legs, shelves). Units: metres, z up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from geodl._optional import trimesh
from geodl.structures import Mesh

Texture = Callable[[np.ndarray], np.ndarray]  # (N, 3) points -> (N, 3) RGB in [0, 1]


def checker(c1, c2, size: float) -> Texture:
    a, b = np.asarray(c1, float), np.asarray(c2, float)

    def f(p: np.ndarray) -> np.ndarray:
        k = np.floor(p / size).sum(1).astype(int) % 2
        return np.where(k[:, None] == 0, a, b)
    return f


def stripes(c1, c2, period: float, axis: int) -> Texture:
    a, b = np.asarray(c1, float), np.asarray(c2, float)

    def f(p: np.ndarray) -> np.ndarray:
        t = 0.5 + 0.5 * np.sin(2 * math.pi * p[:, axis] / period)
        return a * t[:, None] + b * (1 - t[:, None])
    return f


def noise(base, amplitude: float, scale: float, seed: int) -> Texture:
    """Smooth value noise: a sum of random 3D sinusoids."""
    rng = np.random.default_rng(seed)
    k = rng.normal(size=(8, 3)) / scale
    ph = rng.uniform(0, 2 * math.pi, 8)
    col = rng.uniform(-1, 1, (8, 3))
    base = np.asarray(base, float)

    def f(p: np.ndarray) -> np.ndarray:
        s = np.sin(p @ k.T + ph)  # (N, 8)
        return np.clip(base + amplitude * (s @ col) / 8, 0, 1)
    return f


@dataclass
class SceneObject:
    mesh: Mesh
    object_id: int
    texture: Texture
    name: str = ""


@dataclass
class Scene:
    objects: list[SceneObject] = field(default_factory=list)

    def add(self, mesh: Mesh, texture: Texture, name: str = "") -> int:
        oid = len(self.objects) + 1  # 0 means "no hit"
        self.objects.append(SceneObject(mesh, oid, texture, name))
        return oid

    def to_mesh(self) -> Mesh:
        """All objects as one ground-truth ``Mesh``."""
        verts, faces, off = [], [], 0
        for o in self.objects:
            verts.append(o.mesh.verts64)
            faces.append(o.mesh.faces + off)
            off += o.mesh.num_verts
        return Mesh(torch.cat(verts), torch.cat(faces))


def _box(extent, center) -> Mesh:
    m = trimesh().creation.box(extents=extent)
    m.apply_translation(center)
    return Mesh.from_trimesh(m)


def _cylinder(radius, height, center, sections=24) -> Mesh:
    m = trimesh().creation.cylinder(radius=radius, height=height, sections=sections)
    m.apply_translation(center)
    return Mesh.from_trimesh(m)


def _sphere(radius, center) -> Mesh:
    m = trimesh().creation.icosphere(subdivisions=3, radius=radius)
    m.apply_translation(center)
    return Mesh.from_trimesh(m)


def _flipped(mesh: Mesh) -> Mesh:
    """Faces reversed: a box seen from inside (the room shell)."""
    return Mesh(mesh.verts64, mesh.faces.flip(1))


def make_room(seed: int, size=(6.0, 5.0, 3.0), n_furniture: int = 6) -> Scene:
    """A seeded room: shell (floor, walls, ceiling as one inward box per
    surface) and ``n_furniture`` random pieces placed on the floor."""
    rng = np.random.default_rng(seed)
    W, D, H = size
    s = Scene()
    t = 0.05  # surface thickness
    s.add(_box((W, D, t), (0, 0, -t / 2)), checker((0.8, 0.75, 0.6), (0.4, 0.3, 0.25), 0.5), "floor")
    s.add(_box((W, D, t), (0, 0, H + t / 2)), noise((0.9, 0.9, 0.88), 0.1, 0.7, seed), "ceiling")
    wall_tex = [stripes((0.85, 0.8, 0.7), (0.6, 0.65, 0.75), 0.4, 2),
                noise((0.7, 0.75, 0.7), 0.3, 0.3, seed + 1),
                checker((0.9, 0.9, 0.9), (0.2, 0.3, 0.5), 0.3),
                stripes((0.8, 0.5, 0.4), (0.95, 0.9, 0.8), 0.25, 0)]
    s.add(_box((t, D, H), (-W / 2 - t / 2, 0, H / 2)), wall_tex[0], "wall_x-")
    s.add(_box((t, D, H), (W / 2 + t / 2, 0, H / 2)), wall_tex[1], "wall_x+")
    s.add(_box((W, t, H), (0, -D / 2 - t / 2, H / 2)), wall_tex[2], "wall_y-")
    s.add(_box((W, t, H), (0, D / 2 + t / 2, H / 2)), wall_tex[3], "wall_y+")
    for k in range(n_furniture):
        kind = rng.choice(["table", "cabinet", "pillar", "ball", "chair", "shelf"])
        x, y = rng.uniform(-W / 2 + 0.8, W / 2 - 0.8), rng.uniform(-D / 2 + 0.8, D / 2 - 0.8)
        tex = noise(rng.uniform(0.2, 0.9, 3), 0.35, rng.uniform(0.05, 0.3), seed * 100 + k)
        if kind == "table":
            top = rng.uniform(0.6, 0.8)
            s.add(_box((1.2, 0.7, 0.04), (x, y, top)), tex, "table_top")
            for dx in (-0.55, 0.55):
                for dy in (-0.3, 0.3):
                    s.add(_cylinder(0.025, top, (x + dx, y + dy, top / 2), 12), tex, "table_leg")
        elif kind == "cabinet":
            h = rng.uniform(0.8, 1.8)
            s.add(_box((rng.uniform(0.4, 1.0), rng.uniform(0.3, 0.6), h), (x, y, h / 2)), tex,
                  "cabinet")
        elif kind == "pillar":
            s.add(_cylinder(rng.uniform(0.1, 0.25), H, (x, y, H / 2)), tex, "pillar")
        elif kind == "ball":
            r = rng.uniform(0.15, 0.4)
            s.add(_sphere(r, (x, y, r)), tex, "ball")
        elif kind == "chair":
            seat = 0.45
            s.add(_box((0.45, 0.45, 0.03), (x, y, seat)), tex, "chair_seat")
            for dx in (-0.2, 0.2):
                for dy in (-0.2, 0.2):
                    s.add(_cylinder(0.015, seat, (x + dx, y + dy, seat / 2), 8), tex, "chair_leg")
            s.add(_box((0.45, 0.03, 0.45), (x, y + 0.21, seat + 0.24)), tex, "chair_back")
        else:  # shelf: thin boards on two side panels
            h = rng.uniform(1.2, 2.0)
            for dx in (-0.45, 0.45):
                s.add(_box((0.02, 0.3, h), (x + dx, y, h / 2)), tex, "shelf_side")
            for z in np.linspace(0.1, h - 0.05, 4):
                s.add(_box((0.9, 0.3, 0.02), (x, y, z)), tex, "shelf_board")
    return s
