"""Scalar fields to colours: one colour map and range shared by the HTML viewer
and the PNG snapshots, so both show the same colours and colour bar."""
from __future__ import annotations

from typing import Any

import numpy as np

#: the colour where a scalar is NaN or inf
NAN_COLOR = (0.6, 0.6, 0.6)


def _colormap(cmap: str):
    import matplotlib

    try:
        return matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f"cmap: unknown matplotlib colour map {cmap!r}") from None


def scalar_range(values: np.ndarray, clim: Any = None) -> tuple[float, float]:
    """``clim`` as ``(lo, hi)`` if given, else the finite minimum and maximum
    (``(0, 1)`` when nothing is finite); ``hi > lo`` always (a constant field
    gets ``(c - 0.5, c + 0.5)``, wider for huge ``|c|``)."""
    if clim is not None:
        try:
            lo, hi = (float(c) for c in clim)
        except (TypeError, ValueError):
            raise ValueError(f"clim: expected (low, high), got {clim!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ValueError(f"clim: expected finite low < high, got ({lo}, {hi})")
        return lo, hi
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi == lo:  # +-0.5, or a relative step where 0.5 is below the float spacing
        pad = max(0.5, 1e-6 * abs(lo))
        return lo - pad, hi + pad
    return lo, hi


def map_scalars(values: np.ndarray, cmap: str = "viridis",
                clim: tuple[float, float] | None = None) -> tuple[np.ndarray, tuple[float, float]]:
    """Colours of ``values`` (N,) through ``cmap`` over ``clim``.

    ``c = cmap((v - lo) / (hi - lo))``, clipped to the map's ends; NaN and inf
    get :data:`NAN_COLOR`.

    Returns:
        colors: (N, 3) float64 RGB in [0, 1];
        (lo, hi): the range used (for the colour bar).
    """
    v = np.asarray(values, dtype=np.float64)
    lo, hi = scalar_range(v, clim)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: coloured as NaN below
        t = np.clip((v - lo) / (hi - lo), 0.0, 1.0)
    colors = _colormap(cmap)(np.nan_to_num(t, nan=0.0))[:, :3]
    colors[~np.isfinite(v)] = NAN_COLOR
    return colors, (lo, hi)


def colorbar_stops(cmap: str, n: int = 16) -> list[str]:
    """``n`` evenly spaced colours of ``cmap`` from low to high, as ``#rrggbb``
    (a CSS gradient through them draws the colour bar)."""
    rgb = _colormap(cmap)(np.linspace(0.0, 1.0, n))[:, :3]
    return [to_hex(c) for c in rgb]


def to_hex(rgb: Any) -> str:
    """``#rrggbb`` of an RGB triple in [0, 1]."""
    r, g, b = (int(round(255 * float(np.clip(c, 0, 1)))) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def to_rgb(color: Any, name: str = "color") -> tuple[float, float, float]:
    """An RGB triple in [0, 1] from any matplotlib colour ("tab:blue", "#1f77b4",
    (0.1, 0.5, 0.7))."""
    import matplotlib.colors as mcolors

    try:
        return tuple(float(c) for c in mcolors.to_rgb(color))  # type: ignore[return-value]
    except ValueError:
        raise ValueError(f"{name}: not a colour: {color!r}") from None
