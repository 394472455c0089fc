"""Headless PNG snapshots with matplotlib (Agg): no display needed.

A mesh is drawn as flat-shaded triangles coloured by a per-vertex scalar
(averaged per face) with a simple Lambert term, painter-sorted by matplotlib's
3D axes. Good for up to a few 10k faces; the figure shows the field, not a
photoreal render.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from geodl.structures import Mesh, PointCloud


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return matplotlib, plt


def pyplot():
    """``matplotlib.pyplot`` on the headless Agg back-end."""
    return _mpl()[1]


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG (creating folders) and close it."""
    _, plt = _mpl()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def _draw_mesh(ax, mesh: Mesh, scalars: Tensor | None, cmap: str, elev: float, azim: float,
               light: Sequence[float] = (0.3, -0.5, 0.8)) -> None:
    matplotlib, _ = _mpl()
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    v = mesh.verts64.numpy()
    f = mesh.faces.numpy()
    if scalars is None:
        colors = np.tile(np.array([[0.75, 0.78, 0.85, 1.0]]), (len(f), 1))
    else:
        s = torch.as_tensor(scalars).double().numpy()
        if s.shape == (mesh.num_verts,):
            fs = s[f].mean(1)
        elif s.shape == (mesh.num_faces,):
            fs = s
        else:
            raise ValueError(f"scalars: expected shape ({mesh.num_verts},) per vertex or "
                             f"({mesh.num_faces},) per face, got {s.shape}")
        lo, hi = np.nanpercentile(fs, [1, 99]) if np.isfinite(fs).any() else (0.0, 1.0)
        norm = matplotlib.colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
        colors = matplotlib.colormaps[cmap](norm(fs))
    n = mesh.face_normals.numpy()
    ldir = np.asarray(light, float)
    ldir = ldir / np.linalg.norm(ldir)
    shade = 0.45 + 0.55 * np.abs(n @ ldir)
    colors = colors.copy()
    colors[:, :3] *= shade[:, None]
    coll = Poly3DCollection(v[f], facecolors=colors, edgecolors="none", linewidths=0)
    ax.add_collection3d(coll)
    lo, hi = v.min(0), v.max(0)
    c, r = (lo + hi) / 2, (hi - lo).max() / 2
    ax.set_xlim(c[0] - r, c[0] + r)
    ax.set_ylim(c[1] - r, c[1] + r)
    ax.set_zlim(c[2] - r, c[2] + r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    ax.set_axis_off()


def save_mesh_png(mesh: Mesh, path: str | Path, scalars: Tensor | None = None,
                  cmap: str = "viridis", title: str | None = None, elev: float = 20,
                  azim: float = -60, size: int = 5) -> Path:
    """Write one view of ``mesh`` coloured by ``scalars`` ((V,) or (F,)) to a PNG."""
    _, plt = _mpl()
    fig = plt.figure(figsize=(size, size))
    ax = fig.add_subplot(projection="3d")
    _draw_mesh(ax, mesh, scalars, cmap, elev, azim)
    if title:
        ax.set_title(title)
    return save_figure(fig, path, 100)


def render_mesh_grid(mesh: Mesh, fields: Sequence[Tensor], titles: Sequence[str],
                     path: str | Path, cols: int = 4, cmap: str = "coolwarm",
                     elev: float = 20, azim: float = -60) -> Path:
    """A grid of views of the same mesh, one per scalar field (e.g. eigenfunctions)."""
    if len(fields) != len(titles) or not fields:
        raise ValueError("fields and titles: expected equal, non-zero lengths")
    _, plt = _mpl()
    rows = (len(fields) + cols - 1) // cols
    fig = plt.figure(figsize=(3 * cols, 3 * rows))
    for i, (field, title) in enumerate(zip(fields, titles)):
        ax = fig.add_subplot(rows, cols, i + 1, projection="3d")
        _draw_mesh(ax, mesh, field, cmap, elev, azim)
        ax.set_title(title, fontsize=10)
    return save_figure(fig, path, 90)


def save_point_cloud_png(cloud: PointCloud, path: str | Path, scalars: Tensor | None = None,
                         edge_index: Tensor | None = None, cmap: str = "viridis",
                         title: str | None = None, max_edges: int = 20000) -> Path:
    """Scatter plot of a point cloud, optionally with (a sample of) graph edges."""
    _, plt = _mpl()
    p = cloud.points.detach().double().numpy()
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="3d")
    if edge_index is not None and edge_index.numel():
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        e = edge_index[:, :max_edges].numpy()
        ax.add_collection3d(Line3DCollection(np.stack([p[e[0]], p[e[1]]], 1), colors="0.6",
                                             linewidths=0.3))
    if scalars is not None:
        c = torch.as_tensor(scalars).double().numpy()
    elif cloud.colors is not None:
        c = cloud.colors.numpy()
    else:
        c = p[:, 2]
    ax.scatter(p[:, 0], p[:, 1], p[:, 2], c=c, s=3, cmap=cmap if c.ndim == 1 else None)
    ax.set_box_aspect(tuple(np.ptp(p, axis=0) + 1e-9))
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return save_figure(fig, path, 100)
