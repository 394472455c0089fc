"""``snapshot``: a PNG of the scene :func:`~geodl.viz.to_html` shows, without any
display: the image by :func:`geodl.viz.raster.render_image` (ray-cast meshes,
z-buffered points and lines), framed by matplotlib with the title, a legend
and a colour bar per scalar field.

Also the older helpers, now drawn the same way: :func:`save_mesh_png`,
:func:`save_point_cloud_png` and :func:`render_mesh_grid`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from torch import Tensor

from geodl.structures import Mesh, PointCloud
from geodl.viz.colormap import to_rgb
from geodl.viz.convert import to_primitives
from geodl.viz.figure import pyplot, save_figure
from geodl.viz.layer import Layer
from geodl.viz.primitives import Primitive, scene_bounds
from geodl.viz.raster import render_image
from geodl.viz.view import resolve_view


def _colorbars(fig, ax, prims: list[Primitive], orientation: str = "vertical") -> None:
    import matplotlib

    for p in prims:
        cb = p.colorbar
        if cb is None or not p.visible:
            continue
        mappable = matplotlib.cm.ScalarMappable(
            matplotlib.colors.Normalize(cb.lo, cb.hi), matplotlib.colormaps[cb.cmap])
        fig.colorbar(mappable, ax=ax, fraction=0.04, pad=0.02, label=cb.label,
                     orientation=orientation)


def snapshot(objects: Any, path: str | os.PathLike, *, title: str | None = None,
             width: int = 800, height: int = 600, view: Any = None, elev: float = 25.0,
             azim: float = -60.0, up: Any = "z", background: Any = "white",
             legend: bool | None = None, supersample: int = 2, dpi: int = 100) -> Path:
    """Write a PNG of ``objects`` (anything :func:`~geodl.viz.to_html` takes)
    seen from the same starting view as the HTML page.

    Args:
        objects, view, elev, azim, up, background: as for :func:`~geodl.viz.to_html`.
        path: the PNG (folders are created).
        title: above the image.
        width, height: the rendered image in pixels.
        legend: list the visible objects with their colours (default: when
            there are several).
        supersample: rays per pixel side (anti-aliasing).
        dpi: of the saved figure (the image keeps its pixels at 100).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    prims = to_primitives(objects)
    v = resolve_view(view, scene_bounds(prims), elev, azim, up)
    bg = to_rgb(background, "background")
    image = render_image(prims, v, width, height, bg, supersample)
    plt = pyplot()
    fig = plt.figure(figsize=(width / 100, height / 100))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    shown = [p for p in prims if p.visible]
    if legend or (legend is None and len(shown) > 1):
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=p.color, label=p.name) for p in shown],
                  loc="upper left", fontsize=8, framealpha=0.8)
    _colorbars(fig, ax, shown)
    return save_figure(fig, path, dpi)


def save_mesh_png(mesh: Mesh, path: str | Path, scalars: Tensor | None = None,
                  cmap: str = "viridis", title: str | None = None, elev: float = 20,
                  azim: float = -60, size: int = 5) -> Path:
    """One view of ``mesh`` coloured by ``scalars`` ((V,) or (F,)), with a colour
    bar: ``snapshot(Layer(mesh, scalars=...))`` at ``100 * size`` pixels square."""
    return snapshot(Layer(mesh, scalars=scalars, cmap=cmap, color=(0.75, 0.78, 0.85)), path,
                    title=title, width=100 * size, height=100 * size, elev=elev, azim=azim)


def save_point_cloud_png(cloud: PointCloud, path: str | Path, scalars: Tensor | None = None,
                         edge_index: Tensor | None = None, cmap: str = "viridis",
                         title: str | None = None, max_edges: int = 20000) -> Path:
    """A point cloud coloured by ``scalars`` (else its colours, else height),
    with the first ``max_edges`` edges of ``edge_index`` if given."""
    label = None
    if scalars is None and cloud.colors is None:
        scalars, label = cloud.points[:, 2], "z"
    edges = None if edge_index is None else edge_index[:, :max_edges]
    return snapshot(Layer(cloud, scalars=scalars, scalar_name=label, cmap=cmap, edges=edges,
                          name="points"), path,
                    title=title, width=500, height=500, legend=False)


def render_mesh_grid(mesh: Mesh, fields: Sequence[Tensor], titles: Sequence[str],
                     path: str | Path, cols: int = 4, cmap: str = "coolwarm",
                     elev: float = 20, azim: float = -60, panel: int = 300) -> Path:
    """A grid of views of the same mesh, one per scalar field (e.g.
    eigenfunctions), each with its colour bar."""
    if len(fields) != len(titles) or not fields:
        raise ValueError("fields and titles: expected equal, non-zero lengths")
    plt = pyplot()
    rows = (len(fields) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, field, title in zip(axes.ravel(), fields, titles):
        prims = to_primitives(Layer(mesh, scalars=field, cmap=cmap, scalar_name=""))
        v = resolve_view(None, scene_bounds(prims), elev, azim, "z")
        ax.imshow(render_image(prims, v, panel, panel))
        ax.set_title(title, fontsize=10)
        _colorbars(fig, ax, prims, orientation="horizontal")
    return save_figure(fig, path, 90)

