r"""``LightField``: the views of a regular U x V camera array (HCI-benchmark
conventions) with its rig and, where known, its ground truth.

``views`` is (U, V, C, H, W): U = view row (top to bottom), V = view column
(left to right); the centre view is ``(U // 2, V // 2)``. The cameras are a
:class:`~geodl.structures.LightFieldRig`: a centre pixel ``(x, y)`` with
disparity :math:`d` appears in view ``(r, c)`` at
``(x - d (c - c0), y - d (r - r0))`` with :math:`d = b f_{px} (1/Z - 1/F)`.

Disparity in pixels needs only the views, so the camera, baseline and focus
distance may be None (a capture without calibration); depth and per-view
cameras then raise a ``ValueError`` naming the missing values.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from geodl.ops.validation import as_tensor
from geodl.structures.camera import PinholeCamera
from geodl.structures.disparity_ground_truth import GroundTruth
from geodl.structures.lightfield_rig import LightFieldRig


class LightField:
    """Views of a regular camera array plus the geometry that relates them.

    Args:
        views: (U, V, C, H, W) float images (uint8 / uint16 are scaled to [0, 1]).
        camera: the centre view's :class:`PinholeCamera` (H x W), or None
            when unknown (disparity in pixels only).
        baseline: distance between neighbouring cameras in metres (> 0), or None.
        focus_distance: z-depth of zero disparity in metres (> 0), or None.
        ground_truth: optional :class:`GroundTruth` of the centre view (H x W).
        meta: free-form metadata (scene name, scene parameters, ...).
    """

    def __init__(self, views: Any, camera: PinholeCamera | None = None,
                 baseline: float | None = None, focus_distance: float | None = None,
                 ground_truth: GroundTruth | None = None,
                 meta: dict | None = None) -> None:
        v = as_tensor(views, "views")
        if not v.is_floating_point():
            # 8- and 16-bit images are scaled to [0, 1]; other integer types
            # have no agreed white level, so they are refused, not guessed
            white = {torch.uint8: 255.0, getattr(torch, "uint16", None): 65535.0}.get(v.dtype)
            if white is None:
                raise TypeError(f"views: expected float images, or uint8 / uint16 ones "
                                f"(scaled by 1/255, 1/65535), got dtype {v.dtype}")
            v = v.to(torch.float32) / white
        if v.dim() != 5:
            raise ValueError(f"views: expected shape (U, V, C, H, W), got {tuple(v.shape)}")
        U, V, C, H, W = v.shape
        if min(U, V, C, H, W) < 1:
            raise ValueError(f"views: every dimension must be >= 1, got {tuple(v.shape)}")
        if not torch.isfinite(v).all():
            raise ValueError("views: contains NaN or inf")
        if camera is not None and not isinstance(camera, PinholeCamera):
            raise TypeError(f"camera: expected a PinholeCamera or None, got "
                            f"{type(camera).__name__}")
        if camera is not None and (camera.height, camera.width) != (H, W):
            raise ValueError(f"camera: image size {camera.height}x{camera.width} does not "
                             f"match the views' {H}x{W}")
        self.views = v
        self.rig = LightFieldRig(camera, baseline, focus_distance, (U, V))
        self.ground_truth = ground_truth
        self.meta = dict(meta or {})

    @property
    def ground_truth(self) -> GroundTruth | None:
        return self._ground_truth

    @ground_truth.setter
    def ground_truth(self, gt: GroundTruth | None) -> None:
        if gt is not None:
            if not isinstance(gt, GroundTruth):
                raise TypeError(f"ground_truth: expected a GroundTruth, got {type(gt).__name__}")
            if gt.shape is not None and gt.shape != (self.height, self.width):
                raise ValueError(f"ground_truth: maps of shape {gt.shape}, the views are "
                                 f"{self.height}x{self.width}")
            if gt.view_depth is not None and tuple(gt.view_depth.shape[:2]) != self.grid_shape:
                raise ValueError(f"ground_truth.view_depth: {tuple(gt.view_depth.shape[:2])} "
                                 f"views, the light field has {self.grid_shape}")
        self._ground_truth = gt

    @property
    def disparity(self) -> Tensor | None:
        """(H, W) ground-truth disparity of the centre view, or None."""
        return None if self._ground_truth is None else self._ground_truth.disparity

    @property
    def depth(self) -> Tensor | None:
        """(H, W) ground-truth z-depth of the centre view, or None."""
        return None if self._ground_truth is None else self._ground_truth.depth

    # ---------------------------------------------------------------- shape
    @property
    def camera(self) -> PinholeCamera | None:
        """The centre view's camera (None when the light field has no calibration)."""
        return self.rig.camera

    @property
    def baseline(self) -> float | None:
        return self.rig.baseline

    @property
    def focus_distance(self) -> float | None:
        return self.rig.focus_distance

    @property
    def is_metric(self) -> bool:
        """Whether camera, baseline and focus distance are known (depth, 3D points)."""
        return self.rig.is_metric

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
        return self.rig.center_index

    @property
    def center_view(self) -> Tensor:
        """(C, H, W) centre image."""
        r, c = self.center_index
        return self.views[r, c]

    @property
    def focal_px(self) -> float:
        return self.rig.focal_px

    def __repr__(self) -> str:
        U, V, C, H, W = self.views.shape
        if not self.is_metric:
            return (f"LightField({U}x{V} views, {C}x{H}x{W}, no calibration: "
                    f"{', '.join(self.rig.missing())} unknown)")
        return (f"LightField({U}x{V} views, {C}x{H}x{W}, baseline={self.baseline:.4g} m, "
                f"focus={self.focus_distance:.4g} m)")

    def view(self, r: int, c: int) -> Tensor:
        """(C, H, W) image of view row ``r``, column ``c``."""
        self.rig.check_index(r, c)
        return self.views[r, c]

    # -------------------------------------------------------------- geometry
    def depth_to_disparity(self, depth: Any) -> Tensor:
        """NaN-aware :math:`d = b f (1/Z - 1/F)`: see :meth:`LightFieldRig.depth_to_disparity`."""
        return self.rig.depth_to_disparity(depth)

    def disparity_to_depth(self, disparity: Any) -> Tensor:
        """NaN-aware :math:`Z = 1 / (d / (b f) + 1/F)`: see
        :meth:`LightFieldRig.disparity_to_depth`."""
        return self.rig.disparity_to_depth(disparity)

    def camera_at(self, r: int, c: int) -> PinholeCamera:
        """The :class:`PinholeCamera` of view ``(r, c)`` (shifted centre and sensor)."""
        return self.rig.camera_at(r, c)
