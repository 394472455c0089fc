"""Multi-view stereo over posed photos: every view's depth map, filtered by
geometric consistency, ready for fusion.

Per reference view: its depth range (:mod:`~geodl.mvs.depth_range`; for a
model of cameras only, refined by a wide low-resolution sweep,
:mod:`~geodl.mvs.swept_range`), its
neighbours by baseline and angle (:mod:`~geodl.mvs.neighbours`), a plane
sweep against them (:mod:`~geodl.mvs.plane_sweep`) at a working resolution
of at most ``max_size`` pixels per side; then the consistency filter across
views (:mod:`~geodl.mvs.consistency`), optionally the rejected pixels
refined with slanted planes (:mod:`~geodl.mvs.slanted`) and filtered again,
the textureless regions filled with
the planes of their consistent borders (:mod:`~geodl.mvs.textureless`; with
the scene's floor, ceiling and wall normals and bounds,
:mod:`~geodl.mvs.manhattan`), the pixels still unconfirmed offered the room's
box where the photos do not contradict it (:mod:`~geodl.mvs.room_box`), and
the filter again on the filled maps. Everything runs on the images' device
(the fill's regions and RANSAC on the CPU).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from geodl.lightfield.depth.filters import to_grey
from geodl.lightfield.depth.textureless import TexturelessConfig
from geodl.mvs.consistency import consistency_filter
from geodl.mvs.depth_range import SceneRange, scene_range
from geodl.mvs.learned_filter import learned_filter_masks, pixel_features, support_views
from geodl.mvs.manhattan import ManhattanFrame, manhattan_frame
from geodl.mvs.neighbours import select_neighbors
from geodl.mvs.plane_sweep import plane_sweep_depth, source_homography
from geodl.mvs.room_box import RoomBox, exit_planes, room_box, take_box_depth
from geodl.mvs.slanted import PlaneCost, SlantedConfig, refine_slanted
from geodl.mvs.swept_range import swept_range
from geodl.mvs.textureless import PHOTO_FILL, dark_pixels, fill_textureless_depth, neighbour_baseline
from geodl.structures import PinholeCamera, PosedImages

#: longest image side the sweep works at, because depth for 2 cm voxels in a room
#: needs no more and the cost grows with the pixel count (640 x 480 photos: half size)
MAX_SIZE = 320
#: source views per reference (COLMAP's and ACMM's usual few; not tuned yet)
NEIGHBOURS = 4
#: the triangulation angle in degrees that neighbour selection favours, MVSNet's 5
#: (2.5 measured within noise of it, experiments/README.md#photos-slanted-planes)
NEIGHBOUR_ANGLE = 5.0
#: sources averaged per hypothesis, since the rest may be occluded (not tuned yet)
BEST_K = 2
#: the fewest and most inverse-depth labels per view; in between, one label per
#: ``LABEL_STEP`` px of displacement in the farthest-moving neighbour
MIN_LABELS, MAX_LABELS, LABEL_STEP = 32, 64, 1.0
#: the consistency filter's relative depth tolerance once the maps are filled
#: (for every pixel, filled or not), as 2 % confirmed more right surface than
#: 1 % on training rooms 0, 1 and 3 (experiments/README.md#photos-textureless-fill)
FILLED_RELATIVE_DEPTH = 0.02
#: how many views each pixel of the filled maps is checked against (the
#: sweep's neighbours, then the next best by the same score), since a wall pixel is
#: often outside or occluded in 3 of its 4 stereo neighbours; with 12 the mean
#: F-score rose (box margin 0.5) from 0.881 to 0.892 on training rooms 0-5
#: and 10-13, 16 or all views gave the same (experiments/README.md#photos-confirming-views)
CONFIRM_VIEWS = 12
#: the learned per-pixel filter stays an option, since on the held-out training rooms
#: 6, 7, 8 it raised the mean F-score from 0.782 to 0.809, but on the real
#: Middlebury temple only 85.5 % of the vertices lie within 5 mm of the
#: temple's box against 99.3 % (experiments/README.md#photos-learned-filter)
LEARNED_FILTER = False
#: the fill uses the scene's dominant plane normals and bounds, as the mean
#: F-score rose from 0.770 to 0.817 on training rooms 0-5 and from 0.782 to
#: 0.859 on 6-8 (experiments/README.md#photos-manhattan-planes)
MANHATTAN = True
#: the room's box is offered to the fill's regions and to the pixels still
#: unconfirmed after it, as the mean F-score rose from 0.818 to 0.879 on
#: training rooms 0-5 and from 0.859 to 0.918 on 6-8
#: (experiments/README.md#photos-the-rooms-box)
ROOM_BOX = True


@dataclass
class StereoResult:
    """What :func:`multi_view_stereo` made, per view at the working resolution.

    Attributes:
        depth: (h, w) z-depth as estimated, textureless regions filled
            (before filtering).
        confidence: (h, w) in [0, 1] (filled pixels: at least the fill's
            ``filled_confidence``).
        consistent: (h, w) bool, confirmed by enough neighbours.
        cameras: the views' cameras at the working resolution.
        images: (N, 3, h, w) the views at the working resolution.
        neighbours: per view its source views.
        scene: the depth ranges and scale (:class:`SceneRange`).
        filled: (h, w) bool per view, the pixels the textureless fill set.
        seconds: ``depth`` (all views, the fill included), ``filter``,
            ``per_view``.
        frame: the scene's plane normals and bounds the fill used (None:
            not asked for, or not found).
        box: the room's box the fill and the unconfirmed pixels were
            offered (None: not asked for, or not a room seen from inside).
        boxed: (h, w) bool per view, the unconfirmed pixels that took the box.
    """

    depth: list[Tensor]
    confidence: list[Tensor]
    consistent: list[Tensor]
    cameras: list[PinholeCamera]
    images: Tensor
    neighbours: list[list[int]]
    scene: SceneRange
    filled: list[Tensor] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    frame: ManhattanFrame | None = None
    box: RoomBox | None = None
    boxed: list[Tensor] = field(default_factory=list)


def working_resolution(frames: PosedImages, max_size: int) -> tuple[Tensor, list[PinholeCamera]]:
    """The images (N, 3, h, w) and cameras scaled so the longer side is at
    most ``max_size`` (antialiased; unchanged when already small enough)."""
    H, W = frames.image_size
    factor = min(1.0, max_size / max(H, W))
    if factor == 1.0:
        return frames.images, list(frames.cameras)
    cams = [cam.scaled(factor) for cam in frames.cameras]
    h, w = cams[0].height, cams[0].width
    imgs = F.interpolate(frames.images, size=(h, w), mode="bilinear", antialias=True,
                         align_corners=False).clamp(0, 1)
    return imgs, cams


def label_count(ref: PinholeCamera, sources: list[PinholeCamera], near: float, far: float,
                step: float = LABEL_STEP, least: int = MIN_LABELS, most: int = MAX_LABELS) -> int:
    """Labels so that the image centre moves about ``step`` px per label in
    the source where it moves most between ``far`` and ``near``."""
    centre = torch.tensor([ref.width / 2, ref.height / 2, 1.0], dtype=torch.float64)
    travel = 0.0
    for src in sources:
        A, b = source_homography(ref, src)
        pts = [A @ centre + b / z for z in (near, far)]
        if all(float(p[2]) > 0 for p in pts):
            uv = [p[:2] / p[2] for p in pts]
            travel = max(travel, float((uv[0] - uv[1]).norm()))
    return int(min(most, max(least, math.ceil(travel / step) + 1)))


def _learned_consistency(frames: PosedImages, scene: SceneRange, depth: list[Tensor],
                         conf: list[Tensor], filled: list[Tensor], cams: list[PinholeCamera],
                         images: Tensor, nbrs: list[list[int]], todo: list[int],
                         neighbour_angle: float, consistent: list[Tensor]) -> list[Tensor]:
    """The learned filter's masks (views not estimated keep none); on dark
    pixels the consistency filter's masks ``consistent``."""
    support = support_views(frames, scene.ranges, neighbour_angle)
    done = set(todo)
    masks = [torch.zeros_like(d, dtype=torch.bool) for d in depth]
    for k in todo:  # one view's features at a time (16 floats a pixel)
        x = pixel_features(depth, cams, k, images[k], conf[k], filled[k],
                           [j for j in nbrs[k] if j in done], [j for j in support[k] if j in done])
        m = learned_filter_masks([x], [depth[k]])[0][0]
        # the rooms it learned from have no black void: on dark pixels (the
        # backdrop of an object photographed on black) the consistency
        # filter's verdict stands (experiments/README.md#photos-learned-filter)
        masks[k] = torch.where(dark_pixels(images[k]).to(m.device), consistent[k], m)
    return masks


def multi_view_stereo(frames: PosedImages, max_size: int = MAX_SIZE, neighbours: int = NEIGHBOURS,
                      neighbour_angle: float = NEIGHBOUR_ANGLE,
                      best_k: int = BEST_K, radius: int = 3, labels: int | None = None,
                      sgm_penalties: tuple[float, float] | None = (0.03, 0.3),
                      min_views: int = 2, max_reprojection: float = 1.0,
                      max_relative_depth: float = 0.01,
                      depth_range: tuple[float, float] | None = None,
                      views: list[int] | None = None,
                      textureless: TexturelessConfig | None = PHOTO_FILL,
                      slanted: SlantedConfig | None = None,
                      filled_relative_depth: float = FILLED_RELATIVE_DEPTH,
                      confirm_views: int = CONFIRM_VIEWS,
                      learned_filter: bool = LEARNED_FILTER,
                      manhattan: bool = MANHATTAN,
                      box: bool = ROOM_BOX,
                      progress: bool | None = None) -> StereoResult:
    """Depth maps of posed photos by plane sweep, filtered by consistency.

    Args:
        frames: photos with cameras (``meta["points3D"]`` / ``"visible"``
            used for depth ranges and neighbours where present).
        max_size: longest side of the working resolution.
        neighbours: source views per reference; best_k: sources averaged.
        neighbour_angle: the triangulation angle (degrees) neighbours are
            chosen around (``theta0`` of
            :func:`~geodl.mvs.neighbours.select_neighbors`).
        radius: ZNCC window radius at the working resolution.
        labels: inverse-depth hypotheses per view (None: :func:`label_count`).
        sgm_penalties: (P1, P2) of the semi-global aggregation (None: none).
        min_views, max_reprojection, max_relative_depth: the consistency
            filter's (:func:`~geodl.mvs.consistency.consistency_filter`).
        depth_range: (near, far) for every view instead of the estimate.
        textureless: the settings of the textureless fill
            (:mod:`~geodl.mvs.textureless`; None: no fill).
        slanted: the settings of the slanted-plane refinement
            (:mod:`~geodl.mvs.slanted`) run after the first filter, the
            consistent pixels keeping their depth; None (default): none, as
            on training rooms 0, 1, 3 it gained 0.009 mean F-score for about
            6x the depth time (experiments/README.md#photos-slanted-planes).
        filled_relative_depth: the filter's ``max_relative_depth`` once the
            maps are filled, for every pixel (``max_relative_depth`` then
            only chooses the pixels the planes are fitted to); without the
            fill the filter runs once, with ``max_relative_depth``.
        confirm_views: how many views each pixel of the filled maps is
            checked against (:data:`CONFIRM_VIEWS`; the ``neighbours`` first,
            then the next best by the same score; never fewer than the
            ``neighbours``); ``min_views`` of them must agree.
        learned_filter: replace the last consistency filter by the learned
            per-pixel filter (:mod:`~geodl.mvs.learned_filter`, the shipped
            :class:`~geodl.mvs.learned_filter.ConsistencyNet`), which checks
            each pixel against up to ``SUPPORT_VIEWS`` overlapping views;
            dark pixels keep the consistency filter's verdict. Off by
            default (:data:`LEARNED_FILTER`: better on rendered rooms, worse
            on the real Middlebury temple).
        manhattan: give the fill the scene's plane normals and bounds
            (:func:`~geodl.mvs.manhattan.manhattan_frame` of the consistent
            pixels; :data:`MANHATTAN`); no effect without the fill.
        box: offer the room's box (:func:`~geodl.mvs.room_box.room_box`) to
            the fill's regions and then to the pixels neither confirmed nor
            filled (:func:`~geodl.mvs.room_box.take_box_depth`, the
            slanted refinement's window); :data:`ROOM_BOX`; needs the fill
            and ``manhattan``, and a scene seen from inside its box.
        views: estimate only these views (the others serve as sources; all
            views when None). Depth of views not estimated is 0.
        progress: a tqdm bar (None: only on a terminal).
    """
    if not isinstance(frames, PosedImages):
        raise TypeError(f"frames: expected PosedImages, got {type(frames).__name__}")
    n = len(frames)
    if n < 2:
        raise ValueError(f"frames: multi-view stereo needs at least 2 views, got {n}")
    if max_size < 16:
        raise ValueError(f"max_size: expected at least 16 px, got {max_size}")
    for name, value in (("max_relative_depth", max_relative_depth),
                        ("filled_relative_depth", filled_relative_depth)):
        if not (isinstance(value, (int, float)) and 0 < value < 1):
            raise ValueError(f"{name}: expected a fraction of the depth in (0, 1), got {value!r}")
    if isinstance(confirm_views, bool) or not (isinstance(confirm_views, int) and confirm_views >= 1):
        raise ValueError(f"confirm_views: expected a number of views >= 1, got {confirm_views!r}")
    if textureless is not None and not isinstance(textureless, TexturelessConfig):
        raise TypeError(f"textureless: expected a TexturelessConfig or None, got "
                        f"{type(textureless).__name__}")
    if slanted is not None and not isinstance(slanted, SlantedConfig):
        raise TypeError(f"slanted: expected a SlantedConfig or None, got {type(slanted).__name__}")
    for name, flag in (("learned_filter", learned_filter), ("manhattan", manhattan), ("box", box)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name}: expected a bool, got {type(flag).__name__}")
    if isinstance(neighbour_angle, bool) or not (isinstance(neighbour_angle, (int, float))
                                                 and 0 < neighbour_angle < 90):
        raise ValueError(f"neighbour_angle: expected degrees in (0, 90), got {neighbour_angle!r}")
    scene = scene_range(frames)
    if depth_range is None and scene.source == "frusta":
        scene = swept_range(frames, scene)  # where the frusta overlap is no range for a sequence
    if depth_range is not None:
        near, far = (float(v) for v in depth_range)
        if not 0 < near < far:
            raise ValueError(f"depth_range: expected 0 < near < far, got {depth_range}")
        scene.ranges[:] = torch.tensor([near, far], dtype=torch.float64)
    # best first: the sweep's neighbours are the first of the views that confirm
    ranked = select_neighbors(frames, scene.ranges, max(neighbours, confirm_views),
                              theta0=neighbour_angle)
    nbrs = [r[:neighbours] for r in ranked]
    images, cams = working_resolution(frames, max_size)
    grey = to_grey(images.float())
    todo = list(range(n)) if views is None else list(views)
    depth = [torch.zeros(grey.shape[1:], device=grey.device) for _ in range(n)]
    conf = [torch.zeros(grey.shape[1:], device=grey.device) for _ in range(n)]
    start = time.perf_counter()
    for k in tqdm(todo, desc="multi-view stereo", leave=False,
                  disable=None if progress is None else not progress):
        if not nbrs[k]:
            continue  # no view shares what this one sees
        near, far = (float(v) for v in scene.ranges[k])
        src = [cams[j] for j in nbrs[k]]
        count = labels or label_count(cams[k], src, near, far)
        depth[k], conf[k] = plane_sweep_depth(grey[k], cams[k], [grey[j] for j in nbrs[k]], src,
                                              (near, far), count, radius, best_k, sgm_penalties)
    t_sweep = time.perf_counter() - start
    # a view not estimated has no depth to confirm with; check against estimated ones only
    done = set(todo)
    check = [[j for j in nbrs[k] if j in done] for k in range(n)]
    consistent, _ = consistency_filter(depth, cams, check, min_views, max_reprojection,
                                       max_relative_depth)
    t_slanted = time.perf_counter()
    if slanted is not None:
        for k in todo:
            if not nbrs[k]:
                continue
            near, far = (float(v) for v in scene.ranges[k])
            plane_cost = PlaneCost(grey[k], cams[k], [grey[j] for j in nbrs[k]],
                                   [cams[j] for j in nbrs[k]], (near, far), slanted.radius,
                                   slanted.dilation, best_k)
            depth[k], _, _ = refine_slanted(plane_cost, depth[k], slanted, consistent[k])
        t_slanted = time.perf_counter() - t_slanted
        consistent, _ = consistency_filter(depth, cams, check, min_views, max_reprojection,
                                           max_relative_depth)
    else:
        t_slanted = 0.0
    t_sweep += t_slanted  # the refinement is part of estimating depth
    t_filter = time.perf_counter() - start - t_sweep
    filled = [torch.zeros_like(c, dtype=torch.bool) for c in conf]
    boxed = [torch.zeros_like(c, dtype=torch.bool) for c in conf]
    frame = shell = None
    if textureless is not None:
        if manhattan:
            frame = manhattan_frame([depth[k] for k in todo], [consistent[k] for k in todo],
                                    [cams[k] for k in todo])
        if box:
            shell = room_box(frame, [depth[k] for k in todo], [consistent[k] for k in todo],
                             [cams[k] for k in todo])
        for k in todo:
            if not nbrs[k]:
                continue
            base = neighbour_baseline(cams[k], [cams[j] for j in nbrs[k]])
            swept = tuple(float(v) for v in scene.ranges[k])
            planes = None if shell is None else exit_planes(shell, cams[k])
            depth[k], filled[k] = fill_textureless_depth(depth[k], consistent[k], images[k],
                                                         cams[k], base, textureless, swept,
                                                         frame=frame, box=shell,
                                                         box_depth=None if planes is None
                                                         else planes[0])
            conf[k] = torch.where(filled[k], conf[k].clamp_min(textureless.filled_confidence),
                                  conf[k])
            if shell is not None:
                near, far = swept
                window = SlantedConfig()
                cost = PlaneCost(grey[k], cams[k], [grey[j] for j in nbrs[k]],
                                 [cams[j] for j in nbrs[k]], (near, far), window.radius,
                                 window.dilation, best_k)
                depth[k], boxed[k] = take_box_depth(depth[k], ~consistent[k] & ~filled[k], cost,
                                                    shell, cams[k], planes=planes)
        t_fill = time.perf_counter() - start - t_sweep - t_filter
        confirm = [[j for j in ranked[k] if j in done] for k in range(n)]
        consistent, _ = consistency_filter(depth, cams, confirm, min_views, max_reprojection,
                                           filled_relative_depth)
    else:
        t_fill = 0.0
    if learned_filter:
        consistent = _learned_consistency(frames, scene, depth, conf, filled, cams, images, nbrs,
                                          todo, neighbour_angle, consistent)
    t_depth = t_sweep + t_fill
    seconds = {"depth": t_depth, "filter": time.perf_counter() - start - t_depth,
               "per_view": t_depth / max(1, len(todo))}
    return StereoResult(depth, conf, consistent, cams, images, nbrs, scene, filled, seconds, frame,
                        shell, boxed)
