"""``Layer``: an object to draw and how to draw it (name, scalar field, colours, ...)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Layer:
    """An object for :func:`~geodl.viz.to_html`, :func:`~geodl.viz.snapshot` or
    :func:`~geodl.viz.show`, with its style. A bare object is the same as
    ``Layer(obj)``.

    Args:
        obj: a geodl ``Mesh``, ``PointCloud``, ``PinholeCamera``, ``LightField``
            (its camera rig), ``geodl.render.Scene`` (a room), a PyG ``Data``
            with ``pos`` (and ``face``), a trimesh or Open3D geometry, or an
            (N, 3) array or tensor of points.
        name: legend label (default: the type and position, "Mesh 0").
        scalars: a field to colour by through ``cmap``: (V,) per vertex or
            (F,) per face of a mesh, (N,) per point, or the name of a
            per-node attribute of a PyG ``Data`` (``"x"`` if 1-D, ...).
        scalar_name: the colour bar's label (default: the attribute name, else
            the layer's name, else "scalars").
        colors: (N, 3) RGB per vertex/point (or (F, 3) per face), floats in
            [0, 1] or uint8; default: the object's own colours if it has any.
        color: one colour for the whole object (any matplotlib colour); the
            default cycles through matplotlib's tab10.
        cmap: matplotlib colour map name for ``scalars``.
        clim: ``(low, high)`` range of the colour map (default: min and max).
        edges: draw a graph's edges as lines beside the object: ``True`` (a
            mesh's edges, a PyG ``Data``'s ``edge_index``) or a (2, E) edge
            index (a kNN graph of a point cloud).
        point_size: point size in world units (default from the points'
            extent and count).
        opacity: in (0, 1].
        visible: shown when the page opens (the legend toggles it).
        frustum_depth: depth of drawn camera frustums in world units (default:
            6 % of the scene's diagonal).
    """

    obj: Any
    name: str | None = None
    scalars: Any = None
    scalar_name: str | None = None
    colors: Any = None
    color: Any = None
    cmap: str = "viridis"
    clim: tuple[float, float] | None = None
    edges: Any = None
    point_size: float | None = None
    opacity: float = 1.0
    visible: bool = True
    frustum_depth: float | None = None
