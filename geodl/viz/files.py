"""Geometry files as viewer layers: PLY, OBJ, OFF, STL, GLB/glTF (trimesh) and
PCD, XYZ (Open3D), with a named per-vertex property as the scalar field."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from geodl._optional import open3d, trimesh
from geodl.viz.layer import Layer

TRIMESH_SUFFIXES = {".ply", ".obj", ".off", ".stl", ".glb", ".gltf"}
OPEN3D_SUFFIXES = {".pcd", ".xyz", ".xyzn", ".xyzrgb", ".pts"}


def _vertex_properties(geom) -> dict[str, np.ndarray]:
    """Per-vertex PLY properties other than position (``quality``,
    ``intensity``, ...), in file order (trimesh keeps it with process=False)."""
    raw = getattr(geom, "metadata", {}).get("_ply_raw", {}).get("vertex", {}).get("data", {})
    out = {k: np.asarray(v) for k, v in dict(raw).items() if k not in ("x", "y", "z")}
    out.update({k: np.asarray(v) for k, v in getattr(geom, "vertex_attributes", {}).items()})
    # trimesh keeps PLY properties as (N, 1) columns
    out = {k: v[:, 0] if v.ndim == 2 and v.shape[1] == 1 else v for k, v in out.items()}
    return {k: v for k, v in out.items() if v.ndim == 1 and len(v) == len(geom.vertices)}


def load_file(path: str | os.PathLike, scalar: str | None = None) -> Layer:
    """A layer of the geometry in ``path``, coloured by its per-vertex property
    ``scalar`` if given (e.g. ``quality`` or ``intensity`` in a PLY file)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such file {path}")
    suffix = path.suffix.lower()
    if suffix in OPEN3D_SUFFIXES:
        if scalar is not None:
            raise ValueError(f"scalar: {suffix} files carry no named properties that geodl "
                             "reads; use a PLY file")
        pc = open3d().io.read_point_cloud(str(path))
        if len(pc.points) == 0:
            raise ValueError(f"path: {path} holds no points")
        return Layer(pc, name=path.name)
    if suffix not in TRIMESH_SUFFIXES:
        raise ValueError(f"path: cannot view {suffix or 'a file without suffix'} files; expected "
                         f"one of {sorted(TRIMESH_SUFFIXES | OPEN3D_SUFFIXES)}")
    try:
        geom = trimesh().load(path, process=False)
    except Exception as err:
        raise ValueError(f"path: cannot read {path}: {err}") from None
    parts = list(geom.geometry.values()) if type(geom).__name__ == "Scene" else [geom]
    if not any(len(getattr(p, "vertices", ())) for p in parts):
        raise ValueError(f"path: {path} holds no vertices")
    if scalar is None:
        return Layer(geom, name=path.name)
    if type(geom).__name__ == "Scene":
        raise ValueError(f"scalar: {path} is a scene of several parts; --scalar needs a "
                         "single mesh or point cloud")
    props = _vertex_properties(geom)
    if scalar not in props:
        raise ValueError(f"scalar: {path.name} has no per-vertex property {scalar!r} "
                         f"(has: {', '.join(sorted(props)) or 'none'})")
    return Layer(geom, name=path.name, scalars=props[scalar].astype(np.float64),
                 scalar_name=scalar)
