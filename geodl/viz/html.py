"""``to_html``: one self-contained HTML file that shows meshes, point clouds,
graphs and camera rigs in 3D, offline.

The page holds everything it needs: the scene as JSON with base64 binary
buffers, and the viewer (``static/viewer.js``: three.js 0.187 and geodl's
viewer code, built from ``web/`` by a pinned, reproducible esbuild step). It
loads nothing from the network and needs no server: open it from disk.

Responsiveness: each object is one static GPU buffer drawn in one call, only
when the view changes; where a full frame costs more than 40 ms (software
WebGL, millions of points), a drag draws a shuffled prefix of each point cloud
at a lower pixel ratio, and the full picture returns when the mouse is released.

Sizes: a mesh costs 12 bytes a vertex (float32) + 12 a face (uint32) + 3 a
vertex when coloured; points are quantised to 16 bits per coordinate over
their bounding box (6 bytes a point, an error below 1/131070 of the box's
side) + 3 for colour; base64 adds a third. A million coloured points make a
12 MB page.
"""
from __future__ import annotations

import base64
import dataclasses
import html
import json
import math
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

import geodl
from geodl.io.atomic import write_bytes_atomic
from geodl.viz.colormap import colorbar_stops, to_hex, to_rgb
from geodl.viz.convert import to_primitives
from geodl.viz.primitives import Primitive, scene_bounds
from geodl.viz.view import resolve_view

_STYLE = """
html, body { margin: 0; height: 100%; overflow: hidden; font: 13px/1.35 system-ui, sans-serif;
  color: #222; }
body { display: flex; }
#geodl-canvas { position: relative; flex: 1 1 auto; min-width: 0; height: 100%; }
#geodl-panel { flex: 0 0 300px; height: 100%; overflow: auto; background: #f7f7f7;
  border-left: 1px solid #ccc; padding: 8px 10px; box-sizing: border-box; }
#geodl-panel h1 { font-size: 15px; margin: 0 0 6px; }
.geodl-entry { display: flex; flex-wrap: wrap; align-items: center; gap: 0 6px; cursor: pointer;
  padding: 2px 0; }
.geodl-swatch { width: 12px; height: 12px; border-radius: 2px; flex: none; border: 1px solid #0003; }
.geodl-name { font-weight: 600; white-space: nowrap; }
.geodl-info { color: #666; font-size: 11px; flex-basis: 100%; padding-left: 42px; }
.geodl-colorbar { margin: 8px 0 2px; }
.geodl-cb-label { font-size: 12px; }
.geodl-cb-bar { height: 12px; border: 1px solid #0004; }
.geodl-cb-range { display: flex; justify-content: space-between; font-size: 11px; color: #444; }
.geodl-table { border-collapse: collapse; margin-top: 8px; font-size: 12px; }
.geodl-table caption { text-align: left; font-weight: 600; padding-bottom: 2px; }
.geodl-table th, .geodl-table td { border-bottom: 1px solid #ddd; padding: 1px 6px; text-align: right; }
.geodl-table th:first-child, .geodl-table td:first-child { text-align: left; }
.geodl-help { color: #666; font-size: 11px; margin: 8px 0 4px; }
#geodl-reset { font-size: 11px; }
#geodl-error { display: none; position: absolute; left: 8px; bottom: 8px; color: #a00;
  background: #fff; padding: 6px; border: 1px solid #a00; }
"""


@cache
def viewer_js() -> str:
    """The bundled viewer script shipped in the package (``static/viewer.js``)."""
    return resources.files("geodl.viz").joinpath("static/viewer.js").read_text("utf-8")


def _buffer(a: np.ndarray, dtype: str) -> dict:
    data = np.ascontiguousarray(a, dtype=dtype)
    return {"dtype": dtype, "shape": list(data.shape),
            "data": base64.b64encode(data.tobytes()).decode("ascii")}


def _shuffled(p: Primitive) -> Primitive:
    """Points in a seeded random order: the viewer draws a prefix of a big
    cloud while the view moves, and a prefix of a shuffled cloud is a uniform
    sample of it."""
    if p.kind != "points" or p.count <= 20000:
        return p
    order = np.random.default_rng(0).permutation(p.count)
    return dataclasses.replace(p, positions=p.positions[order],
                               colors=None if p.colors is None else p.colors[order])


def _positions(p: Primitive) -> dict:
    if p.kind != "points":
        return _buffer(p.positions, "float32")
    # 16-bit quantisation over the bounding box: half of float32's bytes and
    # far below a pixel at any zoom a viewer of the whole cloud uses
    lo, hi = p.bounds
    scale = np.maximum(hi - lo, 1e-12)
    q = np.rint((p.positions - lo) / scale * 65535.0)
    buf = _buffer(q, "uint16")
    buf["offset"], buf["scale"] = lo.tolist(), scale.tolist()
    return buf


def _object(p: Primitive) -> dict:
    p = _shuffled(p)
    cb = p.colorbar
    return {
        "name": p.name, "kind": p.kind, "visible": p.visible, "info": p.info, "count": p.count,
        "positions": _positions(p), "bounds": p.bounds.tolist(),
        "index": None if p.index is None else _buffer(p.index, "uint32"),
        "colors": None if p.colors is None else _buffer(np.rint(p.colors * 255), "uint8"),
        "color": to_hex(p.color), "opacity": p.opacity, "size": p.size,
        "colorbar": None if cb is None else {"label": cb.label, "min": cb.lo, "max": cb.hi,
                                             "stops": colorbar_stops(cb.cmap)},
    }


def _cell(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else str(float(v))
    return str(v)


def _tables(tables: Any) -> list[dict]:
    """``{caption: rows}`` with rows a list of dicts (columns in first-seen
    order), a pandas DataFrame, or ``{"columns": [...], "rows": [[...], ...]}``."""
    if tables is None:
        return []
    if not isinstance(tables, dict):
        raise TypeError(f"tables: expected a dict {{caption: rows}}, got {type(tables).__name__}")
    out = []
    for caption, rows in tables.items():
        if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # pandas
            rows = rows.to_dict("records")
        if isinstance(rows, dict) and "columns" in rows and "rows" in rows:
            cols = [str(c) for c in rows["columns"]]
            body = [[_cell(v) for v in r] for r in rows["rows"]]
            if any(len(r) != len(cols) for r in body):
                raise ValueError(f"tables[{caption!r}]: every row needs {len(cols)} cells")
        elif isinstance(rows, (list, tuple)) and all(isinstance(r, dict) for r in rows):
            cols = list(dict.fromkeys(str(k) for r in rows for k in r))
            body = [[_cell(r.get(c, "")) for c in cols] for r in
                    ({str(k): v for k, v in r.items()} for r in rows)]
        else:
            raise ValueError(f"tables[{caption!r}]: expected a list of dicts, a DataFrame or "
                             "{'columns': [...], 'rows': [[...], ...]}")
        out.append({"caption": str(caption), "columns": cols, "rows": body})
    return out


def html_page(objects: Any, *, title: str = "geodl viewer", tables: Any = None,
              view: Any = None, elev: float = 25.0, azim: float = -60.0, up: Any = "z",
              background: Any = "white") -> str:
    """The page :func:`to_html` writes, as a string."""
    prims = to_primitives(objects)
    bounds = scene_bounds(prims)
    v = resolve_view(view, bounds, elev, azim, up)
    all_lo, all_hi = scene_bounds(prims, visible_only=False)
    spec = {
        "version": 1, "title": str(title), "view": v.to_json(),
        "radius": float(np.linalg.norm(all_hi - all_lo) / 2 + np.linalg.norm(v.eye - v.target)),
        "background": to_hex(to_rgb(background, "background")),
        "objects": [_object(p) for p in prims], "tables": _tables(tables),
    }
    # "</" cannot appear inside a <script> element: JSON allows "<\/" for it
    data = json.dumps(spec, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    t = html.escape(str(title))
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"generator\" content=\"geodl {geodl.__version__}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{t}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        "<div id=\"geodl-canvas\"></div>\n"
        f"<aside id=\"geodl-panel\"><h1>{t}</h1><div id=\"geodl-legend\"></div>"
        "<div id=\"geodl-colorbars\"></div><div id=\"geodl-tables\"></div>"
        "<p class=\"geodl-help\">drag: turn &middot; right-drag or shift-drag: pan &middot; "
        "wheel: zoom &middot; R: reset</p><button id=\"geodl-reset\">reset view</button></aside>\n"
        "<div id=\"geodl-error\"></div>\n"
        f"<script type=\"application/json\" id=\"geodl-scene\">{data}</script>\n"
        f"<script>\n{viewer_js()}\n</script>\n</body>\n</html>\n")


def to_html(objects: Any, path: str | os.PathLike, *, title: str = "geodl viewer",
            tables: Any = None, view: Any = None, elev: float = 25.0, azim: float = -60.0,
            up: Any = "z", background: Any = "white") -> Path:
    """Write an interactive 3D viewer of ``objects`` to ``path``: one HTML file
    that works offline (no CDN, no server).

    Shows meshes (vertex or face colours, or a scalar field through a colour
    map with its colour bar and range), point clouds (a million points stay
    responsive: one quantised GPU buffer, one draw call, drawn only when the
    view changes), graphs as line sets and camera frustums; drag to turn,
    right-drag or shift-drag to pan, wheel to zoom, R to reset; a legend with
    a toggle per object; the title and any tables.

    Args:
        objects: one object, a list, or a dict ``{name: object}``; objects may
            be wrapped in :class:`~geodl.viz.Layer` to style them (scalars,
            colours, edges, point size, ...). See :mod:`geodl.viz.convert`
            for the accepted types.
        path: the HTML file (folders are created; an existing file is replaced
            only once the new one is complete).
        title: page title and heading.
        tables: ``{caption: rows}``: rows a list of dicts, a pandas DataFrame,
            or ``{"columns": [...], "rows": [[...], ...]}``; shown in the panel.
        view: the starting camera: None fits the scene from ``elev``/``azim``;
            a ``PinholeCamera`` looks through it; a dict ``{eye, target, up, fov}``.
        elev, azim: degrees, matplotlib's convention (``azim`` about ``up``).
        up: the world's up axis (``"z"``, ``"y"``, ... or a 3-vector).
        background: any matplotlib colour.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> from geodl.structures import Mesh
        >>> from geodl.viz import Layer, to_html
        >>> mesh = Mesh.icosphere(3)
        >>> to_html(Layer(mesh, scalars=mesh.verts[:, 2], scalar_name="z"), "sphere.html")
    """
    page = html_page(objects, title=title, tables=tables, view=view, elev=elev, azim=azim,
                     up=up, background=background)
    return write_bytes_atomic(path, page.encode("utf-8"))
