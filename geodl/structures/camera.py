"""``PinholeCamera``: intrinsics, world-to-camera extrinsic, projection and rays.

Frame: OpenCV (x right, y down, z forward). ``extrinsic`` maps world to camera
coordinates, the matrix Open3D's ray casting and TSDF integration take. Pixel
``(row i, col j)`` covers ``[j, j+1) x [i, i+1)`` in continuous image
coordinates, so its centre is ``(u, v) = (j + 0.5, i + 0.5)``: the convention
of Open3D's ``RaycastingScene.create_rays_pinhole``. Depth is z-depth along
the optical axis, not ray length.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from geodl.ops.validation import as_tensor

#: largest entry of abs(R R^T - I) of a pose's rotation block still taken as a
#: rotation (then re-orthonormalised); text poses are off by about 1e-4
RIGID_TOLERANCE = 1e-2


def _matrix(value: Any, name: str, shape: tuple[int, int]) -> Tensor:
    t = as_tensor(value, name).double()
    if tuple(t.shape) != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}: contains NaN or inf")
    return t


class PinholeCamera:
    """A pinhole camera.

    Args:
        K: (3, 3) intrinsics ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]``, fx, fy > 0.
        extrinsic: (4, 4) rigid world-to-camera transform ``[[R, t], [0, 1]]``.
        width, height: image size in pixels.
    """

    def __init__(self, K: Any, extrinsic: Any, width: int, height: int) -> None:
        self.K = _matrix(K, "K", (3, 3))
        if self.K[0, 0] <= 0 or self.K[1, 1] <= 0:
            raise ValueError(f"K: focal lengths must be positive, got fx={float(self.K[0, 0])}, "
                             f"fy={float(self.K[1, 1])}")
        if not torch.allclose(self.K[2], torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)) \
                or float(self.K[1, 0]) != 0.0:
            raise ValueError("K: expected last row [0, 0, 1] and K[1, 0] = 0")
        self.extrinsic = _matrix(extrinsic, "extrinsic", (4, 4))
        R = self.extrinsic[:3, :3]
        if not torch.allclose(self.extrinsic[3], torch.tensor([0.0, 0, 0, 1], dtype=torch.float64)):
            raise ValueError("extrinsic: expected last row [0, 0, 0, 1]")
        if not torch.allclose(R @ R.T, torch.eye(3, dtype=torch.float64), atol=1e-6) or \
                float(torch.linalg.det(R)) < 0:
            raise ValueError("extrinsic: rotation block is not a proper rotation (R R^T = I, det 1)")
        for name, val in (("width", width), ("height", height)):
            if not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"{name}: expected a positive int, got {val!r}")
        self.width, self.height = int(width), int(height)

    def __repr__(self) -> str:
        fx, fy, cx, cy = (float(self.K[0, 0]), float(self.K[1, 1]), float(self.K[0, 2]),
                          float(self.K[1, 2]))
        c = self.center.tolist()
        return (f"PinholeCamera({self.width}x{self.height}, fx={fx:.4g}, fy={fy:.4g}, "
                f"cx={cx:.4g}, cy={cy:.4g}, center=[{c[0]:.3g}, {c[1]:.3g}, {c[2]:.3g}])")

    # ------------------------------------------------------------ properties
    @property
    def R(self) -> Tensor:
        """(3, 3) world-to-camera rotation."""
        return self.extrinsic[:3, :3]

    @property
    def t(self) -> Tensor:
        """(3,) world-to-camera translation."""
        return self.extrinsic[:3, 3]

    @property
    def center(self) -> Tensor:
        """(3,) camera centre in world coordinates, ``-R^T t``."""
        return -self.R.T @ self.t

    @property
    def cam_to_world(self) -> Tensor:
        """(4, 4) inverse of the extrinsic."""
        out = torch.eye(4, dtype=torch.float64)
        out[:3, :3] = self.R.T
        out[:3, 3] = self.center
        return out

    # ------------------------------------------------------------ constructors
    @staticmethod
    def intrinsics(fov_deg: float, width: int, height: int) -> Tensor:
        """K with square pixels, horizontal field of view ``fov_deg`` and the
        principal point at the image centre."""
        if not 0 < fov_deg < 180:
            raise ValueError(f"fov_deg: expected in (0, 180), got {fov_deg}")
        f = 0.5 * width / math.tan(math.radians(fov_deg) / 2)
        return torch.tensor([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]],
                            dtype=torch.float64)

    @classmethod
    def look_at(cls, eye: Any, target: Any, up: Any = (0.0, 0.0, 1.0), *,
                K: Any = None, fov_deg: float = 60.0, width: int = 640,
                height: int = 480) -> "PinholeCamera":
        """Camera at ``eye`` looking at ``target`` with ``up`` pointing up in the image.

        Camera axes: z = towards the target, x = z x up (right), y = z x x (down).
        """
        eye_t = as_tensor(eye, "eye").double().reshape(-1)
        tgt = as_tensor(target, "target").double().reshape(-1)
        up_t = as_tensor(up, "up").double().reshape(-1)
        z = tgt - eye_t
        if z.norm() < 1e-12:
            raise ValueError("eye and target: must differ")
        z = z / z.norm()
        x = torch.linalg.cross(z, up_t)
        if x.norm() < 1e-9:
            raise ValueError("up: must not be parallel to the viewing direction")
        x = x / x.norm()
        y = torch.linalg.cross(z, x)
        R = torch.stack([x, y, z])
        E = torch.eye(4, dtype=torch.float64)
        E[:3, :3] = R
        E[:3, 3] = -R @ eye_t
        if K is None:
            K = cls.intrinsics(fov_deg, width, height)
        return cls(K, E, width, height)

    # ---------------------------------------------------------------- maths
    def world_to_camera(self, points: Tensor) -> Tensor:
        """(N, 3) world -> camera coordinates."""
        p = as_tensor(points, "points").double()
        return p @ self.R.T + self.t

    def project(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Project (N, 3) world points.

        Returns:
            uv: (N, 2) continuous pixel coordinates (pixel centres at +0.5);
            depth: (N,) z-depth (<= 0 means behind the camera; uv is then meaningless).
        """
        p = as_tensor(points, "points").double()
        if p.dim() != 2 or p.shape[1] != 3:
            raise ValueError(f"points: expected shape (N, 3), got {tuple(p.shape)}")
        pc = self.world_to_camera(p)
        z = pc[:, 2]
        h = pc @ self.K.T
        safe = torch.where(z.abs() > 1e-300, z, torch.ones_like(z))
        return h[:, :2] / safe[:, None], z

    def pixel_grid(self) -> Tensor:
        """(H, W, 2) continuous coordinates of the pixel centres."""
        v, u = torch.meshgrid(torch.arange(self.height, dtype=torch.float64) + 0.5,
                              torch.arange(self.width, dtype=torch.float64) + 0.5, indexing="ij")
        return torch.stack([u, v], -1)

    def rays(self) -> tuple[Tensor, Tensor]:
        """Per-pixel rays in world coordinates.

        Returns:
            origins: (H, W, 3), the camera centre;
            directions: (H, W, 3), not normalised: their camera-frame z is 1,
            so a hit at ray parameter ``t`` has z-depth ``t``.
        """
        d_world = self._directions(torch.float64)
        return self.center.expand(self.height, self.width, 3).clone(), d_world

    def ray_bundle(self) -> np.ndarray:
        """(H, W, 6) float32 rows ``[origin, direction]`` of ``rays()``, the
        layout Open3D's ``RaycastingScene.cast_rays`` takes (no extra copies)."""
        out = np.empty((self.height, self.width, 6), np.float32)
        out[..., :3] = self.center.numpy()
        out[..., 3:] = self._directions(torch.float32).numpy()
        return out

    def _directions(self, dtype: torch.dtype) -> Tensor:
        # d_world = R^T K^-1 (u, v, 1): with M = R^T K^-1 that is
        # u M[:, 0] + v M[:, 1] + M[:, 2], three broadcasts instead of a grid product.
        M = (self.R.T @ torch.linalg.inv(self.K)).to(dtype)
        u = torch.arange(self.width, dtype=dtype, device=M.device) + 0.5
        v = torch.arange(self.height, dtype=dtype, device=M.device) + 0.5
        return (u[None, :, None] * M[:, 0] + v[:, None, None] * M[:, 1]) + M[:, 2]

    def unproject(self, depth: Tensor) -> tuple[Tensor, Tensor]:
        """Back-project a z-depth map, on the depth's device.

        Args:
            depth: (H, W) z-depth in metres; pixels with non-finite or
                non-positive depth are invalid.

        Returns:
            points: (H, W, 3) world coordinates (zero at invalid pixels);
            valid: (H, W) bool.
        """
        d = as_tensor(depth, "depth").double()
        if tuple(d.shape) != (self.height, self.width):
            raise ValueError(f"depth: expected shape ({self.height}, {self.width}), "
                             f"got {tuple(d.shape)}")
        valid = torch.isfinite(d) & (d > 0)
        origins, dirs = (t.to(d.device) for t in self.rays())
        pts = origins + dirs * torch.where(valid, d, 0.0)[..., None]
        return torch.where(valid[..., None], pts, 0.0), valid

    def crop(self, top: int, left: int, height: int, width: int) -> "PinholeCamera":
        """The camera whose image is the window ``[top, top + height) x
        [left, left + width)`` of this one (principal point shifted): its rays
        are exactly those pixels' rays."""
        if not (0 <= top and 0 <= left and height >= 1 and width >= 1
                and top + height <= self.height and left + width <= self.width):
            raise ValueError(f"crop: window ({top}, {left}, {height}, {width}) is not inside "
                             f"the {self.height} x {self.width} image")
        K = self.K.clone()
        K[0, 2] -= left
        K[1, 2] -= top
        return PinholeCamera(K, self.extrinsic, width, height)

    def scaled(self, factor: float) -> "PinholeCamera":
        """Same camera at ``factor`` times the resolution (K scaled accordingly)."""
        if factor <= 0:
            raise ValueError(f"factor: expected > 0, got {factor}")
        K = self.K.clone()
        K[:2] *= factor
        return PinholeCamera(K, self.extrinsic, max(1, round(self.width * factor)),
                             max(1, round(self.height * factor)))


def rigid_extrinsic(cam_to_world: np.ndarray, source: str) -> np.ndarray:
    """The world-to-camera 4 x 4 of a camera-to-world ``cam_to_world``, its
    rotation re-orthonormalised (nearest rotation, by SVD) when within
    :data:`RIGID_TOLERANCE` of one; ``source`` names the pose in errors."""
    T = np.asarray(cam_to_world, dtype=np.float64)
    if T.shape != (4, 4):
        raise ValueError(f"{source}: expected a 4 x 4 pose, got shape {T.shape}")
    if not np.isfinite(T).all():
        raise ValueError(f"{source}: the pose holds NaN or infinite values")
    if not np.allclose(T[3], [0, 0, 0, 1], atol=1e-6):
        raise ValueError(f"{source}: not a rigid transform (last row {T[3].tolist()}, "
                         "expected 0 0 0 1)")
    R = T[:3, :3]
    off = float(np.abs(R @ R.T - np.eye(3)).max())
    det = float(np.linalg.det(R))
    if off > RIGID_TOLERANCE or det <= 0:
        raise ValueError(f"{source}: not a rigid transform (rotation block: |R R^T - I| = "
                         f"{off:.3g}, det {det:.3g}; expected a rotation)")
    U, _, Vt = np.linalg.svd(R)
    R = U @ Vt
    E = np.eye(4)
    E[:3, :3] = R.T
    E[:3, 3] = -R.T @ T[:3, 3]
    return E
