r"""``LightField``: a regular U x V camera array, HCI-benchmark conventions.

``views`` is (U, V, C, H, W): U = view row (top to bottom), V = view column
(left to right); the centre view is ``(U // 2, V // 2)``. The cameras share
orientation and intrinsics up to a principal-point shift: camera ``(r, c)``
sits at ``center + b (c - c0) x_axis + b (r - r0) y_axis`` (OpenCV axes of the
centre camera: x right, y down) and its sensor is shifted so that points at
the focus distance :math:`F` have zero disparity. Then a centre pixel
``(x, y)`` with disparity :math:`d` appears in view ``(r, c)`` at
``(x - d (c - c0), y - d (r - r0))`` with

.. math:: d = b\, f_{px} (1/Z - 1/F),

where :math:`Z` is the z-depth, :math:`b` the baseline in metres and
:math:`f_{px}` the focal length in pixels. This is the HCI 4D light field
benchmark's camera model and sign.
"""
from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import Tensor

from geodl.ops.validation import as_tensor
from geodl.structures.camera import PinholeCamera


class LightField:
    """Views of a regular camera array plus the geometry that relates them.

    Args:
        views: (U, V, C, H, W) float images.
        camera: the centre view's :class:`PinholeCamera` (H x W).
        baseline: distance between neighbouring cameras in metres (> 0).
        focus_distance: z-depth of zero disparity in metres (> 0).
        disparity: optional (H, W) ground-truth disparity of the centre view.
        depth: optional (H, W) ground-truth z-depth of the centre view.
        meta: free-form metadata (scene name, disparity range, ...).
    """

    def __init__(self, views: Any, camera: PinholeCamera, baseline: float,
                 focus_distance: float, disparity: Any = None, depth: Any = None,
                 meta: dict | None = None) -> None:
        v = as_tensor(views, "views")
        if not v.is_floating_point():
            v = v.float()
        if v.dim() != 5:
            raise ValueError(f"views: expected shape (U, V, C, H, W), got {tuple(v.shape)}")
        U, V, C, H, W = v.shape
        if min(U, V, C, H, W) < 1:
            raise ValueError(f"views: every dimension must be >= 1, got {tuple(v.shape)}")
        if not torch.isfinite(v).all():
            raise ValueError("views: contains NaN or inf")
        if not isinstance(camera, PinholeCamera):
            raise TypeError(f"camera: expected a PinholeCamera, got {type(camera).__name__}")
        if (camera.height, camera.width) != (H, W):
            raise ValueError(f"camera: image size {camera.height}x{camera.width} does not "
                             f"match the views' {H}x{W}")
        for name, val in (("baseline", baseline), ("focus_distance", focus_distance)):
            if isinstance(val, bool) or not isinstance(val, numbers.Real) or \
                    not (0 < float(val) < float("inf")):
                raise ValueError(f"{name}: expected a positive finite number, got {val!r}")
        self.views, self.camera = v, camera
        self.baseline, self.focus_distance = float(baseline), float(focus_distance)
        self.disparity = None if disparity is None else self._map(disparity, "disparity")
        self.depth = None if depth is None else self._map(depth, "depth")
        self.meta = dict(meta or {})

    def _map(self, value: Any, name: str) -> Tensor:
        t = as_tensor(value, name).double()
        if tuple(t.shape) != (self.height, self.width):
            raise ValueError(f"{name}: expected shape ({self.height}, {self.width}), "
                             f"got {tuple(t.shape)}")
        return t

    # ---------------------------------------------------------------- shape
    @property
    def grid_shape(self) -> tuple[int, int]:
        return self.views.shape[0], self.views.shape[1]

    @property
    def height(self) -> int:
        return self.views.shape[3]

    @property
    def width(self) -> int:
        return self.views.shape[4]

    @property
    def center_index(self) -> tuple[int, int]:
        return self.views.shape[0] // 2, self.views.shape[1] // 2

    @property
    def center_view(self) -> Tensor:
        """(C, H, W) centre image."""
        r, c = self.center_index
        return self.views[r, c]

    @property
    def focal_px(self) -> float:
        return float(self.camera.K[0, 0])

    def __repr__(self) -> str:
        U, V, C, H, W = self.views.shape
        return (f"LightField({U}x{V} views, {C}x{H}x{W}, baseline={self.baseline:.4g} m, "
                f"focus={self.focus_distance:.4g} m)")

    def view(self, r: int, c: int) -> Tensor:
        """(C, H, W) image of view row ``r``, column ``c``."""
        U, V = self.grid_shape
        if not (0 <= r < U and 0 <= c < V):
            raise ValueError(f"(r, c): expected in [0, {U}) x [0, {V}), got ({r}, {c})")
        return self.views[r, c]

    # -------------------------------------------------------------- geometry
    def depth_to_disparity(self, depth: Tensor) -> Tensor:
        """:math:`d = b f (1/Z - 1/F)`; depth must be positive."""
        z = as_tensor(depth, "depth").double()
        if (z <= 0).any():
            raise ValueError("depth: expected positive z-depth")
        return self.baseline * self.focal_px * (1.0 / z - 1.0 / self.focus_distance)

    def disparity_to_depth(self, disparity: Tensor) -> Tensor:
        """:math:`Z = 1 / (d / (b f) + 1/F)`; disparities at or beyond infinity
        (``d <= -b f / F``) raise ``ValueError``."""
        d = as_tensor(disparity, "disparity").double()
        inv = d / (self.baseline * self.focal_px) + 1.0 / self.focus_distance
        if (inv <= 0).any():
            raise ValueError(f"disparity: values <= {-self.baseline * self.focal_px / self.focus_distance:.4g}"
                             " lie at or beyond infinity")
        return 1.0 / inv

    def camera_at(self, r: int, c: int) -> PinholeCamera:
        """The :class:`PinholeCamera` of view ``(r, c)`` (shifted centre and sensor)."""
        self.view(r, c)  # index check
        r0, c0 = self.center_index
        dx, dy = self.baseline * (c - c0), self.baseline * (r - r0)
        shift = self.baseline * self.focal_px / self.focus_distance
        K = self.camera.K.clone()
        K[0, 2] += shift * (c - c0) * (self.camera.K[0, 0] / self.focal_px)
        K[1, 2] += shift * (r - r0) * (self.camera.K[1, 1] / self.focal_px)
        E = self.camera.extrinsic.clone()
        E[:3, 3] -= torch.tensor([dx, dy, 0.0], dtype=torch.float64)  # centre moves by +R^T(dx, dy, 0)
        return PinholeCamera(K, E, self.width, self.height)
