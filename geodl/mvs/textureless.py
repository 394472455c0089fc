r"""Textureless regions of a photo's depth map filled with the plane of their
consistent borders.

A wall painted in one colour, or shaded in a smooth ramp, gives a matching
window nothing to lock on to: ZNCC is blind to a ramp's offset, and the plane
sweep's depth there is whatever the aggregation carried in, off by tens of
per cent; the consistency filter rightly rejects it, and the room's walls,
furniture faces and rugs go missing from the fusion (training room 0:
recall 0.36 at 5 cm). Their *borders* (corners, a picture, skirting) are
matched and confirmed by other views. So the light field's textureless fill
(:func:`geodl.lightfield.depth.textureless.fill_textureless`: low-gradient
regions, a RANSAC plane through the confident pixels of each region's
ring, the region takes the plane) runs on each photo's depth with the
*consistent* pixels as the confident ones, and the consistency filter then
judges the filled maps again: a plane that two views fill alike is kept, a
wrong extrapolation mostly is not. Where the scene's plane normals are
known (:mod:`geodl.mvs.manhattan`: floor, ceiling, walls), planes of those
normals are fitted too, which a single line of evidence determines, and no
plane is taken whose points leave the scene's bounds; a room's box
(:mod:`geodl.mvs.room_box`) is each region's candidate beside its planes.
Two guards catch what the filter does
not, as every view can extrapolate the same wrong plane: a plane is taken
only inside the depth range its view was swept over, and never on black
pixels (a backdrop, a shadow; :data:`DARK`).

Why the light field's fill applies to the photos' maps: a 3-D plane is
affine in inverse depth over the pixels (:mod:`geodl.lightfield.depth.planes`), so the
fill runs on the *displacement* :math:`\delta = f B / z` (px), the shift of a
pixel in a source ``B`` away, with :math:`f` the focal length and :math:`B`
the (lower) median distance to the view's neighbours: its tolerances then
read in pixels as on a light field.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from geodl.lightfield.depth.filters import to_grey
from geodl.lightfield.depth.textureless import TexturelessConfig, fill_textureless
from geodl.mvs.manhattan import ManhattanFrame, plane_directions, within_bounds
from geodl.mvs.room_box import RoomBox, exit_planes
from geodl.structures import PinholeCamera

#: the fill's settings for photos, chosen on training rooms 0, 1 and 3
#: (experiments/README.md#photos-textureless-fill): RANSAC inliers within
#: 0.4 px of displacement; no gate, since the sweep's depth inside a
#: textureless region is no guide to which pixels belong to the plane
PHOTO_FILL = TexturelessConfig(tol=0.4, gate=math.inf)
#: pixels darker than this grey level are not filled, as the black backdrop of
#: an object photographed on it (the Middlebury temple) took planes through the
#: object's outline (experiments/README.md#photos-textureless-fill)
DARK = 0.05


def dark_pixels(image: Tensor, dark: float = DARK) -> Tensor:
    """(H, W) bool: pixels of a (3, H, W) image in [0, 1] whose 5 x 5 mean
    grey level is below ``dark`` (the mean, so that noise does not let
    single pixels through)."""
    grey = to_grey(torch.as_tensor(image)[None].float())
    return F.avg_pool2d(grey[:, None], 5, 1, 2, count_include_pad=False)[0, 0] < dark


def neighbour_baseline(camera: PinholeCamera, neighbours: list[PinholeCamera]) -> float:
    """The (lower, for an even count) median distance (scene units) from
    ``camera``'s centre to its neighbours' (0.0 when it has none)."""
    if not neighbours:
        return 0.0
    c = camera.center
    return float(torch.stack([(n.center - c).norm() for n in neighbours]).median())


def fill_textureless_depth(depth: Tensor, seeds: Tensor, image: Tensor, camera: PinholeCamera,
                           baseline: float, config: TexturelessConfig = PHOTO_FILL,
                           depth_range: tuple[float, float] | None = None,
                           dark: float = DARK, frame: ManhattanFrame | None = None,
                           box: RoomBox | None = None, box_depth: Tensor | None = None
                           ) -> tuple[Tensor, Tensor]:
    """A view's depth with its textureless regions filled (module docstring).

    Args:
        depth: (H, W) z-depth (0 = none); seeds: (H, W) bool, the pixels the
            planes are fitted to (consistent across views).
        image: (3, H, W) the view in [0, 1]; camera: its camera (H x W).
        baseline: the distance :math:`B` of the displacement units.
        config: the fill's settings (:data:`PHOTO_FILL`).
        depth_range: (near, far): a plane is not taken where it leaves the
            range the view was swept over (an extrapolated plane can reach
            far beyond the scene); None: anywhere in front of the camera.
        dark: pixels whose 5 x 5 mean grey level (in [0, 1]) is lower are
            not filled (:data:`DARK`).
        frame: the scene's plane normals and bounds
            (:func:`~geodl.mvs.manhattan.manhattan_frame`): the fill also
            fits the planes of those normals and takes no plane that leaves
            the bounds (None: free planes, no bounds).
        box: the room's box (:func:`~geodl.mvs.room_box.room_box`), each
            region's candidate beside its planes (None: planes only).
        box_depth: the box's z-depth in this view (the first of
            :func:`~geodl.mvs.room_box.exit_planes`) where the caller has it already.

    Returns:
        depth (H, W) float32 with the filled pixels replaced, and the filled
        pixels (H, W) bool, on the depth's device.
    """
    if not (math.isfinite(baseline) and baseline > 0):
        raise ValueError(f"baseline: expected a positive distance, got {baseline!r}")
    if seeds.dtype != torch.bool:
        raise ValueError(f"seeds: expected a bool mask, got {seeds.dtype}")
    if not (isinstance(dark, (int, float)) and 0 <= dark < 1):
        raise ValueError(f"dark: expected a grey level in [0, 1), got {dark!r}")
    if depth_range is not None:
        near, far = (float(v) for v in depth_range)
        if not 0 < near < far:
            raise ValueError(f"depth_range: expected 0 < near < far, got {depth_range}")
    if tuple(depth.shape) != (camera.height, camera.width) or seeds.shape != depth.shape:
        raise ValueError(f"depth, seeds: expected ({camera.height}, {camera.width}) like the "
                         f"camera, got {tuple(depth.shape)} and {tuple(seeds.shape)}")
    scale = float(camera.K[0, 0]) * baseline
    known = depth > 0
    shift = torch.where(known, scale / depth.double().clamp_min(1e-12),
                        torch.zeros_like(depth, dtype=torch.float64))
    families = admissible = None
    if frame is not None:
        families = plane_directions(frame, camera, scale)
        admissible = within_bounds(frame, camera, scale)
    prior = None
    if box is not None:
        z_box = (exit_planes(box, camera)[0] if box_depth is None else box_depth).to(shift.device)
        prior = torch.where(torch.isfinite(z_box), scale / z_box, torch.full_like(z_box, math.nan))
    out = fill_textureless(shift, (seeds & known).double(), image, config=config,
                           families=families, admissible=admissible, prior=prior)
    filled = out.filled & (out.disparity > 0)
    if dark > 0:
        # black is as often the void (a backdrop, a shadow, no exposure) as a
        # surface: no plane for it
        filled &= ~dark_pixels(image, dark).to(filled.device)
    new = torch.where(filled, scale / out.disparity.clamp_min(1e-12), depth.double())
    if depth_range is not None:
        filled &= (new >= near) & (new <= far)
        new = torch.where(filled, new, depth.double())
    return new.to(depth.dtype), filled
