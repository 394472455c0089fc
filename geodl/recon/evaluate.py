r"""Accuracy, completeness, Chamfer, precision, recall and F-score of a reconstruction.

The definitions of Tanks and Temples (Knapitsch et al. 2017) and Atlas
(Murez et al. 2020; also NeuralRecon, SimpleRecon), with exact
point-to-surface distances. Both meshes are sampled uniformly by area
(seeded): :math:`P` on the prediction, :math:`G` on the ground truth, where
:math:`G` keeps only the samples that at least one camera sees. With
:math:`d(p, S)` the distance from a point to the nearest point of the
*triangles* of surface :math:`S`:

.. math::
    \mathrm{acc} = \operatorname{mean}_{p\in P} d(p, S_{gt}), \quad
    \mathrm{comp} = \operatorname{mean}_{g\in G} d(g, S_{pred}), \quad
    \mathrm{chamfer} = \tfrac12(\mathrm{acc} + \mathrm{comp}),

.. math::
    \mathrm{prec} = \operatorname{mean}_{p\in P} [d(p, S_{gt}) < t], \quad
    \mathrm{rec} = \operatorname{mean}_{g\in G} [d(g, S_{pred}) < t], \quad
    F = \frac{2\,\mathrm{prec}\,\mathrm{rec}}{\mathrm{prec} + \mathrm{rec}}.

Atlas measures point-to-point distances between the two sampled clouds,
which adds the sampling spacing to every distance; here
:math:`d(\cdot, S)` is to the exact surface, computed by Open3D's
``RaycastingScene.compute_distance`` (closest point on the triangles, float32).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from geodl._optional import open3d
from geodl.structures import Mesh, PinholeCamera


@dataclass
class ReconstructionMetrics:
    """Metrics of :func:`evaluate_reconstruction` (distances in metres).

    ``num_pred_samples`` and ``num_gt_samples`` count the samples used
    (ground truth after the visibility test); ``visible_fraction`` is the
    share of ground-truth samples some camera sees."""

    accuracy: float
    completeness: float
    chamfer: float
    precision: float
    recall: float
    fscore: float
    threshold: float
    num_pred_samples: int
    num_gt_samples: int
    visible_fraction: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def sample_surface(mesh: Mesh, n: int, seed: int = 0) -> np.ndarray:
    r"""(n, 3) float64 points uniform by area on ``mesh``.

    Triangle :math:`i` is drawn with probability :math:`A_i / \sum A`, then a
    point :math:`(1-\sqrt{r_1})a + \sqrt{r_1}(1-r_2)b + \sqrt{r_1}r_2 c`
    with :math:`r_1, r_2 \sim U[0, 1)` (uniform on the triangle). Seeded:
    the same mesh, ``n`` and ``seed`` give the same points."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"samples: expected a positive int, got {n!r}")
    areas = mesh.face_areas.numpy()
    total = areas.sum()
    if not total > 0:
        raise ValueError("mesh: has zero surface area, nothing to sample")
    rng = np.random.default_rng(seed)
    face = rng.choice(len(areas), size=int(n), p=areas / total)
    r1, r2 = rng.random(int(n)), rng.random(int(n))
    s = np.sqrt(r1)
    v = mesh.verts64.numpy()
    tri = v[mesh.faces.numpy()[face]]  # (n, 3, 3)
    return ((1 - s)[:, None] * tri[:, 0] + (s * (1 - r2))[:, None] * tri[:, 1]
            + (s * r2)[:, None] * tri[:, 2])


def _scene(mesh: Mesh):
    o3d = open3d()
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(mesh.verts64.numpy().astype(np.float32)),
                        o3d.core.Tensor(mesh.faces.numpy().astype(np.uint32)))
    return scene


def surface_distance(points: np.ndarray, mesh: Mesh, scene: Any = None) -> np.ndarray:
    """(N,) distance from each of (N, 3) ``points`` to the closest point of
    ``mesh``'s triangles (Open3D ``RaycastingScene.compute_distance``, exact
    up to float32)."""
    o3d = open3d()
    scene = _scene(mesh) if scene is None else scene
    q = o3d.core.Tensor(np.ascontiguousarray(points, dtype=np.float32))
    return scene.compute_distance(q).numpy().astype(np.float64)


def visible_mask(points: np.ndarray, mesh: Mesh, cameras: Sequence[PinholeCamera],
                 tol: float, scene: Any = None) -> np.ndarray:
    """(N,) bool: which of (N, 3) points on ``mesh`` at least one camera sees.

    A point is seen by a camera when it projects inside the image, in front
    of the camera, and the ray from the camera centre through the point first
    hits ``mesh`` no more than ``tol`` metres before the point (the depth test
    against the mesh's own ray-cast depth, at the point's exact sub-pixel
    position rather than the pixel centre, whose depth differs on a slanted
    surface by up to :math:`z \\tan\\theta / f` and would need a looser tolerance)."""
    o3d = open3d()
    scene = _scene(mesh) if scene is None else scene
    seen = np.zeros(len(points), bool)
    for cam in cameras:
        uv, z = cam.project(points)
        uv, z = uv.numpy(), z.numpy()
        inside = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < cam.width) \
            & (uv[:, 1] >= 0) & (uv[:, 1] < cam.height) & ~seen
        idx = np.flatnonzero(inside)
        if idx.size == 0:
            continue
        centre = cam.center.numpy()
        direction = points[idx] - centre  # unnormalised: the point itself is at t = 1
        dist = np.linalg.norm(direction, axis=1)
        rays = np.concatenate([np.broadcast_to(centre, direction.shape), direction], 1)
        t = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))["t_hit"].numpy()
        # the first hit lies at (1 - t) * dist before the point; inf (a miss,
        # float32 round-off at grazing angles) counts as visible
        seen[idx] = (1.0 - t) * dist <= tol
    return seen


def _check_mesh(value: Any, name: str) -> Mesh:
    if not isinstance(value, Mesh):
        raise TypeError(f"{name}: expected a geodl Mesh, got {type(value).__name__}")
    if not value.area > 0:
        raise ValueError(f"{name}: has zero surface area")
    return value


def evaluate_reconstruction(pred_mesh: Mesh, gt_mesh: Mesh,
                            cameras: Sequence[PinholeCamera] | None,
                            threshold: float = 0.05, samples: int = 100_000, seed: int = 0,
                            visibility_tol: float = 0.02) -> ReconstructionMetrics:
    """Accuracy, completeness, Chamfer, precision, recall, F-score (module docstring).

    Args:
        pred_mesh: the reconstruction.
        gt_mesh: the ground-truth surface (e.g. the room's meshes in one ``Mesh``).
        cameras: the captures' cameras. The ground truth is restricted to the
            surface at least one of them sees: a ground-truth sample counts
            when it projects inside a camera's image and the camera's ray
            through it hits ``gt_mesh`` no more than ``visibility_tol``
            metres in front of it (see :func:`visible_mask`). ``None``: no
            restriction (the whole ground truth).
        threshold: distance (m) under which a sample counts as correct
            (precision) or covered (recall); 0.05 = the usual "F-score at 5 cm".
        samples: points sampled on each mesh, uniform by area, before the
            visibility test.
        seed: seeds both samplings.
        visibility_tol: the depth-test tolerance in metres (default 2 cm:
            far above float32 ray casting's error at room scale, below the
            thickness of any object behind which a surface could hide).

    Returns:
        :class:`ReconstructionMetrics`.
    """
    pred_mesh = _check_mesh(pred_mesh, "pred_mesh")
    gt_mesh = _check_mesh(gt_mesh, "gt_mesh")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold: expected a positive distance in metres, got {threshold!r}")
    if not (isinstance(visibility_tol, (int, float)) and math.isfinite(visibility_tol)
            and visibility_tol > 0):
        raise ValueError(f"visibility_tol: expected a positive distance in metres, "
                         f"got {visibility_tol!r}")
    if cameras is not None:
        cameras = list(cameras)
        if not cameras:
            raise ValueError("cameras: expected at least one PinholeCamera (or None for "
                             "no visibility restriction), got none")
        for i, c in enumerate(cameras):
            if not isinstance(c, PinholeCamera):
                raise TypeError(f"cameras[{i}]: expected a PinholeCamera, got {type(c).__name__}")
    pred_pts = sample_surface(pred_mesh, samples, seed)
    gt_pts = sample_surface(gt_mesh, samples, seed + 1)
    gt_scene = _scene(gt_mesh)
    if cameras is not None:
        vis = visible_mask(gt_pts, gt_mesh, cameras, float(visibility_tol), gt_scene)
        if not vis.any():
            raise ValueError("cameras: none of them sees any of the ground-truth surface")
        visible_fraction = float(vis.mean())
        gt_pts = gt_pts[vis]
    else:
        visible_fraction = 1.0
    d_pred = surface_distance(pred_pts, gt_mesh, gt_scene)   # pred -> gt
    d_gt = surface_distance(gt_pts, pred_mesh)                # gt -> pred
    acc, comp = float(d_pred.mean()), float(d_gt.mean())
    prec, rec = float((d_pred < threshold).mean()), float((d_gt < threshold).mean())
    f = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return ReconstructionMetrics(acc, comp, 0.5 * (acc + comp), prec, rec, f, float(threshold),
                                 len(pred_pts), len(gt_pts), visible_fraction)
