r"""Posed depth maps (an RGB-D sensor's, or estimated) -> one TSDF room mesh.

:func:`fuse_posed_depth` fuses every frame of a
:class:`~geodl.structures.PosedImages` that carries depth with the one TSDF
of :mod:`geodl.recon.fusion` (Open3D's ``VoxelBlockGrid``): each frame's
depth through its depth camera, coloured by its image. Colour reaches the
volume in one of three ways: registered to the depth (the same camera),
through its own intrinsics at the same pose (Open3D's integration takes
two K and one extrinsic), or, for a colour camera elsewhere, resampled into
the depth camera first (each depth pixel's 3-D point projected into the
colour image, bilinear; occlusion between the two cameras is not modelled).

Scale: without a ``voxel_size`` the voxel is the median valid depth over
:data:`VOXELS_PER_MEDIAN_DEPTH`, so that metres, millimetres or the
arbitrary unit of a structure-from-motion model give the same mesh up to
scale; the truncation stays :class:`~geodl.recon.fusion.TSDFVolume`'s 4
voxels unless given.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import Tensor

from geodl.ops.sampling import sample_at_coordinates
from geodl.recon.fusion import DepthFrame, fuse_tsdf
from geodl.recon.result import ReconstructionResult
from geodl.structures import PinholeCamera, PointCloud, PosedImages

#: median depth over voxel edge when no voxel size is given, 2.3 cm voxels at the
#: 3 m median of the rendered rooms, 1.4 cm at the 1.8 m of the 7-Scenes frames
#: (experiments/README.md, "Rooms from RGB-D scans")
VOXELS_PER_MEDIAN_DEPTH = 128
#: pixels per frame side sampled for the median depth (a stride, for speed)
_MEDIAN_STRIDE = 4


def median_depth(frames: PosedImages) -> float:
    """The median of the frames' valid depths (every 4th pixel per side)."""
    if frames.depth is None:
        raise ValueError("frames: no depth to take a scale from")
    d = frames.depth[:, ::_MEDIAN_STRIDE, ::_MEDIAN_STRIDE].detach().cpu().numpy()
    d = d[d > 0]
    if d.size == 0:
        raise ValueError("frames: no valid depth (every depth value is 0)")
    # torch.median's lower median, through NumPy (one thread: 10x faster here)
    return float(np.partition(d, (d.size - 1) // 2)[(d.size - 1) // 2])


def auto_voxel_size(frames: PosedImages) -> float:
    """The voxel edge for ``frames`` in their units: median depth /
    :data:`VOXELS_PER_MEDIAN_DEPTH`."""
    return median_depth(frames) / VOXELS_PER_MEDIAN_DEPTH


def color_in_depth_camera(image: Tensor, color_camera: PinholeCamera, depth: Tensor,
                          depth_camera: PinholeCamera) -> Tensor:
    """(3, Hd, Wd) colour of each depth pixel: its 3-D point projected into
    ``color_camera`` and sampled bilinearly from ``image`` (3, Hc, Wc);
    pixels without depth or projecting outside the image are 0."""
    pts, valid = depth_camera.unproject(depth)
    uv, z = color_camera.project(pts.reshape(-1, 3))
    wc, hc = color_camera.width, color_camera.height
    u, v = uv[:, 0].reshape(depth.shape), uv[:, 1].reshape(depth.shape)
    out = sample_at_coordinates(image[None].float(), u, v, padding_mode="zeros")[0]
    inside = valid & (z.reshape(depth.shape) > 0) & (u >= 0) & (u <= wc) & (v >= 0) & (v <= hc)
    return torch.where(inside, out, 0.0).clamp(0, 1)


def posed_depth_frames(frames: PosedImages, masks: Tensor | None = None) -> list[DepthFrame]:
    """One :class:`~geodl.recon.fusion.DepthFrame` per frame (module docstring
    for the colour); ``masks`` (N, Hd, Wd) bool leaves pixels out."""
    if not isinstance(frames, PosedImages):
        raise TypeError(f"frames: expected PosedImages, got {type(frames).__name__}")
    if frames.depth is None:
        raise ValueError("frames: these posed images carry no depth (estimate it first, e.g. "
                         "with multi-view stereo)")
    if masks is not None:
        masks = torch.as_tensor(masks)
        if masks.dtype != torch.bool or tuple(masks.shape) != tuple(frames.depth.shape):
            raise ValueError(f"masks: expected bool of shape {tuple(frames.depth.shape)}, got "
                             f"{masks.dtype} {tuple(masks.shape)}")
    out = []
    for k in range(len(frames)):
        dc, cc = frames.depth_camera(k), frames.cameras[k]
        mask = None if masks is None else masks[k]
        if frames.depth_cameras is None:
            out.append(DepthFrame(dc, frames.depth[k], frames.images[k], mask))
        elif torch.allclose(dc.extrinsic, cc.extrinsic, atol=1e-9):
            out.append(DepthFrame(dc, frames.depth[k], frames.images[k], mask, color_camera=cc))
        else:
            color = color_in_depth_camera(frames.images[k], cc, frames.depth[k], dc)
            out.append(DepthFrame(dc, frames.depth[k], color, mask))
    return out


def frame_points(frames: PosedImages, masks: Tensor | None = None,
                 stride: int = 1) -> PointCloud:
    """The frames' valid depth pixels (every ``stride``-th per side) as one
    coloured ``PointCloud`` in world coordinates."""
    pts, cols = [], []
    for f in posed_depth_frames(frames, masks):
        cam = f.camera
        depth = f.depth.double()
        if f.mask is not None:
            depth = torch.where(f.mask, depth, 0.0)
        p, valid = cam.unproject(depth)
        color = f.color if f.color_camera is None else \
            color_in_depth_camera(f.color, f.color_camera, f.depth, cam)
        p, valid, color = p[::stride, ::stride], valid[::stride, ::stride], \
            color[:, ::stride, ::stride]
        pts.append(p[valid])
        cols.append(color.permute(1, 2, 0)[valid].double())
    return PointCloud(torch.cat(pts), torch.cat(cols))


def fuse_posed_depth(frames: PosedImages, voxel_size: float | None = None,
                     sdf_trunc: float | None = None, depth_max: float | None = None,
                     device: str | None = None, progress: bool | None = None,
                     min_weight: float = 1.0, min_component_area: float = 0.0,
                     outlier_neighbours: int | None = None, masks: Tensor | None = None,
                     points: bool = False):
    """One coloured mesh from the depth of posed frames, by TSDF fusion.

    Args:
        frames: ``PosedImages`` with ``depth`` (a sensor's, or estimated and
            written into a ``PosedImages`` by the caller), z-depth in the
            frames' units, 0 = none.
        voxel_size: voxel edge in those units (default
            :func:`auto_voxel_size`).
        sdf_trunc, depth_max, device: see :class:`~geodl.recon.fusion.TSDFVolume`.
        progress: a tqdm bar over the frames (None: only on a terminal).
        min_weight, min_component_area, outlier_neighbours: see
            :meth:`~geodl.recon.fusion.TSDFVolume.extract_mesh`.
        masks: optional (N, Hd, Wd) bool, False = leave the pixel out (e.g.
            low confidence of estimated depth).
        points: also return the frames' coloured points (every 4th pixel
            per side; off by default: 50 frames of 640 x 480 are 15 M points).

    Returns:
        a :class:`~geodl.recon.reconstruct.ReconstructionResult`: the mesh,
        ``points`` (None unless asked), ``seconds`` (``frames``, ``fusion``,
        ``total``; ``per_frame`` = total / N) and ``voxel_size`` in ``meta``.
    """

    start = time.perf_counter()
    depth_frames = posed_depth_frames(frames, masks)
    if voxel_size is None:
        voxel_size = auto_voxel_size(frames)
    t_frames = time.perf_counter()
    mesh = fuse_tsdf(depth_frames, voxel_size, sdf_trunc, depth_max, device, progress,
                     min_weight, min_component_area, outlier_neighbours)
    end = time.perf_counter()
    cloud = frame_points(frames, masks, stride=4) if points else None
    seconds = {"frames": t_frames - start, "fusion": end - t_frames, "total": end - start,
               "per_frame": (end - start) / len(frames)}
    return ReconstructionResult(mesh, cloud, seconds, meta={"voxel_size": voxel_size})
