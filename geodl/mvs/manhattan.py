r"""The scene's dominant plane normals and bounds, for the textureless fill.

Rooms are built of a few plane orientations: a horizontal floor and ceiling,
walls at right angles (the Manhattan world of Coughlan and Yuille, ICCV 1999;
used for stereo by Furukawa, Curless, Seitz and Szeliski, CVPR 2009). Where
the fill (:mod:`geodl.mvs.textureless`) has only a line of evidence, as on a
flat ceiling seen above the line where the walls stop, any plane through
that line fits it and the free RANSAC plane tilts about it (training room 0:
48 % of the ceiling's pixels filled, 6 % of them within 2 % of the true
depth). A plane of known normal has one free parameter, which a line fixes.

1. **Up**: the mean of the cameras' up axes (:func:`camera_up`), the
   assumption that most photos are taken upright that COLMAP's
   ``model_orientation_aligner`` also makes; only a rough guide.
2. **Planes** (:func:`manhattan_frame`): Open3D's RANSAC
   (``segment_plane``) finds the ``planes`` largest planes among the views'
   consistent points, one after another. The normals within ``angle`` of the
   rough up average (weighted by inliers) to the scene's up; the normals
   within ``angle`` of horizontal, folded modulo 90 degrees about up (their
   circular mean of :math:`4\theta`), give the two wall directions. From the
   planes, not from per-pixel normals: a plane-sweep depth map is quantised
   in inverse depth, and its pixel normals put the wall directions 2-4
   degrees off (training rooms 0-5) where the planes put them within 1.
3. **Bounds**: the consistent points' 0.5 and 99.5 percentiles along the
   three axes, grown by ``margin`` of the box's diagonal. A filled plane
   whose points leave this box (:func:`within_bounds`) is not taken: the
   wall's plane extended past the ceiling fits the ceiling's border line as
   well as the ceiling does, but lies outside the room.

:func:`plane_directions` turns the normals into the fill's plane families in
a view's displacement map: the plane :math:`n^\top X = h` of a camera
:math:`(K, R, C)` has displacement
:math:`\delta(p) = f B / z = s\, a^\top p` with
:math:`a = f B\, T^\top K^{-\top} R\, n` and
:math:`s = 1 / (h - n^\top C)`, where :math:`T` maps the fill's plane
coordinates :math:`p = (x, y, 1)` to pixels.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from geodl._optional import open3d
from geodl.structures import PinholeCamera

#: the largest planes searched among the consistent points
PLANES = 8
#: RANSAC inlier distance, a share of the consistent points' extent (1-99
#: percentile box diagonal): 3-4 cm in a 6 x 5 x 3 m room
PLANE_DISTANCE = 0.005
#: a plane whose normal lies within this many degrees of up is a floor or
#: ceiling, within this many of horizontal a wall
ANGLE = 15.0
#: the bounds grow by this share of their diagonal (17 cm in the rooms)
MARGIN = 0.02
#: a filled plane is taken when at least this share of its pixels fall within
#: the bounds (training rooms 0-5, experiments/README.md#photos-manhattan-planes)
INSIDE = 0.8


@dataclass
class ManhattanFrame:
    """The scene's dominant directions and bounds (module docstring).

    Attributes:
        axes: (3, 3) float64 orthonormal rows: up, then two horizontal axes
            (the wall normals where walls were found).
        normals: how many leading rows of ``axes`` are scene normals the fill
            may use: 1 (up only, no wall found) or 3.
        low, high: (3,) float64 bounds of the scene along ``axes``.
    """

    axes: Tensor
    normals: int
    low: Tensor
    high: Tensor


def camera_up(cameras: Sequence[PinholeCamera]) -> Tensor:
    """(3,) float64 unit vector: the mean of the cameras' up axes (the
    reversed image y axis, OpenCV frame) in world coordinates."""
    if len(cameras) == 0:
        raise ValueError("cameras: expected at least one camera")
    up = -torch.stack([c.R[1] for c in cameras]).mean(0)  # R's rows are the camera axes in world
    if float(up.norm()) < 1e-6:
        raise ValueError("cameras: their up axes cancel out; the scene has no up")
    return up / up.norm()


def consistent_points(depth: Sequence[Tensor], consistent: Sequence[Tensor],
                      cameras: Sequence[PinholeCamera]) -> np.ndarray:
    """(P, 3) float64 world points of the views' consistent pixels."""
    points = []
    for d, keep, cam in zip(depth, consistent, cameras):
        X, valid = cam.unproject(d.detach().double().cpu())
        points.append(X[valid & keep.cpu()])
    return torch.cat(points).numpy() if points else np.zeros((0, 3))


def manhattan_frame(depth: Sequence[Tensor], consistent: Sequence[Tensor],
                    cameras: Sequence[PinholeCamera], planes: int = PLANES,
                    plane_distance: float = PLANE_DISTANCE, angle: float = ANGLE,
                    margin: float = MARGIN, seed: int = 0) -> ManhattanFrame | None:
    """The frame of steps 1-3 of the module docstring.

    Args:
        depth: per view (H, W) z-depth; consistent: per view (H, W) bool,
            the pixels to trust; cameras: per view, at the maps' size.
        planes, plane_distance, angle, margin: :data:`PLANES`,
            :data:`PLANE_DISTANCE`, :data:`ANGLE`, :data:`MARGIN`.
        seed: Open3D's random seed (the frame is deterministic for a seed).

    Returns:
        the frame, or None where fewer than 1000 points are consistent, the
        cameras have no common up, or no plane is horizontal.
    """
    if not (len(depth) == len(consistent) == len(cameras)):
        raise ValueError(f"depth, consistent, cameras: expected one per view, got {len(depth)}, "
                         f"{len(consistent)} and {len(cameras)}")
    if not 0 < angle < 45:
        raise ValueError(f"angle: expected degrees in (0, 45), got {angle!r}")
    points = consistent_points(depth, consistent, cameras)
    if len(points) < 1000:
        return None
    size = float(np.linalg.norm(np.percentile(points, 99, 0) - np.percentile(points, 1, 0)))
    o3d = open3d()
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    cloud = cloud.voxel_down_sample(plane_distance * size)  # even density: each surface counts by area
    o3d.utility.random.seed(seed)
    found: list[tuple[np.ndarray, int]] = []
    for _ in range(planes):
        if len(cloud.points) < 100:
            break
        model, inliers = cloud.segment_plane(plane_distance * size, 3, 1000)
        found.append((np.asarray(model[:3]) / np.linalg.norm(model[:3]), len(inliers)))
        cloud = cloud.select_by_index(inliers, invert=True)
    try:
        rough = camera_up(cameras).numpy()
    except ValueError:  # cameras with no common up (rolled every way): no frame
        return None
    cos = math.cos(math.radians(angle))
    flat = [(n * np.sign(n @ rough), w) for n, w in found if abs(n @ rough) > cos]
    if not flat:
        return None
    up = sum(w * n for n, w in flat)
    up /= np.linalg.norm(up)
    walls = [(n - (n @ up) * up, w) for n, w in found if abs(n @ up) < math.sin(math.radians(angle))]
    # any horizontal axis to measure wall azimuths from
    e1 = walls[0][0] if walls else np.cross(up, np.eye(3)[np.argmin(np.abs(up))])
    e1 = e1 / np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    if walls:
        folded = sum(w * np.exp(4j * math.atan2(n @ e2, n @ e1)) for n, w in walls)
        phi = float(np.angle(folded)) / 4
        e1 = math.cos(phi) * e1 + math.sin(phi) * e2
        e2 = np.cross(up, e1)
    axes = torch.from_numpy(np.stack([up, e1, e2]))
    along = torch.from_numpy(points) @ axes.T
    along = along[::max(1, len(along) // 1_000_000)]  # torch.quantile's size limit
    low, high = torch.quantile(along, torch.tensor([0.005, 0.995], dtype=torch.float64), dim=0)
    grow = margin * float((high - low).norm())
    return ManhattanFrame(axes, 3 if walls else 1, low - grow, high + grow)


def _pixels_from_plane_coordinates(camera: PinholeCamera) -> Tensor:
    """(3, 3) T: pixel (u, v, 1) = T p for the fill's plane coordinates p
    (:func:`~geodl.lightfield.depth.planes.plane_coordinates`)."""
    W, H = camera.width, camera.height
    return torch.tensor([[W, 0.0, W / 2], [0.0, W, H / 2], [0.0, 0.0, 1.0]], dtype=torch.float64)


def plane_directions(frame: ManhattanFrame, camera: PinholeCamera, scale: float) -> Tensor:
    """(M, 3) float64: the fill's plane families (module docstring) of the
    frame's normals in the displacement map :math:`\\delta = \\text{scale} / z`
    of ``camera`` (``scale`` = :math:`f B`)."""
    T = _pixels_from_plane_coordinates(camera)
    normals = frame.axes[:frame.normals].to(camera.R)
    return scale * (normals @ camera.R.T @ torch.linalg.inv(camera.K) @ T)


def within_bounds(frame: ManhattanFrame, camera: PinholeCamera, scale: float,
                  inside: float = INSIDE) -> Callable[[Tensor, Tensor], bool]:
    """The fill's ``admissible`` test for one view: a plane is taken when at
    least ``inside`` of a region's pixels, lifted at the plane's displacement
    (``scale`` / displacement = z), are in front of the camera and within the
    frame's bounds."""
    rays = torch.linalg.inv(camera.K) @ _pixels_from_plane_coordinates(camera)

    def admissible(coords: Tensor, displacement: Tensor) -> bool:
        ahead = displacement > 0
        z = scale / displacement.clamp_min(1e-12)
        world = ((coords.double() @ rays.T) * z[:, None] - camera.t) @ camera.R  # R^T (X_c - t)
        along = world @ frame.axes.T
        held = ahead & ((along >= frame.low) & (along <= frame.high)).all(1)
        return bool(held.double().mean() >= inside)

    return admissible
