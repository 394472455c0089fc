"""Where the viewer's camera starts: fitted to the scene, or a given camera's pose.

Shared by the HTML page and the PNG snapshots, so both open on the same view.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from geodl.structures import PinholeCamera

AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0),
        "-x": (-1.0, 0.0, 0.0), "-y": (0.0, -1.0, 0.0), "-z": (0.0, 0.0, -1.0)}


@dataclass
class View:
    """A look-at camera: ``eye`` looking at ``target`` with ``up`` up, vertical
    field of view ``fov`` in degrees."""

    eye: np.ndarray
    target: np.ndarray
    up: np.ndarray
    fov: float = 40.0

    def camera(self, width: int, height: int) -> PinholeCamera:
        """The :class:`PinholeCamera` of this view for a ``width`` x ``height``
        image (square pixels, vertical field of view ``fov``)."""
        f = 0.5 * height / math.tan(math.radians(self.fov) / 2)
        K = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
        return PinholeCamera.look_at(self.eye, self.target, self.up, K=K, width=width,
                                     height=height)

    def to_json(self) -> dict:
        return {"eye": [float(x) for x in self.eye], "target": [float(x) for x in self.target],
                "up": [float(x) for x in self.up], "fov": float(self.fov)}


def up_vector(up: Any) -> np.ndarray:
    """``"z"``, ``"y"``, ``"-y"``, ... or a 3-vector, normalised."""
    if isinstance(up, str):
        if up not in AXES:
            raise ValueError(f"up: expected one of {sorted(AXES)} or a 3-vector, got {up!r}")
        return np.array(AXES[up])
    u = np.asarray(up, dtype=np.float64).reshape(-1)
    if u.shape != (3,) or not np.isfinite(u).all() or np.linalg.norm(u) == 0:
        raise ValueError(f"up: expected a non-zero 3-vector, got {up!r}")
    return u / np.linalg.norm(u)


def fit_view(bounds: np.ndarray, elev: float = 25.0, azim: float = -60.0, up: Any = "z",
             fov: float = 40.0) -> View:
    """Looks at the centre of the box ``bounds`` (2, 3) from elevation ``elev``
    and azimuth ``azim`` (degrees, matplotlib's convention: for ``up="z"`` the
    eye lies along ``(cos e cos a, cos e sin a, sin e)``), far enough that the
    box's bounding sphere fills the view."""
    u = up_vector(up)
    # the horizontal axes: the first world axis not along up, then up x it
    ref = next(np.array(a) for a in (AXES["x"], AXES["y"]) if abs(np.dot(a, u)) < 0.9)
    e1 = ref - np.dot(ref, u) * u
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(u, e1)
    el, az = math.radians(elev), math.radians(azim)
    direction = math.cos(el) * (math.cos(az) * e1 + math.sin(az) * e2) + math.sin(el) * u
    lo, hi = np.asarray(bounds, np.float64)
    centre = (lo + hi) / 2
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-9)
    distance = 1.05 * radius / math.sin(math.radians(fov) / 2)
    if abs(np.dot(direction, u)) > 0.999:  # straight down: keep up defined
        u = e2
    return View(centre + distance * direction, centre, u, fov)


def camera_view(camera: PinholeCamera, bounds: np.ndarray) -> View:
    """Looking through ``camera``: its centre, its optical axis, image up
    (``-y`` of the OpenCV frame) and its vertical field of view; the orbit
    target sits on the axis at the depth of the scene's centre."""
    R = camera.R.numpy()
    eye = camera.center.numpy()
    forward, up = R[2], -R[1]
    centre = np.asarray(bounds, np.float64).mean(0)
    depth = max(float(np.dot(centre - eye, forward)), 1e-3)
    fov = math.degrees(2 * math.atan(0.5 * camera.height / float(camera.K[1, 1])))
    return View(eye, eye + depth * forward, up, fov)


def resolve_view(view: Any, bounds: np.ndarray, elev: float, azim: float, up: Any) -> View:
    """``view`` as a :class:`View`: None fits the scene; a ``PinholeCamera``
    looks through it; a ``View`` is kept; a dict takes ``eye``, ``target``,
    ``up`` and ``fov``."""
    if view is None:
        return fit_view(bounds, elev, azim, up)
    if isinstance(view, View):
        return view
    if isinstance(view, PinholeCamera):
        return camera_view(view, bounds)
    if isinstance(view, dict):
        try:
            eye = np.asarray(view["eye"], np.float64).reshape(3)
            target = np.asarray(view["target"], np.float64).reshape(3)
        except (KeyError, ValueError):
            raise ValueError("view: a dict needs 'eye' and 'target' 3-vectors") from None
        return View(eye, target, up_vector(view.get("up", up)), float(view.get("fov", 40.0)))
    raise TypeError(f"view: expected None, a PinholeCamera, a View or a dict, "
                    f"got {type(view).__name__}")
