"""``show``: an Open3D window where a display exists; otherwise the HTML viewer
written to a temporary file, whose path is printed and returned."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from geodl._optional import open3d
from geodl.viz.convert import to_primitives
from geodl.viz.html import to_html
from geodl.viz.primitives import Primitive


def has_display() -> bool:
    """Whether a window can open: macOS and Windows always; elsewhere an X11
    or Wayland display in the environment. ``GEODL_VIEWER=html`` says no."""
    if os.environ.get("GEODL_VIEWER", "").lower() == "html":
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def to_open3d(prims: list[Primitive]) -> list[Any]:
    """Legacy Open3D geometries (TriangleMesh, PointCloud, LineSet) of the
    visible primitives, with their colours."""
    o3d = open3d()
    vec3, out = o3d.utility.Vector3dVector, []
    for p in prims:
        if not p.visible:
            continue
        colors = p.colors if p.colors is not None else \
            np.tile(np.asarray(p.color), (len(p.positions), 1))
        if p.kind == "mesh":
            g = o3d.geometry.TriangleMesh(vec3(p.positions),
                                          o3d.utility.Vector3iVector(p.index.astype(np.int32)))
            g.vertex_colors = vec3(colors)
            g.compute_vertex_normals()
        elif p.kind == "points":
            g = o3d.geometry.PointCloud(vec3(p.positions))
            g.colors = vec3(colors)
        else:
            g = o3d.geometry.LineSet(vec3(p.positions),
                                     o3d.utility.Vector2iVector(p.index.astype(np.int32)))
            g.colors = vec3(colors[p.index[:, 0]])  # Open3D colours whole lines
        out.append(g)
    return out


def show(objects: Any, *, title: str = "geodl viewer", **html_options: Any) -> Path | None:
    """Look at ``objects`` (anything :func:`~geodl.viz.to_html` takes).

    With a display: an Open3D window (blocks until it is closed); returns None.
    Without one (a server, CI, ``GEODL_VIEWER=html``), or when the window
    cannot open: writes the HTML viewer to a temporary file, prints where,
    and returns its path; ``html_options`` go to :func:`~geodl.viz.to_html`.
    """
    if has_display():
        try:
            geoms = to_open3d(to_primitives(objects))
            open3d().visualization.draw_geometries(geoms, window_name=title)
            return None
        except Exception as err:  # no OpenGL context, a headless build, ...
            print(f"geodl.viz.show: no Open3D window ({err}); writing HTML instead",
                  file=sys.stderr)
    fd, name = tempfile.mkstemp(prefix="geodl-view-", suffix=".html")
    os.close(fd)
    path = to_html(objects, name, title=title, **html_options)
    print(f"geodl.viz.show: no display; open {path} in a browser")
    return path
