"""Anything geodl users hold, as drawable primitives.

:func:`to_primitives` takes one object, a list of them, or a dict
``{name: object}``; each object may be wrapped in a :class:`~geodl.viz.Layer`
to style it. Accepted: geodl ``Mesh``, ``PointCloud``, ``PinholeCamera``,
``LightField`` (its rig), ``geodl.render.Scene``; PyG ``Data`` with ``pos``
(and ``face``); trimesh ``Trimesh``, ``PointCloud``, ``Path3D`` and ``Scene``;
Open3D ``TriangleMesh``, ``PointCloud``, ``LineSet`` (legacy or tensor); an
(N, 3) array or tensor of points; a :class:`~geodl.viz.primitives.Primitive`
as it is.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np
import torch

from geodl.structures import LightField, Mesh, PinholeCamera, PointCloud
from geodl.viz.colormap import map_scalars, to_rgb
from geodl.viz.frustum import cameras_lines, rig_cameras
from geodl.viz.layer import Layer
from geodl.viz.primitives import ColorBar, Primitive, scene_bounds

# matplotlib's tab10, the default colour of object k
PALETTE = [(0.122, 0.467, 0.706), (1.0, 0.498, 0.055), (0.173, 0.627, 0.173),
           (0.839, 0.153, 0.157), (0.580, 0.404, 0.741), (0.549, 0.337, 0.294),
           (0.890, 0.467, 0.761), (0.498, 0.498, 0.498), (0.737, 0.741, 0.133),
           (0.090, 0.745, 0.812)]
EDGE_COLOR = (0.55, 0.55, 0.55)
RIG_COLOR, RIG_CENTER_COLOR = (0.122, 0.467, 0.706), (1.0, 0.498, 0.055)
FRUSTUM_FRACTION = 0.06  # default frustum depth / scene diagonal


def _numpy(value: Any, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, list, tuple)):
        return np.asarray(value)
    raise TypeError(f"{name}: expected an array or tensor, got {type(value).__name__}")


def _module(obj: Any) -> str:
    return type(obj).__module__ or ""


def _layers(objects: Any) -> list[Layer]:
    """One :class:`Layer` per object, names filled in from dict keys."""
    if isinstance(objects, dict):
        out = []
        for key, obj in objects.items():
            lay = obj if isinstance(obj, Layer) else Layer(obj)
            out.append(lay if lay.name is not None else Layer(**{**lay.__dict__, "name": str(key)}))
        return out
    if isinstance(objects, (list, tuple)):
        return [o if isinstance(o, Layer) else Layer(o) for o in objects]
    return [objects if isinstance(objects, Layer) else Layer(objects)]


def _fmt(n: int, what: str, plural: str | None = None) -> str:
    return f"{n:,} {what if n == 1 else plural or what + 's'}"


def _colors(value: Any, name: str, n: int) -> np.ndarray:
    """(n, 3) float RGB in [0, 1] from floats in [0, 1] or uint8 (RGBA's alpha dropped)."""
    c = _numpy(value, name)
    if c.ndim != 2 or c.shape[0] != n or c.shape[1] not in (3, 4):
        raise ValueError(f"{name}: expected shape ({n}, 3), got {c.shape}")
    c = c[:, :3]
    if c.dtype == np.uint8:
        return c.astype(np.float64) / 255.0
    c = c.astype(np.float64)
    if not np.isfinite(c).all() or c.min() < 0 or c.max() > 1:
        raise ValueError(f"{name}: expected floats in [0, 1] (or uint8), got range "
                         f"[{np.nanmin(c):.3g}, {np.nanmax(c):.3g}]")
    return c


def default_point_size(points: np.ndarray, samples: int = 2000) -> float:
    """1.2 x the median distance from a point to its nearest neighbour (over
    ``samples`` seeded random points, against the whole cloud): discs that
    just close up on a sampled surface and stay apart in a sparse cloud."""
    N = len(points)
    if N >= 2:
        from scipy.spatial import cKDTree

        rng = np.random.default_rng(0)
        query = points[rng.choice(N, min(N, samples), replace=False)]
        d, _ = cKDTree(points).query(query, k=2)
        spacing = float(np.median(d[:, 1]))
        if spacing > 0:
            return 1.2 * spacing
    ext = float(np.ptp(points, axis=0).max()) if N else 0.0
    return 0.01 * ext if ext > 0 else 1.0


def _scalar_values(lay: Layer, attrs: dict[str, Any]) -> tuple[np.ndarray | None, str]:
    """The layer's scalar field as a 1-D array and its label."""
    s = lay.scalars
    if s is None:
        return None, ""
    label = lay.scalar_name
    if isinstance(s, str):
        if s not in attrs or attrs[s] is None:
            raise ValueError(f"scalars: {s!r} is not an attribute of this "
                             f"{type(lay.obj).__name__} (has: {sorted(attrs) or 'none'})")
        label, s = s if label is None else label, attrs[s]
    v = _numpy(s, "scalars")
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"scalars: expected a 1-D field, got shape {v.shape}")
    if not np.issubdtype(v.dtype, np.number) or np.issubdtype(v.dtype, np.complexfloating):
        raise TypeError(f"scalars: expected real numbers, got dtype {v.dtype}")
    return v.astype(np.float64), (lay.name or "scalars") if label is None else label


class _Builder:
    """Turns layers into primitives; camera frustums wait for the scene's size."""

    def __init__(self) -> None:
        self.items: list[Primitive | Callable[[float], Primitive]] = []

    def color(self, lay: Layer, colors: np.ndarray | None = None) -> tuple[float, float, float]:
        """The object's colour: ``lay.color``, else the mean of its per-vertex
        colours (the legend swatch), else the next palette colour."""
        if lay.color is not None:
            return to_rgb(lay.color)
        if colors is not None and len(colors):
            return tuple(float(x) for x in colors.mean(0))  # type: ignore[return-value]
        return PALETTE[len(self.items) % len(PALETTE)]

    def add(self, prim: Primitive | Callable[[float], Primitive]) -> None:
        self.items.append(prim)

    # ----------------------------------------------------------------- kinds
    def mesh(self, lay: Layer, name: str, verts: np.ndarray, faces: np.ndarray,
             own_colors: np.ndarray | None = None, attrs: dict | None = None) -> None:
        """A mesh coloured per vertex or per face (faces then get their own
        corners, so the colour does not bleed into neighbours)."""
        V, F = len(verts), len(faces)
        scalars, label = _scalar_values(lay, attrs or {})
        colors, colorbar = None, None
        if scalars is not None:
            if len(scalars) not in (V, F):
                raise ValueError(f"scalars: expected ({V},) per vertex or ({F},) per face, "
                                 f"got ({len(scalars)},)")
            colors, (lo, hi) = map_scalars(scalars, lay.cmap, lay.clim)
            colorbar = ColorBar(label, lay.cmap, lo, hi)
        elif lay.colors is not None:
            n = len(_numpy(lay.colors, "colors"))
            colors = _colors(lay.colors, "colors", F if n == F and n != V else V)
        elif own_colors is not None:
            colors = own_colors
        info = f"{_fmt(V, 'vertex', 'vertices')}, {_fmt(F, 'face')}"
        pos, idx = verts, faces
        if colors is not None and len(colors) == F and F != V:
            pos, idx, colors = verts[faces].reshape(-1, 3), np.arange(3 * F).reshape(F, 3), \
                np.repeat(colors, 3, axis=0)
        self.add(Primitive(name, "mesh", pos, idx, colors, self.color(lay, colors), lay.opacity,
                           visible=lay.visible, colorbar=colorbar, info=info))
        if lay.edges is True:
            e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
            self.edges(lay, name, verts, e, transposed=True)
        elif lay.edges is not None and lay.edges is not False:
            self.edges(lay, name, verts, self._edge_index(lay, V))

    def points(self, lay: Layer, name: str, points: np.ndarray,
               own_colors: np.ndarray | None = None, attrs: dict | None = None,
               edge_index: np.ndarray | None = None) -> None:
        N = len(points)
        scalars, label = _scalar_values(lay, attrs or {})
        colors, colorbar = None, None
        if scalars is not None:
            if len(scalars) != N:
                raise ValueError(f"scalars: expected ({N},) per point, got ({len(scalars)},)")
            colors, (lo, hi) = map_scalars(scalars, lay.cmap, lay.clim)
            colorbar = ColorBar(label, lay.cmap, lo, hi)
        elif lay.colors is not None:
            colors = _colors(lay.colors, "colors", N)
        elif own_colors is not None:
            colors = own_colors
        size = lay.point_size
        if size is None:
            size = default_point_size(points)
        elif not size > 0:
            raise ValueError(f"point_size: expected > 0, got {size}")
        self.add(Primitive(name, "points", points, None, colors, self.color(lay, colors),
                           lay.opacity,
                           size=float(size), visible=lay.visible, colorbar=colorbar,
                           info=_fmt(N, "point")))
        if lay.edges is True and edge_index is None:
            raise ValueError(f"edges: {type(lay.obj).__name__} has no graph; pass an edge "
                             "index, e.g. Layer(cloud, edges=cloud.knn_graph(8))")
        if lay.edges is not None and lay.edges is not False:
            e = edge_index if lay.edges is True else self._edge_index(lay, N)
            self.edges(lay, name, points, e)

    @staticmethod
    def _edge_index(lay: Layer, n: int) -> np.ndarray:
        e = _numpy(lay.edges, "edges")
        if e.ndim != 2 or e.shape[0] != 2 or not np.issubdtype(e.dtype, np.integer):
            raise ValueError(f"edges: expected True or a (2, E) integer edge index, got "
                             f"shape {e.shape}, dtype {e.dtype}")
        if e.size and (e.min() < 0 or e.max() >= n):
            raise ValueError(f"edges: indices must lie in [0, {n}), got [{e.min()}, {e.max()}]")
        return e

    def edges(self, lay: Layer, name: str, positions: np.ndarray, edge_index: np.ndarray,
              transposed: bool = False) -> None:
        """Graph edges as segments, each undirected edge once (a kNN graph
        holds i->j and often j->i too)."""
        e = np.asarray(edge_index, np.int64)
        e = e if transposed else e.T
        e = np.unique(np.sort(e, axis=1), axis=0) if len(e) else e.reshape(0, 2)
        e = e[e[:, 0] != e[:, 1]]
        self.add(Primitive(f"{name} edges", "lines", positions, e, None, EDGE_COLOR,
                           lay.opacity, visible=lay.visible, info=_fmt(len(e), "edge")))

    def cameras(self, lay: Layer, name: str, cams: list[PinholeCamera],
                center: int | None = None) -> None:
        """Frustums, drawn once the scene's size (their default depth) is known."""
        base = self.color(lay) if (lay.color is not None or center is None) else RIG_COLOR
        cols = [RIG_CENTER_COLOR if i == center else base for i in range(len(cams))]
        what = _fmt(len(cams), "camera")

        def build(diagonal: float) -> Primitive:
            depth = lay.frustum_depth or FRUSTUM_FRACTION * diagonal
            pts, seg, c = cameras_lines(cams, depth, cols)
            return Primitive(name, "lines", pts, seg, None if center is None else c, base,
                             lay.opacity, visible=lay.visible,
                             info=what + (", centre in orange" if center is not None else ""))
        if lay.frustum_depth is not None and not lay.frustum_depth > 0:
            raise ValueError(f"frustum_depth: expected > 0, got {lay.frustum_depth}")
        self.add(build)

    # --------------------------------------------------------------- resolve
    def primitives(self) -> list[Primitive]:
        done = [p for p in self.items if isinstance(p, Primitive)]
        if done:
            lo, hi = scene_bounds(done, visible_only=False)
            diagonal = float(np.linalg.norm(hi - lo))
        else:  # cameras alone: scale by how far apart they are
            diagonal = 0.0
        out = []
        for p in self.items:
            if isinstance(p, Primitive):
                out.append(p)
                continue
            d = diagonal
            if d <= 0:
                probe = p(1.0)  # depth 1: measure the spread of the camera centres
                d = max(float(np.linalg.norm(np.ptp(probe.positions, axis=0))), 1.0)
            out.append(p(d))
        return out


def _data_attrs(data: Any) -> dict[str, Any]:
    """A PyG Data's per-node attributes (usable as ``scalars`` by name)."""
    n = data.num_nodes
    out = {}
    for key in data.keys():
        val = data[key]
        if isinstance(val, torch.Tensor) and val.dim() >= 1 and val.shape[0] == n and \
                key not in ("pos", "edge_index", "face"):
            if val.dim() == 1 or (val.dim() == 2 and val.shape[1] == 1):
                out[key] = val
    return out


def _add(b: _Builder, lay: Layer, index: int) -> None:
    obj = lay.obj
    name = lay.name if lay.name is not None else f"{type(obj).__name__} {index}"
    mod = _module(obj)
    if isinstance(obj, Mesh):
        own = None if obj.colors is None else obj.colors.detach().double().numpy()
        b.mesh(lay, name, obj.verts64.numpy(), obj.faces.numpy(), own)
    elif isinstance(obj, PointCloud):
        own = None if obj.colors is None else obj.colors.detach().double().numpy()
        b.points(lay, name, obj.points.detach().double().numpy(), own)
    elif isinstance(obj, PinholeCamera):
        b.cameras(lay, name, [obj])
    elif isinstance(obj, LightField):
        U, V = obj.grid_shape
        r0, c0 = obj.center_index
        b.cameras(lay, name if lay.name is not None else f"light-field rig {index} ({U}x{V})",
                  rig_cameras(obj), center=r0 * V + c0)
    elif "geodl.render" in sys.modules and isinstance(obj, sys.modules["geodl.render"].Scene):
        from geodl.viz.room import scene_primitives

        prefix = f"{lay.name}: " if lay.name else ""
        for p in scene_primitives(obj, prefix=prefix):
            b.add(p)
    elif mod.startswith("torch_geometric") and hasattr(obj, "pos"):
        _add_data(b, lay, name, obj)
    elif mod.startswith("trimesh"):
        _add_trimesh(b, lay, name, obj)
    elif mod.startswith("open3d"):
        _add_open3d(b, lay, name, obj)
    elif isinstance(obj, (np.ndarray, torch.Tensor)):
        p = _numpy(obj, "objects").astype(np.float64)
        if p.ndim != 2 or p.shape[1] != 3:
            raise ValueError(f"objects: an array is drawn as points and must have shape "
                             f"(N, 3), got {p.shape}")
        b.points(lay, name if lay.name is not None else f"points {index}", p)
    else:
        raise TypeError(f"objects: cannot draw a {type(obj).__module__}.{type(obj).__name__}; "
                        "expected a geodl Mesh, PointCloud, PinholeCamera, LightField or "
                        "render.Scene, a PyG Data with pos, a trimesh or Open3D geometry, or "
                        "an (N, 3) array")


def _add_data(b: _Builder, lay: Layer, name: str, data: Any) -> None:
    if data.pos is None:
        raise ValueError("objects: a PyG Data needs 'pos' (N, 3) to be drawn")
    pos = _numpy(data.pos, "pos").astype(np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"pos: expected shape (N, 3), got {pos.shape}")
    attrs = _data_attrs(data)
    ei = getattr(data, "edge_index", None)
    ei = None if ei is None else _numpy(ei, "edge_index")
    if getattr(data, "face", None) is not None:
        b.mesh(lay, name, pos, _numpy(data.face, "face").T.astype(np.int64), attrs=attrs)
    else:
        own = getattr(data, "color", None)
        own = None if own is None else _colors(own, "color", len(pos))
        if lay.edges is None and ei is not None:  # a graph: show its edges
            lay = Layer(**{**lay.__dict__, "edges": True})
        b.points(lay, name, pos, own, attrs, ei)


def _trimesh_colors(geom: Any, n_verts: int, n_faces: int) -> np.ndarray | None:
    visual = getattr(geom, "visual", None)
    kind = getattr(visual, "kind", None)
    if kind == "vertex":
        return np.asarray(visual.vertex_colors)[:, :3] / 255.0
    if kind == "face":
        return np.asarray(visual.face_colors)[:, :3] / 255.0
    if kind == "texture":
        try:
            return np.asarray(visual.to_color().vertex_colors)[:, :3] / 255.0
        except Exception:  # a texture trimesh cannot sample: plain colour
            return None
    return None


def _add_trimesh(b: _Builder, lay: Layer, name: str, obj: Any) -> None:
    cls = type(obj).__name__
    if cls == "Scene":
        parts = obj.dump(concatenate=False)
        if not parts:
            raise ValueError("objects: the trimesh Scene holds no geometry")
        for geom in parts:
            sub = geom.metadata.get("name", type(geom).__name__)
            _add_trimesh(b, Layer(**{**lay.__dict__, "obj": geom}), f"{name}: {sub}", geom)
    elif cls == "Trimesh":
        v, f = np.asarray(obj.vertices, np.float64), np.asarray(obj.faces, np.int64)
        attrs = {k: np.asarray(a) for k, a in getattr(obj, "vertex_attributes", {}).items()
                 if np.ndim(a) == 1 or (np.ndim(a) == 2 and np.shape(a)[1] == 1)}
        b.mesh(lay, name, v, f, _trimesh_colors(obj, len(v), len(f)), attrs)
    elif cls == "PointCloud":
        p = np.asarray(obj.vertices, np.float64)
        c = getattr(obj, "colors", None)
        own = np.asarray(c)[:, :3] / 255.0 if c is not None and len(c) == len(p) else None
        attrs = {k: np.asarray(a) for k, a in getattr(obj, "vertex_attributes", {}).items()
                 if np.ndim(a) == 1}
        b.points(lay, name, p, own, attrs)
    elif cls in ("Path3D", "Path2D"):
        segs = [np.asarray(d, np.float64) for d in obj.discrete]
        pos = np.concatenate([s if s.shape[1] == 3 else np.c_[s, np.zeros(len(s))] for s in segs])
        idx, off = [], 0
        for s in segs:
            idx.append(np.stack([np.arange(len(s) - 1), np.arange(1, len(s))], 1) + off)
            off += len(s)
        b.add(Primitive(name, "lines", pos, np.concatenate(idx), None, b.color(lay),
                        lay.opacity, visible=lay.visible, info=_fmt(off, "vertex", "vertices")))
    else:
        raise TypeError(f"objects: cannot draw a trimesh {cls}")


def _add_open3d(b: _Builder, lay: Layer, name: str, obj: Any) -> None:
    if hasattr(obj, "to_legacy"):
        obj = obj.to_legacy()
    cls = type(obj).__name__
    if cls == "TriangleMesh":
        v = np.asarray(obj.vertices, np.float64)
        f = np.asarray(obj.triangles, np.int64)
        own = np.asarray(obj.vertex_colors, np.float64) if obj.has_vertex_colors() else None
        b.mesh(lay, name, v, f, own)
    elif cls == "PointCloud":
        own = np.asarray(obj.colors, np.float64) if obj.has_colors() else None
        b.points(lay, name, np.asarray(obj.points, np.float64), own)
    elif cls == "LineSet":
        p = np.asarray(obj.points, np.float64)
        e = np.asarray(obj.lines, np.int64)
        own = None
        if obj.has_colors():  # Open3D colours lines; give each end its line's colour
            lc = np.asarray(obj.colors, np.float64)
            p, e = p[e].reshape(-1, 3), np.arange(2 * len(e)).reshape(-1, 2)
            own = np.repeat(lc, 2, axis=0)
        b.add(Primitive(name, "lines", p, e, own, b.color(lay), lay.opacity,
                        visible=lay.visible, info=_fmt(len(e), "segment")))
    else:
        raise TypeError(f"objects: cannot draw an Open3D {cls}")


def to_primitives(objects: Any) -> list[Primitive]:
    """Primitives of ``objects`` (see the module docstring), in order."""
    layers = _layers(objects)
    if not layers:
        raise ValueError("objects: nothing to draw")
    b = _Builder()
    for i, lay in enumerate(layers):
        if isinstance(lay.obj, Primitive):  # already drawable (e.g. from room.scene_primitives)
            b.add(lay.obj)
        else:
            _add(b, lay, i)
    return b.primitives()
