"""``PointCloud``: points with optional colours and normals, open3d/trimesh interop."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from geodl import ops
from geodl._optional import open3d, trimesh
from geodl.ops.validation import check_points, check_positive
from geodl.structures.cache import VersionedCache


class PointCloud:
    """A point cloud.

    Args:
        points: (N, 3) float positions (finite).
        colors: optional (N, 3) RGB in [0, 1].
        normals: optional (N, 3) unit normals.
    """

    def __init__(self, points: Any, colors: Any = None, normals: Any = None) -> None:
        # our own copy: derived data is cached against it (VersionedCache)
        self.points: Tensor = check_points(points, "points", 3).clone()
        n = self.points.shape[0]
        self.colors = None if colors is None else self._attr(colors, "colors", n)
        if self.colors is not None and ((self.colors < 0) | (self.colors > 1)).any():
            raise ValueError("colors: expected RGB values in [0, 1]")
        self.normals = None if normals is None else self._attr(normals, "normals", n)
        self._memo = VersionedCache()

    @staticmethod
    def _attr(value: Any, name: str, n: int) -> Tensor:
        t = check_points(value, name, 3)
        if t.shape[0] != n:
            raise ValueError(f"{name}: expected {n} rows (one per point), got {t.shape[0]}")
        return t

    def __len__(self) -> int:
        return self.points.shape[0]

    def __repr__(self) -> str:
        extra = "".join(f", {a}" for a in ("colors", "normals") if getattr(self, a) is not None)
        return f"PointCloud(num_points={len(self)}{extra})"

    # ------------------------------------------------------------- geometry
    def knn_graph(self, k: int, loop: bool = False) -> Tensor:
        """(2, N*k) kNN edge index (``geodl.ops.knn_graph``)."""
        return ops.knn_graph(self.points, k, loop=loop)

    def laplacian(self, k: int = 30) -> tuple[Tensor, Tensor]:
        """Point-cloud Laplacian and lumped mass (``geodl.ops.point_cloud_laplacian``)."""
        key = ("laplacian", k)
        # keyed on the points object and its version: an in-place edit or a
        # reassignment of ``points`` recomputes
        cache = self._memo.store(self.points)
        if key not in cache:
            cache[key] = ops.point_cloud_laplacian(self.points, k)
        return cache[key]

    def eigen(self, k: int, neighbours: int = 30) -> tuple[Tensor, Tensor]:
        """k smallest generalised eigenpairs of the point-cloud Laplacian."""
        L, M = self.laplacian(neighbours)
        return ops.generalized_eigh(L, M, k)

    def voxel_downsample(self, voxel_size: float) -> "PointCloud":
        """Average the points (and colours, normals) in each voxel (Open3D)."""
        voxel_size = check_positive(voxel_size, "voxel_size")
        if len(self):
            # Open3D indexes voxels with int32: a size this small overflows it
            extent = float((self.points.max(0).values - self.points.min(0).values).max())
            if extent / voxel_size >= 2 ** 31 - 1:
                raise ValueError(f"voxel_size: {voxel_size!r} is too small for the cloud's "
                                 f"extent {extent:g} (more than 2^31 voxels per axis)")
        return PointCloud.from_open3d(self.to_open3d().voxel_down_sample(float(voxel_size)))

    def estimate_normals(self, k: int = 30, orient_towards: Any = None) -> "PointCloud":
        """PCA normals from ``k`` neighbours (Open3D), oriented towards the
        camera location ``orient_towards`` if given, else by a consistent
        tangent-plane propagation.

        Open3D does not check its arguments (``k = 0`` kills the process), so
        they are checked here: ``k`` an int >= 3 (a plane needs three points),
        at least 3 points, ``orient_towards`` a finite 3-vector."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 3:
            raise ValueError(f"k: expected an int >= 3 (neighbours for a PCA plane), got {k!r}")
        if len(self) < 3:
            raise ValueError(f"points: need at least 3 points to estimate normals, got {len(self)}")
        if orient_towards is not None:
            try:
                loc = np.asarray(orient_towards, dtype=np.float64)
            except (TypeError, ValueError):
                loc = np.zeros(0)
            if loc.shape != (3,) or not np.isfinite(loc).all():
                raise ValueError(f"orient_towards: expected a finite 3-vector, got {orient_towards!r}")
        k = int(k)
        o3d = open3d()
        pc = self.to_open3d()
        pc.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(knn=k))
        if orient_towards is not None:
            pc.orient_normals_towards_camera_location(loc)
        elif len(self) > k:
            try:
                pc.orient_normals_consistent_tangent_plane(k)
            except RuntimeError as err:  # Qhull fails on e.g. exactly cospherical points
                raise ValueError(f"points: Open3D could not orient the normals consistently "
                                 f"({str(err).splitlines()[0]}); pass orient_towards") from None
        normals = torch.from_numpy(np.asarray(pc.normals).copy()).to(self.points.dtype)
        return PointCloud(self.points, self.colors, normals)

    # ---------------------------------------------------------- conversions
    def to_open3d(self):
        o3d = open3d()
        pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(
            self.points.detach().double().numpy()))
        if self.colors is not None:
            pc.colors = o3d.utility.Vector3dVector(self.colors.detach().double().numpy())
        if self.normals is not None:
            pc.normals = o3d.utility.Vector3dVector(self.normals.detach().double().numpy())
        return pc

    @classmethod
    def from_open3d(cls, pc) -> "PointCloud":
        """From a legacy ``open3d.geometry.PointCloud`` (or a tensor one)."""
        if hasattr(pc, "to_legacy"):
            pc = pc.to_legacy()
        pts = torch.from_numpy(np.asarray(pc.points).copy())
        colors = torch.from_numpy(np.asarray(pc.colors).copy()) if pc.has_colors() else None
        normals = torch.from_numpy(np.asarray(pc.normals).copy()) if pc.has_normals() else None
        return cls(pts, colors, normals)

    def to_trimesh(self):
        cols = None
        if self.colors is not None:
            cols = (self.colors.detach().numpy() * 255).round().astype(np.uint8)
        return trimesh().PointCloud(self.points.detach().numpy(), colors=cols)

    @classmethod
    def from_trimesh(cls, pc) -> "PointCloud":
        colors = None
        c = getattr(pc, "colors", None)
        if c is not None and len(c):
            colors = torch.from_numpy(np.asarray(c)[:, :3].astype(np.float64) / 255.0)
        return cls(torch.from_numpy(np.asarray(pc.vertices, dtype=np.float64)), colors)

    def to_data(self, **attrs: Any):
        """PyG ``Data(pos, x=colors?, norm=normals?)``."""
        from torch_geometric.data import Data

        extra = {}
        if self.colors is not None:
            extra["color"] = self.colors
        if self.normals is not None:
            extra["normal"] = self.normals
        return Data(pos=self.points, num_nodes=len(self), **extra, **attrs)

    @classmethod
    def load(cls, path: str | Path) -> "PointCloud":
        """Read a PLY (or PCD/XYZ) point cloud with Open3D."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path: no such file {path}")
        pc = open3d().io.read_point_cloud(str(path))
        if len(pc.points) == 0:
            raise ValueError(f"path: {path} holds no points (or is not a point-cloud file)")
        return cls.from_open3d(pc)

    def save(self, path: str | Path) -> None:
        """Write PLY/PCD/XYZ with Open3D (binary PLY keeps float64 precision)."""
        path = Path(path)
        if path.suffix.lower() not in {".ply", ".pcd", ".xyz"}:
            raise ValueError(f"path: unsupported point-cloud format {path.suffix!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not open3d().io.write_point_cloud(str(path), self.to_open3d()):
            raise OSError(f"could not write {path}")
