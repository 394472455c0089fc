"""Room (or object) reconstruction from posed photos: multi-view stereo
(:func:`geodl.mvs.multi_view_stereo`) -> consistent, confident depth ->
TSDF fusion, in the scene's own units.

Units follow the model: the voxel is :data:`VOXEL_FOOTPRINTS` pixel
footprints at the scene's median depth (the size of one full-resolution
pixel there, ``SceneRange.footprint``), the truncation 4 voxels, the
smallest kept mesh piece :data:`MIN_COMPONENT_VOXELS` voxel faces; each
can be given instead.
"""
from __future__ import annotations

import time

import torch

from geodl.mvs import StereoResult, multi_view_stereo
from geodl.recon.fusion import DepthFrame, fuse_tsdf
from geodl.recon.result import ReconstructionResult
from geodl.structures import PointCloud, PosedImages

#: voxel edge in full-resolution pixel footprints at the median depth, 2 cm for
#: a room photographed at 640 x 480 with a 65 deg lens from about 3 m
VOXEL_FOOTPRINTS = 3.0
#: pixels of lower stereo confidence are not fused (a floor; the consistency
#: filter does the work; not tuned on training rooms yet)
MIN_CONFIDENCE = 0.05
#: mesh pieces smaller than this many voxel faces (each voxel_size^2) are
#: removed, as the light-field rooms' 0.1 m^2 at 2 cm voxels
MIN_COMPONENT_VOXELS = 250.0


def stereo_frames(stereo: StereoResult, min_confidence: float = MIN_CONFIDENCE
                  ) -> list[DepthFrame]:
    """Each view's consistent, confident depth as a :class:`DepthFrame` at the
    working resolution, with its colour."""
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"min_confidence: expected in [0, 1], got {min_confidence}")
    frames = []
    for d, c, ok, cam, img in zip(stereo.depth, stereo.confidence, stereo.consistent,
                                  stereo.cameras, stereo.images):
        mask = (ok & (c >= min_confidence) & (d > 0)).cpu()
        frames.append(DepthFrame(cam, d.detach().cpu().float(), img.detach().cpu().clamp(0, 1)
                                 .float(), mask))
    return frames


def fuse_stereo(stereo: StereoResult, voxel_size: float | None = None,
                sdf_trunc: float | None = None, min_confidence: float = MIN_CONFIDENCE,
                min_component_area: float | None = None, device: str | None = None,
                progress: bool | None = None) -> ReconstructionResult:
    """TSDF fusion of a :class:`~geodl.mvs.StereoResult` (module docstring
    for the defaults in scene units). ``seconds`` holds ``fusion``."""
    voxel = VOXEL_FOOTPRINTS * stereo.scene.footprint if voxel_size is None else float(voxel_size)
    if not voxel > 0:
        raise ValueError(f"voxel_size: expected > 0 scene units, got {voxel_size!r}")
    area = MIN_COMPONENT_VOXELS * voxel ** 2 if min_component_area is None else min_component_area
    start = time.perf_counter()
    frames = stereo_frames(stereo, min_confidence)
    if not any(bool(f.mask.any()) for f in frames):
        raise ValueError("multi-view stereo: no pixel is consistent across views (too few or "
                         "too distant neighbours, or a wrong depth range)")
    # Fused here rather than through a posed-depth fusion of geodl.recon: the
    # estimated depth lives at the working resolution with its own mask.
    mesh = fuse_tsdf(frames, voxel, sdf_trunc, None, device, progress,
                     min_component_area=area)
    pts, cols = [], []
    for f in frames:
        X, valid = f.camera.unproject(torch.where(f.mask, f.depth, torch.nan))
        keep = valid & f.mask
        pts.append(X[keep])
        cols.append(f.color.permute(1, 2, 0)[keep].double())
    cloud = PointCloud(torch.cat(pts), torch.cat(cols))
    return ReconstructionResult(mesh, cloud, {"fusion": time.perf_counter() - start},
                                [f.depth for f in frames], list(stereo.confidence))


def reconstruct_photos(frames: PosedImages, voxel_size: float | None = None,
                       sdf_trunc: float | None = None, min_confidence: float = MIN_CONFIDENCE,
                       min_component_area: float | None = None, device: str | None = None,
                       progress: bool | None = None, **stereo_options) -> ReconstructionResult:
    """One mesh from posed photos: :func:`~geodl.mvs.multi_view_stereo`
    (``stereo_options``) then :func:`fuse_stereo`. ``seconds`` holds
    ``depth``, ``depth_per_view``, ``filter``, ``fusion`` and ``total``;
    ``disparity`` of the result holds the fused depth maps (NaN-free, 0 =
    none, at the working resolution)."""
    start = time.perf_counter()
    stereo = multi_view_stereo(frames, progress=progress, **stereo_options)
    result = fuse_stereo(stereo, voxel_size, sdf_trunc, min_confidence, min_component_area,
                         device, progress)
    result.seconds = {"depth": stereo.seconds["depth"], "depth_per_view": stereo.seconds["per_view"],
                      "filter": stereo.seconds["filter"], **result.seconds,
                      "total": time.perf_counter() - start}
    return result
