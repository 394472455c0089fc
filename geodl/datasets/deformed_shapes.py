r"""Procedural shapes for intrinsic-vs-extrinsic studies: seeded recipes of
non-rigidly deformed, remeshed surfaces with exact ground-truth correspondence.

Every shape is the image of the unit sphere :math:`S^2` under a map
:math:`p(\mathbf{u}) = R\,\big(D(r_c(\mathbf{u})\,\mathbf{u})\big)` where

* :math:`r_c` is the radial profile of class :math:`c` (sphere, ellipsoid,
  peanut, four-bump, five-ridge star: star-shaped, genus 0);
* :math:`D` is a smooth non-rigid deformation, a bend of the long axis plus a
  low-frequency random displacement field, nearly isometric for small
  amplitudes;
* :math:`R` a random rotation.

*Remeshing*: each sample triangulates the sphere anew (an icosphere at a
random level, randomly rotated and jittered along the sphere, then QEM
simplified to a random vertex count), so two samples never share
connectivity. Each vertex keeps its sphere coordinate :math:`\mathbf{u}`, which
is the ground-truth correspondence: vertex :math:`i` of shape A and the point
of shape B with the same :math:`\mathbf{u}` are the same material point.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from geodl.ops.rotations import random_rotation
from geodl.structures import Mesh

CLASSES = ("sphere", "ellipsoid", "peanut", "four_bumps", "star")
# An asymmetric profile (no mirror or rotation symmetry) for correspondence:
# on symmetric shapes intrinsic descriptors cannot tell symmetric points apart.
BLOB = len(CLASSES)


def radial_profile(cls: int, u: Tensor) -> Tensor:
    """(V,) radius of class ``cls`` in unit direction ``u`` (V, 3)."""
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    if cls == 0:
        return torch.ones_like(x)
    if cls == 1:
        return 1.0 / torch.sqrt((x / 1.6) ** 2 + (y / 0.9) ** 2 + (z / 0.7) ** 2)
    if cls == 2:
        return 0.8 + 0.5 * x ** 2 - 0.25 * (y ** 2 + z ** 2) + 0.3 * x ** 4
    if cls == 3:
        return 1.0 + 0.35 * torch.relu(torch.abs(x) - 0.5) * 2 + 0.35 * torch.relu(torch.abs(y) - 0.5) * 2
    if cls == 4:
        phi = torch.atan2(y, x)
        return 1.0 + 0.3 * torch.cos(5 * phi) * (1 - z ** 2)
    if cls == BLOB:
        return 1.0 + 0.3 * x + 0.35 * torch.relu(z) ** 3 + 0.25 * y * z + 0.15 * torch.relu(-y) ** 2
    raise ValueError(f"cls: expected 0..{len(CLASSES)} (the last is BLOB), got {cls}")


@dataclass
class DeformedShape:
    """A sample: the mesh, its class, and each vertex's sphere coordinate."""

    mesh: Mesh
    label: int
    sphere_coords: Tensor  # (V, 3) unit vectors: the ground-truth correspondence


def _sphere_mesh(gen: torch.Generator, min_verts: int, max_verts: int) -> tuple[Tensor, Tensor]:
    level = int(torch.randint(3, 5, (1,), generator=gen))  # 642 or 2562 vertices
    base = Mesh.icosphere(level)
    seed = int(torch.randint(0, 2 ** 31 - 1, (1,), generator=gen))
    v = base.verts64 @ random_rotation(seed).T
    jitter = 0.25 * base.mean_edge_length * torch.randn(v.shape, generator=gen, dtype=torch.float64)
    v = v + jitter - (jitter * v).sum(1, keepdim=True) * v  # tangent jitter
    v = v / v.norm(dim=1, keepdim=True)
    target = int(torch.randint(min_verts, max_verts + 1, (1,), generator=gen))
    if target < v.shape[0]:
        coarse, _ = Mesh(v, base.faces).simplify(target)
        v = coarse.verts64 / coarse.verts64.norm(dim=1, keepdim=True)
        return v, coarse.faces
    return v, base.faces


def deform(points: Tensor, gen: torch.Generator, amplitude: float = 0.15) -> Tensor:
    """Smooth non-rigid deformation: bend about the y axis plus a random
    low-frequency displacement field (three random sinusoidal modes)."""
    p = points.clone()
    bend = amplitude * (2 * float(torch.rand(1, generator=gen)) - 1)
    x = p[:, 0]
    p[:, 2] = p[:, 2] + bend * x ** 2
    for _ in range(3):
        k = torch.randn(3, generator=gen, dtype=torch.float64) * 1.5
        d = torch.randn(3, generator=gen, dtype=torch.float64)
        d = d / d.norm() * amplitude * 0.3
        phase = 2 * math.pi * float(torch.rand(1, generator=gen))
        p = p + torch.sin(p @ k + phase)[:, None] * d
    return p


def make_shape(cls: int, seed: int, min_verts: int = 400, max_verts: int = 900,
               deformation: float = 0.15, rotate: bool = True) -> DeformedShape:
    """One seeded sample of class ``cls`` (same seed, same bytes)."""
    gen = torch.Generator().manual_seed(seed * len(CLASSES) + cls)  # distinct per class
    u, faces = _sphere_mesh(gen, min_verts, max_verts)
    p = deform(radial_profile(cls, u)[:, None] * u, gen, deformation)
    if rotate:
        p = p @ random_rotation(int(torch.randint(0, 2 ** 31 - 1, (1,), generator=gen))).T
    return DeformedShape(Mesh(p, faces), cls, u)


def template(cls: int = BLOB, level: int = 3) -> DeformedShape:
    """The undeformed, unrotated shape on a plain icosphere: the reference
    whose vertices are the labels of the correspondence task."""
    base = Mesh.icosphere(level)
    u = base.verts64
    return DeformedShape(Mesh(radial_profile(cls, u)[:, None] * u, base.faces), cls, u)


def correspondence(source: DeformedShape, target: DeformedShape) -> Tensor:
    """(V_source,) index of the target vertex whose sphere coordinate is
    closest to each source vertex's: the ground-truth map, up to the target's
    sampling."""
    return torch.cdist(source.sphere_coords, target.sphere_coords).argmin(dim=1)
