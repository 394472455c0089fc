"""One interface to every disparity estimator.

``estimate_disparity(lf, method=..., **options)`` returns the centre view's
disparity (H, W) in the HCI sign convention and a confidence (H, W) in
[0, 1]. The search range comes from the scene (``disp_min`` / ``disp_max``
of its ``parameters.cfg``, as ``load_hci`` keeps it in ``meta["parameters"]``)
widened by a margin, or from the ``disp_range`` option; never from the
ground truth. Methods register themselves in :data:`METHODS`.

Last, when asked (``planes=True``), the answer is snapped to the scene's
dominant planes (:func:`~geodl.lightfield.depth.planes.snap_to_planes`, its
defaults: planes RANSAC-fitted to the confident pixels; a connected region
within 0.2 px of a plane whose pixels are at least half confident inliers
takes the plane's disparity). It is a prior for man-made scenes (the rooms),
not a matching step, so it is off by default for every method: on curved
objects it turns smooth surfaces into plane pieces (a real Lytro capture of a
toy dinosaur becomes stair-steps). Where it helps, measured on training rooms
100-106 (never the benchmark rooms), mean BadPix 0.07 / MSE x100 as estimated
-> snapped: ``cost_volume`` (the rooms' matching) 11.86 / 2.89 -> 8.88 / 2.87, ``refine_net`` 10.69
/ 2.79 -> 8.10 / 2.78 (``experiments/depth_choices.py``); the room benchmark
(``experiments/lightfield_depth.py``) asks for it. On the HCI scene antinous
(a marble bust) ``cost_volume`` with the rooms' matching and its Lucas-Kanade
refinement scores BadPix 0.07 37.6 % without and 35.5 % with it. The room
reconstruction applies its own fill and snap (:func:`geodl.recon.reconstruct.estimate_for_fusion`).
"""
from __future__ import annotations

import math
from typing import Callable

from torch import Tensor

from geodl.lightfield.depth.disparity_range import estimate_disparity_range
from geodl.lightfield.depth.planes import snap_to_planes
from geodl.structures import LightField

#: name -> ``function(lf, disp_range, **options) -> (disparity, confidence)``
METHODS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {}
#: name -> whether :func:`estimate_disparity` snaps the method's answer to planes by default
#: (none does: module docstring)
PLANAR_PRIOR: dict[str, bool] = {}


def register_method(name: str, fn: Callable[..., tuple[Tensor, Tensor]],
                    planes: bool = False) -> None:
    """Make ``fn(lf, disp_range, **options)`` available as ``method=name``;
    ``planes``: snap its answers to the scene's planes unless asked not to
    (for a method that only makes sense with the prior)."""
    METHODS[name] = fn
    PLANAR_PRIOR[name] = bool(planes)


def check_disp_range(disp_range) -> tuple[float, float]:
    """``(min, max)`` as floats, finite with min < max, or ``ValueError``."""
    try:
        lo, hi = (float(v) for v in disp_range)
    except (TypeError, ValueError):
        raise ValueError(f"disp_range: expected (min, max) numbers, got {disp_range!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"disp_range: expected finite (min, max) with min < max, got ({lo}, {hi})")
    return lo, hi


def scene_disparity_range(lf: LightField, disp_range: tuple[float, float] | None = None,
                          margin: float = 0.25) -> tuple[float, float]:
    """The range to search: ``disp_range`` when given, else the scene's
    ``disp_min``/``disp_max`` (from ``parameters.cfg``), else the range
    estimated from the views
    (:func:`~geodl.lightfield.depth.disparity_range.estimate_disparity_range`,
    kept in ``lf.meta["estimated_disp_range"]``), widened by ``margin`` px on
    each side."""
    if disp_range is not None:
        return check_disp_range(disp_range)
    p = lf.meta.get("parameters")
    lo, hi = (getattr(p, "disp_min", None), getattr(p, "disp_max", None)) if p else (None,) * 2
    if lo is None or hi is None:
        if "estimated_disp_range" not in lf.meta:
            lf.meta["estimated_disp_range"] = estimate_disparity_range(lf)
        lo, hi = lf.meta["estimated_disp_range"]
    return check_disp_range((float(lo) - margin, float(hi) + margin))


def estimate_disparity(lf: LightField, method: str = "cost_volume",
                       disp_range: tuple[float, float] | None = None,
                       planes: bool | None = None, **options
                       ) -> tuple[Tensor, Tensor]:
    """Disparity (H, W) of the centre view and its confidence (H, W).

    Args:
        lf: an RGB light field (any U x V grid with a centre view).
        method: a name in :data:`METHODS` (``cost_volume``,
            ``structure_tensor``, and the learned ``epinet``, ``cost_net`` and
            ``refine_net``).
        disp_range: (min, max) px to search; default: the scene's range
            (:func:`scene_disparity_range`: ``parameters.cfg``'s, else
            estimated from the views).
        planes: snap the answer to the scene's dominant planes (module
            docstring; snapped pixels get confidence at least 0.5); None:
            the method's default, :data:`PLANAR_PRIOR`.
        options: passed to the method: its settings by name
            (``iterations=0``), or all at once as ``config=`` (e.g. a
            :class:`~geodl.lightfield.depth.cost_volume.CostVolumeConfig`);
            see each method's docstring.

    Returns:
        (disparity (H, W), confidence (H, W)) on the light field's device.
    """
    if not isinstance(lf, LightField):
        raise TypeError(f"lf: expected a LightField, got {type(lf).__name__}")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {sorted(METHODS)}, got {method!r}")
    if planes is not None and not isinstance(planes, bool):
        raise ValueError(f"planes: expected True, False or None, got {planes!r}")
    disparity, confidence = METHODS[method](lf, scene_disparity_range(lf, disp_range), **options)
    if not (PLANAR_PRIOR[method] if planes is None else planes):
        return disparity, confidence
    # the RANSAC and scipy's region labelling run on the CPU, in float64
    snap = snap_to_planes(disparity.detach(), confidence.detach())
    return (snap.disparity.to(disparity.device, disparity.dtype),
            snap.confidence.to(confidence.device, confidence.dtype))
