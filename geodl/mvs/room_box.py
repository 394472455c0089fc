r"""The room's box: floor, ceiling and four walls as a depth hypothesis.

A room photographed from inside is, to first order, a box along its
Manhattan axes (:mod:`~geodl.mvs.manhattan`), and every ray from a camera
inside it leaves through exactly one face: the nearest face ahead. That
gives each pixel a depth that needs no match at all. Where matching fails
on a room's shell (a checkerboard floor whose tiles repeat, stripes along
the baseline, a shaded wall merged with the ceiling into one textureless
region) the box is usually right, and where something stands in front of
the shell the photos say so. Two uses, each kept only where the images do
not contradict it (the layout prior of Furukawa et al.'s Manhattan-world
stereo, CVPR 2009, with the box of room-layout estimation):

1. **Faces** (:func:`room_box`): along each of the frame's three axes, the
   two outermost dense layers of the consistent points: the mode of a
   histogram of the points within ``band`` of the 0.5 and 99.5 percentiles.
   No box where the frame has no walls, or where a camera stands outside
   the faces (an object photographed from around it, such as the
   Middlebury temple, is not a room seen from inside).
2. **Exit planes** (:func:`exit_planes`): per pixel, the face its ray leaves
   through, as a plane :math:`n^\top X = c` in camera axes (the form of
   :class:`~geodl.mvs.slanted.PlaneCost`) and its z-depth. For a face
   :math:`a^\top X_w = f` of world axis :math:`a` and a camera
   :math:`X_c = R X_w + t` with centre :math:`C`:
   :math:`n = R a`, :math:`c = f - a^\top C`, the ray's exit at the least
   positive :math:`t_j = (f_j - a_j^\top C) / (a_j^\top R^\top \tilde r)`
   over the six faces (:math:`\tilde r = K^{-1}(u, v, 1)`, unit z-depth).
3. **The hypothesis** (:func:`take_box_depth`): a pixel the sweep and the
   fill left unconfirmed takes the box's depth when the box's plane costs
   (multi-view ZNCC of the plane-warped window) at most ``margin`` more
   than its current depth's fronto-parallel plane: a textured object in
   front of the wall matches its own depth far better than the wall's, a
   textureless or ambiguous pixel matches both alike. The consistency
   filter then judges the result as any other depth.

The textureless fill also offers each region the box's displacement as a
candidate beside its planes (``prior`` of
:func:`~geodl.lightfield.depth.textureless.fill_textureless`): a region
that spans a wall and the ceiling has no single plane, but its border lies
on the box.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from geodl.mvs.manhattan import ManhattanFrame, consistent_points
from geodl.mvs.slanted import PlaneCost
from geodl.structures import PinholeCamera

#: the faces are looked for within this share of the points' extent of the
#: 0.5 and 99.5 percentiles along each axis
BAND = 0.05
#: histogram bins over that band (about 6 mm wide in a 6 m room)
BINS = 100
#: a pixel takes the box where the box's plane costs at most this much more
#: than its current depth (1 - ZNCC), since a textureless pixel's own depth is
#: the least of many noisy costs; chosen on training rooms 0-5 and 10-13
#: (experiments/README.md#photos-confirming-views)
MARGIN = 0.5


@dataclass
class RoomBox:
    """The room's six faces (module docstring, step 1).

    Attributes:
        axes: (3, 3) float64 orthonormal rows (the frame's: up, two walls).
        faces: (3, 2) float64 offsets :math:`f` of the faces
            :math:`a^\\top X = f` along each axis: low, high.
    """

    axes: Tensor
    faces: Tensor


def _outer_layer(values: Tensor, edge: float, width: float, bins: int) -> float:
    """The mode of ``values`` within ``width`` of ``edge`` (histogram, then
    the median of the points around its fullest bin)."""
    near = values[(values - edge).abs() <= width]
    if len(near) == 0:
        return edge
    lo, hi = float(near.min()), float(near.max())
    if hi - lo < 1e-12:
        return lo
    counts = torch.histc(near, bins, lo, hi)
    step = (hi - lo) / bins
    centre = lo + (int(counts.argmax()) + 0.5) * step
    return float(near[(near - centre).abs() <= 2 * step].median())


def room_box(frame: ManhattanFrame | None, depth: Sequence[Tensor], consistent: Sequence[Tensor],
             cameras: Sequence[PinholeCamera], band: float = BAND, bins: int = BINS
             ) -> RoomBox | None:
    """The faces of step 1 of the module docstring.

    Args:
        frame: the scene's frame (:func:`~geodl.mvs.manhattan.manhattan_frame`).
        depth, consistent, cameras: per view (H, W) z-depth, (H, W) bool
            pixels to trust, and its camera at the maps' size.
        band, bins: :data:`BAND`, :data:`BINS`.

    Returns:
        the box, or None where there is no frame, the frame has no walls,
        or a camera stands outside the faces.
    """
    if not 0 < band < 0.5:
        raise ValueError(f"band: expected a share of the extent in (0, 0.5), got {band!r}")
    if not (isinstance(bins, int) and bins >= 2):
        raise ValueError(f"bins: expected an int >= 2, got {bins!r}")
    if frame is None or frame.normals < 3:
        return None
    points = torch.from_numpy(consistent_points(depth, consistent, cameras))
    if len(points) < 1000:
        return None
    along = points @ frame.axes.T
    sample = along[::max(1, len(along) // 1_000_000)]  # torch.quantile's size limit
    low, high = torch.quantile(sample, torch.tensor([0.005, 0.995], dtype=torch.float64), dim=0)
    faces = torch.empty(3, 2, dtype=torch.float64)
    for axis in range(3):
        width = band * float(high[axis] - low[axis])
        for side, edge in enumerate((float(low[axis]), float(high[axis]))):
            faces[axis, side] = _outer_layer(along[:, axis], edge, width, bins)
    centres = torch.stack([c.center for c in cameras]).double() @ frame.axes.T
    if not bool(((centres > faces[:, 0]) & (centres < faces[:, 1])).all()):
        return None
    return RoomBox(frame.axes, faces)


def exit_planes(box: RoomBox, camera: PinholeCamera) -> tuple[Tensor, Tensor, Tensor]:
    """Step 2 of the module docstring for one view.

    Returns:
        z-depth (H, W) float64 of each pixel's exit face (inf where the ray
        meets no face ahead), and that face as a plane in camera axes:
        normals (H, W, 3) float32 facing the camera, offsets (H, W) float32.
    """
    H, W = camera.height, camera.width
    v, u = torch.meshgrid(torch.arange(H, dtype=torch.float64) + 0.5,
                          torch.arange(W, dtype=torch.float64) + 0.5, indexing="ij")
    rays = torch.stack([u, v, torch.ones_like(u)], -1) @ torch.linalg.inv(camera.K.double()).T
    R, axes = camera.R.double(), box.axes.double()
    centre = camera.center.double()
    towards = rays @ R @ axes.T  # (H, W, 3): a_j^T R^T r
    height = axes @ centre  # a_j^T C
    # the ray meets face (j, side) at z = (f_js - a_j^T C) / (a_j^T R^T r);
    # the six faces in the order axis-major, low side first
    t = ((box.faces.double() - height[:, None]) / towards[..., None]).reshape(H, W, 6)
    t = torch.where(t > 0, t, torch.full_like(t, float("inf")))  # behind, parallel (NaN)
    z, face = t.min(-1)
    a = axes.repeat_interleave(2, 0)  # (6, 3) world normal of each face
    normal = (a @ R.T)[face]  # R a, per pixel (H, W, 3)
    offset = (box.faces.double().reshape(6) - a @ centre)[face]
    away = (normal * rays).sum(-1) > 0  # PlaneCost wants n^T r < 0
    normal = torch.where(away[..., None], -normal, normal)
    offset = torch.where(away, -offset, offset)
    return z, normal.float(), offset.float()


def take_box_depth(depth: Tensor, candidates: Tensor, cost: PlaneCost, box: RoomBox,
                   camera: PinholeCamera, margin: float = MARGIN,
                   planes: tuple[Tensor, Tensor, Tensor] | None = None
                   ) -> tuple[Tensor, Tensor]:
    """Step 3 of the module docstring for one view.

    Args:
        depth: (H, W) z-depth; candidates: (H, W) bool, the pixels that may
            take the box (unconfirmed, not filled).
        cost: the view's :class:`~geodl.mvs.slanted.PlaneCost` (its depth
            range bounds where the box may be taken).
        margin: :data:`MARGIN`.
        planes: ``exit_planes(box, camera)`` where the caller has it already.

    Returns:
        the depth (H, W) with the box taken, and the pixels (H, W) bool that took it.
    """
    if not margin >= 0:
        raise ValueError(f"margin: expected a cost difference >= 0, got {margin!r}")
    if depth.shape != candidates.shape or tuple(depth.shape) != cost.shape:
        raise ValueError(f"depth, candidates: expected the cost's shape {cost.shape}, got "
                         f"{tuple(depth.shape)} and {tuple(candidates.shape)}")
    dev = depth.device
    z, normal, offset = (t.to(dev) for t in (planes or exit_planes(box, camera)))
    fronto = torch.zeros_like(normal)
    fronto[..., 2] = -1.0  # n^T X = -z: the plane facing the camera at the pixel's depth
    current = cost(fronto, -depth.float().clamp(cost.near, cost.far))
    on_box = cost(normal, offset)
    take = candidates & torch.isfinite(z) & (z >= cost.near) & (z <= cost.far) \
        & (on_box <= current + margin)
    return torch.where(take, z.to(depth.dtype), depth), take
