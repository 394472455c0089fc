"""The three things every viewer draws: triangle meshes, points and line segments.

Every object :func:`geodl.viz.to_html`, :func:`geodl.viz.snapshot` and
:func:`geodl.viz.show` accept becomes one or more :class:`Primitive`; the HTML
page, the PNG renderer and the Open3D window only ever see these.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["mesh", "points", "lines"]


@dataclass
class ColorBar:
    """A scalar field's colour bar: ``label``, colour map name, range ``[lo, hi]``."""

    label: str
    cmap: str
    lo: float
    hi: float


@dataclass
class Primitive:
    """One drawable object (one legend entry).

    Attributes:
        name: legend label.
        kind: ``"mesh"`` (``index`` (F, 3) faces), ``"points"`` (``index`` None)
            or ``"lines"`` (``index`` (E, 2) segments).
        positions: (N, 3) float64 vertex positions (finite).
        index: faces or segments into ``positions``, int64.
        colors: optional (N, 3) float RGB in [0, 1] per vertex; else ``color``.
        color: uniform RGB in [0, 1] (legend swatch when ``colors`` is None).
        opacity: in (0, 1].
        size: point size in world units (points only).
        visible: shown when the page opens (the legend toggles it).
        colorbar: the scalar field's colour bar, when colours come from one.
        info: a short description for the legend ("2,562 vertices, 5,120 faces").
    """

    name: str
    kind: Kind
    positions: np.ndarray
    index: np.ndarray | None = None
    colors: np.ndarray | None = None
    color: tuple[float, float, float] = (0.6, 0.6, 0.6)
    opacity: float = 1.0
    size: float | None = None
    visible: bool = True
    colorbar: ColorBar | None = None
    info: str = ""

    def __post_init__(self) -> None:
        p = np.asarray(self.positions, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 3:
            raise ValueError(f"{self.name}: positions: expected shape (N, 3), got {p.shape}")
        if not np.isfinite(p).all():
            raise ValueError(f"{self.name}: positions contain NaN or inf")
        self.positions = p
        width = {"mesh": 3, "lines": 2, "points": None}[self.kind]
        if width is None:
            if self.index is not None:
                raise ValueError(f"{self.name}: points take no index")
        else:
            idx = np.asarray(self.index, dtype=np.int64).reshape(-1, width)
            if idx.size and (idx.min() < 0 or idx.max() >= len(p)):
                raise ValueError(f"{self.name}: index out of range [0, {len(p)})")
            self.index = idx
        if self.colors is not None:
            c = np.asarray(self.colors, dtype=np.float64)
            if c.shape != p.shape:
                raise ValueError(f"{self.name}: colors: expected shape {p.shape}, got {c.shape}")
            self.colors = np.clip(c, 0.0, 1.0)
        if not 0 < self.opacity <= 1:
            raise ValueError(f"opacity: expected in (0, 1], got {self.opacity}")

    @property
    def count(self) -> int:
        """Faces, points or segments."""
        return len(self.positions) if self.index is None else len(self.index)

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) lower and upper corners of the bounding box (zeros if empty)."""
        if len(self.positions) == 0:
            return np.zeros((2, 3))
        return np.stack([self.positions.min(0), self.positions.max(0)])


def scene_bounds(prims: list[Primitive], visible_only: bool = True) -> np.ndarray:
    """(2, 3) bounding box of (the visible) ``prims``; the unit cube around 0 if none."""
    boxes = [p.bounds for p in prims if len(p.positions) and (p.visible or not visible_only)]
    if not boxes and visible_only:
        return scene_bounds(prims, False)
    if not boxes:
        return np.array([[-0.5] * 3, [0.5] * 3])
    b = np.stack(boxes)
    return np.stack([b[:, 0].min(0), b[:, 1].max(0)])
