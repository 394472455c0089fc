r"""``LightFieldRig``: the camera grid of a light-field camera array (HCI model).

A U x V grid of cameras with parallel optical axes. Camera ``(r, c)`` sits at
``center + b (c - c0) x_axis + b (r - r0) y_axis`` (OpenCV axes of the centre
camera: x right, y down) and its sensor is shifted so that points at the focus
distance :math:`F` have zero disparity. A pixel ``(x, y)`` of the centre view
with disparity :math:`d` then appears in view ``(r, c)`` at
``(x - d (c - c0), y - d (r - r0))``, and for every view

.. math:: d = b\, f_{px} (1/Z - 1/F),

with :math:`Z` the z-depth, :math:`b` the baseline in metres and
:math:`f_{px}` the focal length in pixels: the HCI 4D light field benchmark's
camera model and sign.

Disparity in pixels needs only the views: a rig may leave its camera,
baseline and focus distance unknown (``None``, e.g. a decoded Lytro capture
without calibration). Its grid operations work; the metric ones
(:meth:`~LightFieldRig.depth_to_disparity`, :meth:`~LightFieldRig.camera_at`,
...) raise a ``ValueError`` naming the missing values.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterator

import torch
from torch import Tensor

from geodl.ops.validation import as_tensor
from geodl.structures.camera import PinholeCamera


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not (0 < float(value) < float("inf")):
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


class LightFieldRig:
    """The cameras of a regular light-field array, without images.

    Args:
        camera: the centre view's :class:`PinholeCamera`, or None when unknown.
        baseline: distance between neighbouring cameras in metres (> 0), or None.
        focus_distance: z-depth of zero disparity in metres (> 0), or None.
        grid: (U, V) views per column and per row.
    """

    def __init__(self, camera: PinholeCamera | None, baseline: float | None,
                 focus_distance: float | None, grid: tuple[int, int] = (9, 9)) -> None:
        if camera is not None and not isinstance(camera, PinholeCamera):
            raise TypeError(f"camera: expected a PinholeCamera or None, got "
                            f"{type(camera).__name__}")
        if len(grid) != 2 or any(isinstance(g, bool) or not isinstance(g, numbers.Integral)
                                 or g < 1 for g in grid):
            raise ValueError(f"grid: expected two positive ints (U, V), got {grid!r}")
        self.camera = camera
        self.baseline = None if baseline is None else _positive(baseline, "baseline")
        self.focus_distance = (None if focus_distance is None
                               else _positive(focus_distance, "focus_distance"))
        self.grid = (int(grid[0]), int(grid[1]))

    def __repr__(self) -> str:
        if not self.is_metric:
            return (f"LightFieldRig({self.grid[0]}x{self.grid[1]} cameras, no calibration: "
                    f"{', '.join(self.missing())} unknown)")
        return (f"LightFieldRig({self.grid[0]}x{self.grid[1]} cameras, {self.camera.width}x"
                f"{self.camera.height}, baseline={self.baseline:.4g} m, "
                f"focus={self.focus_distance:.4g} m)")

    def missing(self) -> list[str]:
        """The names of the calibration values this rig lacks (empty when metric)."""
        return [name for name in ("camera", "baseline", "focus_distance")
                if getattr(self, name) is None]

    @property
    def is_metric(self) -> bool:
        """Whether camera, baseline and focus distance are all known, so that
        depth, 3D points and per-view cameras can be computed."""
        return not self.missing()

    def require_metric(self, what: str) -> None:
        """Raise ``ValueError`` naming ``what`` and the missing calibration values
        unless the rig is metric."""
        missing = self.missing()
        if missing:
            raise ValueError(
                f"{what} needs a calibrated camera; this light field lacks "
                f"{', '.join(missing)} (an HCI parameters.cfg gives them: focal_length_mm, "
                f"sensor_size_mm, baseline_mm, focus_distance_m and the pose). Disparity in "
                f"pixels needs none of them")

    @property
    def center_index(self) -> tuple[int, int]:
        return self.grid[0] // 2, self.grid[1] // 2

    @property
    def focal_px(self) -> float:
        if self.camera is None:
            self.require_metric("focal_px")
        return float(self.camera.K[0, 0])

    def check_index(self, r: int, c: int) -> None:
        U, V = self.grid
        if not (0 <= r < U and 0 <= c < V):
            raise ValueError(f"(r, c): expected in [0, {U}) x [0, {V}), got ({r}, {c})")

    def camera_at(self, r: int, c: int) -> PinholeCamera:
        """The :class:`PinholeCamera` of view ``(r, c)``: centre moved along the
        centre camera's axes, principal point shifted by ``b f / F`` per step."""
        self.check_index(r, c)
        self.require_metric("camera_at")
        r0, c0 = self.center_index
        dx, dy = self.baseline * (c - c0), self.baseline * (r - r0)
        shift = self.baseline / self.focus_distance  # pixels per view step / f
        K = self.camera.K.clone()
        K[0, 2] += shift * (c - c0) * self.camera.K[0, 0]
        K[1, 2] += shift * (r - r0) * self.camera.K[1, 1]
        E = self.camera.extrinsic.clone()
        E[:3, 3] -= torch.tensor([dx, dy, 0.0], dtype=E.dtype)  # centre moves by +R^T(dx, dy, 0)
        return PinholeCamera(K, E, self.camera.width, self.camera.height)

    def cameras(self) -> Iterator[tuple[int, int, PinholeCamera]]:
        """``(r, c, camera)`` for every view, row by row."""
        for r in range(self.grid[0]):
            for c in range(self.grid[1]):
                yield r, c, self.camera_at(r, c)

    # ------------------------------------------------ depth <-> disparity
    def depth_to_disparity(self, depth: Any) -> Tensor:
        r""":math:`d = b f (1/Z - 1/F)` elementwise (float64). NaN or infinite
        depth (nothing hit) gives NaN; a finite depth <= 0 raises ``ValueError``."""
        self.require_metric("depth_to_disparity")
        z = as_tensor(depth, "depth").double()
        finite = torch.isfinite(z)
        if (z[finite] <= 0).any():
            raise ValueError("depth: expected positive z-depth (NaN or inf where nothing is hit)")
        d = self.baseline * self.focal_px * (1.0 / torch.where(finite, z, 1.0)
                                             - 1.0 / self.focus_distance)
        return torch.where(finite, d, torch.nan)

    def disparity_to_depth(self, disparity: Any) -> Tensor:
        r""":math:`Z = 1 / (d / (b f) + 1/F)` elementwise (float64). NaN stays
        NaN; disparities at or beyond infinity (:math:`d \le -b f / F`, which
        no point in front of the camera has) give ``inf``."""
        self.require_metric("disparity_to_depth")
        d = as_tensor(disparity, "disparity").double()
        inv = d / (self.baseline * self.focal_px) + 1.0 / self.focus_distance
        z = 1.0 / inv.clamp_min(torch.finfo(torch.float64).tiny)
        return torch.where(inv > 0, z, torch.where(torch.isnan(d), torch.nan, torch.inf))
