"""Procedural rooms: seeded scenes of textured meshes with object ids.

A ``Scene`` is a list of ``SceneObject`` (a ``Mesh``, an id and a
``Texture`` from ``geodl.render.textures``: procedural patterns or
box-projected photographs). ``make_room(seed)`` builds a box room (floor,
ceiling, four walls, framed photographs on the walls) with furniture: tables
and cabinets (boxes), pillars (cylinders), balls (spheres) and thin
structures (chair-like legs, shelves). Units: metres, z up.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from geodl._optional import trimesh
from geodl.render.textures import COLOR_PHOTOS, Texture, checker, load_photo, noise, photo, stripes
from geodl.structures import Mesh


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
    # fine enough (about 2 degrees between facets) to read as a smooth surface
    m = trimesh().creation.icosphere(subdivisions=5, radius=radius)
    m.apply_translation(center)
    return Mesh.from_trimesh(m)


def _add_picture(s: Scene, name: str, rng: np.random.Generator, W: float, D: float,
                 axis: int, inward: int, mirror: bool, depth: float = 0.02) -> None:
    """A photograph ``name`` as a thin panel on the wall normal to ``axis``
    (x = 0, y = 1) at coordinate ``-inward * (W or D) / 2``, the image filling
    the panel exactly and upright."""
    img_h, img_w = load_photo(name).shape[:2]
    size = rng.uniform(0.6, 1.2)  # the longer side, metres
    w, h = size * img_w / max(img_h, img_w), size * img_h / max(img_h, img_w)
    span = D if axis == 0 else W
    centre_s = rng.uniform(-span / 2 + w, span / 2 - w)
    bottom = rng.uniform(0.9, 1.5)
    wall = -inward * (W if axis == 0 else D) / 2
    normal_coord = wall + inward * depth / 2
    if axis == 0:
        mesh = _box((depth, w, h), (normal_coord, centre_s, bottom + h / 2))
    else:
        mesh = _box((w, depth, h), (centre_s, normal_coord, bottom + h / 2))
    sign = -1 if mirror else 1
    offset = (sign * centre_s - w / 2, -(bottom + h))
    s.add(mesh, photo(name, size, offset=offset, mirror=mirror), "picture")


def make_room(seed: int, size=(6.0, 5.0, 3.0), n_furniture: int = 6) -> Scene:
    """A seeded room: shell (floor, walls, ceiling as one box per surface)
    with seeded looks (procedural patterns or photographs), a photograph
    hung on each wall, and ``n_furniture`` random pieces placed on the floor."""
    rng = np.random.default_rng(seed)
    W, D, H = size
    s = Scene()
    t = 0.05  # surface thickness
    # Surface looks come from their own random stream, so the furniture layout
    # of a seed does not depend on them.
    looks = np.random.default_rng([seed, 1])
    floors = [checker((0.8, 0.75, 0.6), (0.4, 0.3, 0.25), 0.5),
              photo("gravel", 1.2, tint=(0.85, 0.75, 0.6)),
              photo("brick", 1.5, tint=(0.8, 0.6, 0.5))]
    s.add(_box((W, D, t), (0, 0, -t / 2)), floors[looks.integers(len(floors))], "floor")
    s.add(_box((W, D, t), (0, 0, H + t / 2)), noise((0.9, 0.9, 0.88), 0.1, 0.7, seed), "ceiling")
    wall_looks = [stripes((0.85, 0.8, 0.7), (0.6, 0.65, 0.75), 0.4, 2),
                  noise((0.7, 0.75, 0.7), 0.3, 0.3, seed + 1),
                  checker((0.9, 0.9, 0.9), (0.2, 0.3, 0.5), 0.3),
                  stripes((0.8, 0.5, 0.4), (0.95, 0.9, 0.8), 0.25, 0),
                  photo("brick", 1.0, tint=(0.95, 0.7, 0.6)),
                  photo("grass", 0.8, tint=(0.7, 0.85, 0.75))]
    # (name, box extent, box centre, wall axis, inward sign, mirror: whether s
    # runs right to left for a viewer inside the room)
    walls = [("wall_x-", (t, D, H), (-W / 2 - t / 2, 0, H / 2), 0, 1, False),
             ("wall_x+", (t, D, H), (W / 2 + t / 2, 0, H / 2), 0, -1, True),
             ("wall_y-", (W, t, H), (0, -D / 2 - t / 2, H / 2), 1, 1, True),
             ("wall_y+", (W, t, H), (0, D / 2 + t / 2, H / 2), 1, -1, False)]
    wall_choice = looks.permutation(len(wall_looks))
    pictures = looks.permutation(len(COLOR_PHOTOS))
    for k, (name, extent, centre, axis, inward, mirror) in enumerate(walls):
        s.add(_box(extent, centre), wall_looks[wall_choice[k]], name)
        _add_picture(s, COLOR_PHOTOS[pictures[k]], looks, W, D, axis, inward, mirror)
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
            s.add(_cylinder(rng.uniform(0.1, 0.25), H, (x, y, H / 2), 96), tex, "pillar")
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
