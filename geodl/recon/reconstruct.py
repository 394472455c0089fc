r"""Light-field captures -> disparity -> metric depth -> TSDF -> one room mesh.

Each capture is a ``LightField`` whose centre camera carries the capture's
world pose. Its centre view's disparity :math:`d` (from
``geodl.lightfield.depth.estimate_disparity``, or the ground truth) becomes
z-depth through the capture's *own* rig,
:math:`Z = 1 / (d / (b f) + 1/F)` (``LightFieldRig.disparity_to_depth``;
baseline, focal length and focus distance differ between captures), pixels
below a confidence threshold are dropped, and the depth frames are fused by
:func:`~geodl.recon.fusion.fuse_tsdf`. Before that, by default, each estimated
disparity map gets a planar prior: textureless regions take the plane of
their borders (:func:`~geodl.lightfield.depth.textureless.fill_textureless`),
then the map is snapped to its dominant planes
(:func:`~geodl.lightfield.depth.planes.snap_to_planes`: rooms are mostly
walls, floor, ceiling and flat furniture faces).
"""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Sequence

import torch
from torch import Tensor

from geodl.lightfield.depth.cost_volume import ROOM_MATCHING
from geodl.lightfield.depth.refine_net import RefineConfig
from geodl.recon.fusion import DepthFrame, _progress, fuse_tsdf
from geodl.recon.result import ReconstructionResult
from geodl.structures import LightField, PointCloud, PosedImages

if TYPE_CHECKING:  # the planar prior is imported where it runs (it pulls scipy in)
    from geodl.lightfield.depth.planes import PlaneSnap

#: defaults of :func:`reconstruct_room` for rooms seen by a few captures (how
#: they were chosen: its docstring)
MIN_CONFIDENCE = 0.1
#: the smallest connected component (m^2) the cleaning keeps (see :func:`reconstruct_room`)
MIN_COMPONENT_AREA = 0.1
#: the depth method of :func:`reconstruct_room` and ``geodl reconstruct``: the best
#: of the methods fused (mean F-score at 5 cm with planes: refine_net 0.786,
#: cost_volume 0.759, structure_tensor 0.657, epinet 0.445, measured on captures
#: with the checker fault); on the current benchmark captures refine_net with fill
#: and planes gives 0.852 at about 5.4 s per 9 x 9 x 512^2 capture
#: (experiments/README.md#room-reconstruction)
DEFAULT_METHOD = "refine_net"
#: fill textureless regions and snap estimated disparity to its planes before
#: fusing (training rooms 0, 1, 3: mean F-score at 5 cm 0.826 -> 0.857 with
#: ``cost_volume`` snapping alone; ``refine_net`` 0.814 -> 0.862, 0.875 with the fill)
PLANES = True

#: the method that reads each capture's ground-truth depth (the ceiling)
GROUND_TRUTH = "ground_truth"
#: the method of posed images that fuses the depth they carry (an RGB-D sensor's)
SENSOR = "sensor"
#: the method of posed images without depth (photos), multi-view stereo (``geodl.mvs``)
MVS = "mvs"
#: TSDF voxel of light-field captures (metres) unless given
LIGHT_FIELD_VOXEL = 0.02
#: mesh pieces under this area are removed from posed-image reconstructions:
#: none, as TSDF fusion of many sensor frames leaves few floaters
#: (experiments/README.md, "Rooms from RGB-D scans")
POSED_MIN_COMPONENT_AREA = 0.0
#: the settings of ``refine_net`` under the fusion: the WLS data weight p^4 that the
#: fusion's settings were chosen with (the 2-D default too; on training rooms 0, 1, 3
#: the fused F-score was 0.875 with p^4 and with p^4 c; pinned here so that a change
#: of the 2-D default does not move the fusion unmeasured;
#: experiments/README.md#fusion-wls-weight)
FUSION_REFINE = RefineConfig(confidence_power=0.0)
#: options of ``estimate_disparity`` under the fusion, per method, beneath the caller's
#: (a caller's keywords replace single fields of the ``config``, its ``config`` all of
#: them); ``cost_volume`` reads the rooms' matching (``ROOM_MATCHING``, with the
#: Lucas-Kanade refinement, which helps with the planar prior the fusion applies;
#: experiments/README.md#lucas-kanade-refinement)
FUSION_METHOD_OPTIONS: dict[str, dict] = {"refine_net": {"config": FUSION_REFINE},
                                          "cost_volume": {"config": ROOM_MATCHING}}


def estimate_for_fusion(lf: LightField, method: str = DEFAULT_METHOD, **options
                        ) -> tuple[Tensor, Tensor]:
    """``estimate_disparity`` as the fusion reads it: without its planar prior
    (the fusion applies its own fill + snap, ``planes``) and with
    :data:`FUSION_METHOD_OPTIONS` under ``options``."""
    from geodl.lightfield.depth import estimate_disparity

    return estimate_disparity(lf, method, planes=False,
                              **{**FUSION_METHOD_OPTIONS.get(method, {}), **options})


def _check_maps(lf: LightField, disparity: Tensor, confidence: Tensor | None,
                min_confidence: float) -> tuple[Tensor, Tensor]:
    if not isinstance(lf, LightField):
        raise TypeError(f"lf: expected a LightField, got {type(lf).__name__}")
    shape = (lf.height, lf.width)
    d = torch.as_tensor(disparity)
    if tuple(d.shape) != shape:
        raise ValueError(f"disparity: expected shape {shape} (the views), got {tuple(d.shape)}")
    c = torch.ones(shape, dtype=torch.float64, device=d.device) if confidence is None \
        else torch.as_tensor(confidence)
    if tuple(c.shape) != shape:
        raise ValueError(f"confidence: expected shape {shape}, got {tuple(c.shape)}")
    if not (isinstance(min_confidence, (int, float)) and 0 <= min_confidence <= 1):
        raise ValueError(f"min_confidence: expected a number in [0, 1], got {min_confidence!r}")
    return d, c


def _center_color(lf: LightField) -> Tensor:
    """(3, H, W) the centre view's RGB in [0, 1] (grey views repeated)."""
    if lf.views.shape[2] >= 3:
        return lf.center_view[:3].clamp(0, 1)
    return lf.center_view[:1].clamp(0, 1).expand(3, -1, -1)


def capture_frame(lf: LightField, disparity: Tensor, confidence: Tensor | None = None,
                  min_confidence: float = 0.0) -> DepthFrame:
    """The centre view of capture ``lf`` as a :class:`DepthFrame`.

    Args:
        lf: the capture (its ``camera`` is the centre view's world pose).
        disparity: (H, W) centre-view disparity (HCI sign, px per view step);
            NaN = unknown.
        confidence: optional (H, W); pixels with ``confidence < min_confidence``
            are masked out.
        min_confidence: the threshold (0 keeps every finite pixel).

    Returns:
        a frame with depth ``lf.rig.disparity_to_depth(disparity)`` (inf and
        NaN, e.g. disparities beyond infinity, are left out by the fusion),
        the centre view's colour and the confidence mask.
    """
    d, c = _check_maps(lf, disparity, confidence, min_confidence)
    depth = lf.rig.disparity_to_depth(d)
    mask = torch.isfinite(depth) & (c >= min_confidence)
    return DepthFrame(lf.camera, depth, _center_color(lf), mask)


def capture_points(lf: LightField, disparity: Tensor, confidence: Tensor | None = None,
                   min_confidence: float = 0.0) -> PointCloud:
    """The confident pixels of capture ``lf`` as a coloured ``PointCloud`` in
    world coordinates: depth from the capture's rig (:func:`capture_frame`),
    back-projected through ``lf.camera`` (pixel centres, OpenCV frame)."""
    frame = capture_frame(lf, disparity, confidence, min_confidence)
    pts, valid = lf.camera.unproject(torch.where(frame.mask, frame.depth, torch.nan))
    keep = valid & frame.mask
    colors = frame.color.permute(1, 2, 0)[keep].double()
    return PointCloud(pts[keep], colors)


def ground_truth_disparity(lf: LightField, index: int = 0) -> Tensor:
    """Capture ``lf``'s ground-truth centre disparity (H, W), float64: from its
    depth through the capture's own rig when it has one, else its disparity map;
    ``index`` names the capture in the error when it has neither."""
    gt = lf.ground_truth
    if gt is not None and gt.depth is not None:
        return lf.rig.depth_to_disparity(gt.depth)
    if gt is not None and gt.disparity is not None:
        return gt.disparity.double()
    raise ValueError(f"captures[{index}]: method 'ground_truth' needs the capture's "
                     "ground-truth depth or disparity, and it has none")


def _check_voxel_size(voxel_size: float | None) -> None:
    if voxel_size is None:
        return
    if not (isinstance(voxel_size, (int, float)) and math.isfinite(voxel_size) and voxel_size > 0):
        raise ValueError(f"voxel_size: expected a positive number of metres, got {voxel_size!r}")


def reconstruct_room(captures: Sequence[LightField] | PosedImages, method: str | None = None,
                     voxel_size: float | None = None, min_confidence: float | None = None,
                     sdf_trunc: float | None = None, depth_max: float | None = None,
                     device: str | None = None, progress: bool | None = None,
                     min_component_area: float | None = None, planes: bool = PLANES,
                     **method_options) -> ReconstructionResult:
    """One room mesh from light-field captures or posed images.

    Args:
        captures: ``LightField`` s with world poses in their ``camera``, or
            one :class:`~geodl.structures.PosedImages` (an RGB-D sequence:
            its depth is fused as it is,
            :func:`~geodl.recon.posed_fusion.fuse_posed_depth`; posed photos
            without depth: multi-view stereo first, ``geodl.mvs``).
        method: for light fields a ``geodl.lightfield.depth`` method (each
            capture's disparity range as
            :func:`~geodl.lightfield.depth.estimate_disparity` finds it: the
            scene's ``disp_min``/``disp_max``), or ``"ground_truth"`` (each
            capture's ground-truth depth: the upper bound); default
            :data:`DEFAULT_METHOD`. For posed images :data:`SENSOR` (the
            depth they carry) or :data:`MVS`, by default the one that fits.
        voxel_size: TSDF voxel edge in metres (default: :data:`LIGHT_FIELD_VOXEL`
            for light fields; for posed images from the depth's scale,
            :func:`~geodl.recon.posed_fusion.auto_voxel_size`).
        min_confidence: pixels with a lower confidence are not fused
            (default :data:`MIN_CONFIDENCE` for light fields; multi-view
            stereo's own, ``geodl.recon.photos.MIN_CONFIDENCE``; the sensor's
            depth has none).
        min_component_area: mesh pieces smaller than this (m^2) are removed
            (:meth:`~geodl.recon.fusion.TSDFVolume.extract_mesh`).
            The defaults of both (:data:`MIN_CONFIDENCE`,
            :data:`MIN_COMPONENT_AREA`) were chosen on training rooms 0, 1
            and 3 (4 captures of 512 x 512, 9 x 9 views, ``cost_volume``,
            2 cm voxels; never the benchmark rooms; the commands are in
            ``experiments/room_reconstruction.py``): mean F-score at 5 cm
            0.800 with neither, 0.823 with both (pieces under 0.1 m^2 are
            mostly floaters from wrong depth seen by one capture; a grid of
            0.04 / 0.1 / 0.25 m^2 and thresholds 0 / 0.05 / 0.1 on the
            same rooms in memory, an uncommitted script, gave 0.823 ->
            0.854; 0.25 m^2 was not finished on room 3). On single
            captures (training room 0100) either lowers F a little: a
            room's few captures see most surfaces once, so pass 0 there.
            Posed images: :data:`POSED_MIN_COMPONENT_AREA`.
        planes: fill each estimated disparity map's textureless regions
            from their borders' planes and snap it to its dominant planes
            first (:func:`~geodl.lightfield.depth.textureless.fill_textureless`,
            :func:`~geodl.lightfield.depth.planes.snap_to_planes`, their
            defaults; never for ``"ground_truth"``): :data:`PLANES`.
        sdf_trunc, depth_max, device: see :class:`~geodl.recon.fusion.TSDFVolume`.
        progress: tqdm bars per stage (None: only on a terminal).
        method_options: passed to ``estimate_disparity``
            (:func:`estimate_for_fusion`).

    Returns:
        :class:`ReconstructionResult` (``.mesh`` is the room).
    """
    if isinstance(captures, PosedImages):
        return _reconstruct_posed(captures, method, voxel_size, sdf_trunc, depth_max, device,
                                  progress, min_component_area, min_confidence,
                                  **method_options)
    method = DEFAULT_METHOD if method is None else method
    min_confidence = MIN_CONFIDENCE if min_confidence is None else min_confidence
    voxel_size = LIGHT_FIELD_VOXEL if voxel_size is None else voxel_size
    min_component_area = MIN_COMPONENT_AREA if min_component_area is None \
        else min_component_area
    captures = list(captures)
    if not captures:
        raise ValueError("captures: expected at least one LightField, got none")
    for i, lf in enumerate(captures):
        if not isinstance(lf, LightField):
            raise TypeError(f"captures[{i}]: expected a LightField, got {type(lf).__name__}")
    if method != GROUND_TRUTH:
        from geodl.lightfield.depth import METHODS

        if method not in METHODS:
            raise ValueError(f"method: expected one of {sorted(METHODS) + [GROUND_TRUTH]}, "
                             f"got {method!r}")
    _check_voxel_size(voxel_size)
    start = time.perf_counter()
    disparities, confidences = [], []
    for i, lf in enumerate(_progress(captures, progress, f"disparity ({method})")):
        if method == GROUND_TRUTH:
            d = ground_truth_disparity(lf, i)
            c = torch.isfinite(d).double()
        else:
            d, c = estimate_for_fusion(lf, method, **method_options)
        disparities.append(d)
        confidences.append(c)
    seconds = time.perf_counter() - start
    result = fuse_captures(captures, disparities, confidences, voxel_size, min_confidence,
                           sdf_trunc, depth_max, device, progress,
                           min_component_area=min_component_area,
                           planes=planes and method != GROUND_TRUTH)
    result.seconds = {"disparity": seconds, **result.seconds}
    result.seconds["total"] += seconds
    return result


def _reconstruct_posed(frames: PosedImages, method: str | None, voxel_size: float | None,
                       sdf_trunc: float | None, depth_max: float | None, device: str | None,
                       progress: bool | None, min_component_area: float | None,
                       min_confidence: float | None, **options) -> ReconstructionResult:
    """:func:`reconstruct_room` of posed images: their depth (:data:`SENSOR`,
    :func:`~geodl.recon.posed_fusion.fuse_posed_depth`) or multi-view
    stereo's (:data:`MVS`, ``geodl.recon.photos.reconstruct_photos``, with
    its own defaults where ``min_component_area`` is None)."""
    from geodl.recon.posed_fusion import fuse_posed_depth

    if method is None:
        method = SENSOR if frames.depth is not None else MVS
    if method not in (SENSOR, MVS):
        raise ValueError(f"method: posed images take {SENSOR!r} (their depth) or {MVS!r} "
                         f"(multi-view stereo), got {method!r}")
    if method == SENSOR and frames.depth is None:
        raise ValueError(f"method {SENSOR!r}: these posed images carry no depth")
    _check_voxel_size(voxel_size)
    if method == MVS:
        try:  # lazily: multi-view stereo (and pycolmap) loads only for photos
            from geodl.recon.photos import reconstruct_photos
        except ImportError as err:
            raise ValueError(f"method {MVS!r}: multi-view stereo "
                             f"(geodl.recon.photos.reconstruct_photos) is not available in "
                             f"this geodl ({err})") from None
        if min_confidence is not None:
            options["min_confidence"] = min_confidence
        result = reconstruct_photos(frames, voxel_size, sdf_trunc,
                                    min_component_area=min_component_area, device=device,
                                    progress=progress, **options)
        result.seconds["per_frame"] = result.seconds["total"] / len(frames)
        result.meta.update(method=method)
        return result
    if options or min_confidence is not None:
        raise ValueError(f"method {SENSOR!r} takes no depth options (nor min_confidence: "
                         f"sensor depth carries no confidence), got "
                         f"{sorted(options) + ['min_confidence'] * (min_confidence is not None)}")
    area = POSED_MIN_COMPONENT_AREA if min_component_area is None else min_component_area
    result = fuse_posed_depth(frames, voxel_size, sdf_trunc, depth_max, device, progress,
                              min_component_area=area)
    result.meta.update(method=method, frames=frames)
    return result


def _planar_prior(lf: LightField, disparity: Tensor, confidence: Tensor,
                  min_confidence: float) -> PlaneSnap:
    """Textureless regions filled with their borders' planes, then the whole
    map snapped to its dominant planes (``geodl.lightfield.depth``'s
    ``textureless`` and ``planes``)."""
    from geodl.lightfield.depth.planes import snap_to_planes
    from geodl.lightfield.depth.textureless import fill_textureless

    d, c = _check_maps(lf, disparity, confidence, min_confidence)
    fill = fill_textureless(d, c, _center_color(lf))
    return snap_to_planes(fill.disparity, fill.confidence, min_confidence=min_confidence)


def fuse_captures(captures: Sequence[LightField], disparities: Sequence[Tensor],
                  confidences: Sequence[Tensor | None] | None = None, voxel_size: float = 0.02,
                  min_confidence: float = MIN_CONFIDENCE, sdf_trunc: float | None = None,
                  depth_max: float | None = None, device: str | None = None,
                  progress: bool | None = None,
                  min_component_area: float = MIN_COMPONENT_AREA, planes: bool = PLANES
                  ) -> ReconstructionResult:
    """The second half of :func:`reconstruct_room`, for disparities already
    at hand: each capture's (H, W) centre-view ``disparities[i]`` (and
    optional ``confidences[i]``) -> (snapped to planes) -> depth frame and
    points -> TSDF mesh. ``seconds`` holds ``planes``, ``points``, ``fusion``
    and ``total``; the arguments are :func:`reconstruct_room`'s; the result
    holds the disparities and confidences that were fused."""
    captures, disparities = list(captures), list(disparities)
    confidences = [None] * len(captures) if confidences is None else list(confidences)
    if not captures or not (len(captures) == len(disparities) == len(confidences)):
        raise ValueError(f"captures, disparities, confidences: expected equally many (>= 1), "
                         f"got {len(captures)}, {len(disparities)}, {len(confidences)}")
    _check_voxel_size(voxel_size)
    start = time.perf_counter()
    confidences = [torch.isfinite(torch.as_tensor(d)).double() if c is None else c
                   for d, c in zip(disparities, confidences)]
    if planes:
        snaps = [_planar_prior(lf, d, c, min_confidence)
                 for lf, d, c in zip(_progress(captures, progress, "planes"), disparities,
                                     confidences)]
        disparities = [p.disparity for p in snaps]
        confidences = [p.confidence for p in snaps]
    t_planes = time.perf_counter()
    frames = [capture_frame(lf, d, c, min_confidence)
              for lf, d, c in zip(captures, disparities, confidences)]
    points = [capture_points(lf, d, c, min_confidence)
              for lf, d, c in zip(captures, disparities, confidences)]
    cloud = PointCloud(torch.cat([p.points for p in points]),
                       torch.cat([p.colors for p in points]))
    t_points = time.perf_counter()
    mesh = fuse_tsdf(frames, voxel_size, sdf_trunc, depth_max, device, progress,
                     min_component_area=min_component_area)
    end = time.perf_counter()
    seconds = {"planes": t_planes - start, "points": t_points - t_planes,
               "fusion": end - t_points, "total": end - start}
    return ReconstructionResult(mesh, cloud, seconds, disparities, confidences)
