"""``PosedImages``: images of one scene, each with its own pinhole camera, and
the sensor's depth where one was measured.

The one structure every capture reader fills (RGB-D sequences, COLMAP models,
NeRF-style ``transforms.json``) and every posed-image consumer reads
(multi-view stereo, TSDF fusion). A light field is the special case of a
regular grid of cameras sharing one orientation.

Shapes: ``images`` (N, 3, H, W) float32 in [0, 1]; ``depth`` None or
(N, Hd, Wd) float32 z-depth in scene units, 0 where the sensor gave none (a
depth sensor's image may differ in size from the colour image: each frame then
has a ``depth_cameras`` entry); ``cameras`` N :class:`PinholeCamera` of the
colour images, all of size (W, H).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from geodl.ops.validation import finite_range
from geodl.structures.camera import PinholeCamera


def _finite_nonnegative(t: Tensor) -> bool:
    """Whether every value is finite and >= 0."""
    r = finite_range(t)
    return r is not None and r[0] >= 0


@dataclass
class PosedImages:
    """Images with cameras (and optional depth) of one scene.

    Args:
        images: (N, 3, H, W) float32 colour in [0, 1].
        cameras: N cameras of the images (each ``width`` = W, ``height`` = H).
        depth: None, or (N, Hd, Wd) float32 z-depth, 0 = no measurement.
        depth_cameras: None when depth is registered to the colour images
            (Hd, Wd = H, W), else N cameras of the depth images.
        names: N frame names (file stems), for messages and outputs.
        meta: anything the reader knows besides (source layout, units, ...).
    """

    images: Tensor
    cameras: list[PinholeCamera]
    depth: Tensor | None = None
    depth_cameras: list[PinholeCamera] | None = None
    names: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.images, Tensor) or self.images.dim() != 4 or self.images.shape[1] != 3:
            shape = tuple(self.images.shape) if isinstance(self.images, Tensor) else type(self.images)
            raise ValueError(f"images: expected a (N, 3, H, W) tensor, got {shape}")
        if not self.images.is_floating_point():
            raise ValueError(f"images: expected floating point values in [0, 1], got {self.images.dtype}")
        n, _, h, w = self.images.shape
        if n == 0:
            raise ValueError("images: no frames")
        if len(self.cameras) != n:
            raise ValueError(f"cameras: {len(self.cameras)} cameras for {n} images")
        for k, cam in enumerate(self.cameras):
            if not isinstance(cam, PinholeCamera):
                raise ValueError(f"cameras[{k}]: expected a PinholeCamera, got {type(cam).__name__}")
            if (cam.width, cam.height) != (w, h):
                raise ValueError(f"cameras[{k}]: size {cam.width}x{cam.height} does not match the "
                                 f"images' {w}x{h}")
        if not self.names:
            self.names = [f"{k:06d}" for k in range(n)]
        if len(self.names) != n:
            raise ValueError(f"names: {len(self.names)} names for {n} images")
        if self.depth is not None:
            if not isinstance(self.depth, Tensor) or self.depth.dim() != 3 or self.depth.shape[0] != n:
                raise ValueError(f"depth: expected a (N={n}, Hd, Wd) tensor, got "
                                 f"{tuple(getattr(self.depth, 'shape', ()))}")
            if not _finite_nonnegative(self.depth):
                raise ValueError("depth: expected finite values >= 0 (0 = no measurement)")
            cams = self.depth_cameras
            hd, wd = self.depth.shape[1:]
            if cams is None:
                if (hd, wd) != (h, w):
                    raise ValueError(f"depth: size {wd}x{hd} differs from the images' {w}x{h}; "
                                     "give depth_cameras for a depth sensor of its own size")
            else:
                if len(cams) != n:
                    raise ValueError(f"depth_cameras: {len(cams)} cameras for {n} depth maps")
                for k, cam in enumerate(cams):
                    if (cam.width, cam.height) != (wd, hd):
                        raise ValueError(f"depth_cameras[{k}]: size {cam.width}x{cam.height} does "
                                         f"not match the depth maps' {wd}x{hd}")
        elif self.depth_cameras is not None:
            raise ValueError("depth_cameras given without depth")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        n, _, h, w = self.images.shape
        depth = "" if self.depth is None else f", depth {self.depth.shape[2]}x{self.depth.shape[1]}"
        return f"PosedImages({n} frames, {w}x{h}{depth})"

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W) of the colour images."""
        return int(self.images.shape[2]), int(self.images.shape[3])

    def depth_camera(self, k: int) -> PinholeCamera:
        """The camera of frame ``k``'s depth map (the colour camera when registered)."""
        if self.depth is None:
            raise ValueError("depth_camera: these frames carry no depth")
        return self.cameras[k] if self.depth_cameras is None else self.depth_cameras[k]

    def centers(self) -> Tensor:
        """(N, 3) float64 camera centres in world coordinates."""
        return torch.stack([cam.center for cam in self.cameras])

    def subset(self, index: list[int]) -> "PosedImages":
        """The frames ``index`` (in that order)."""
        idx = torch.as_tensor(index, dtype=torch.long)
        return PosedImages(
            self.images[idx], [self.cameras[i] for i in index],
            None if self.depth is None else self.depth[idx],
            None if self.depth_cameras is None else [self.depth_cameras[i] for i in index],
            [self.names[i] for i in index], dict(self.meta))
