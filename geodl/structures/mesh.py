"""``Mesh``: a validated triangle mesh with cached differential operators."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import torch
from torch import Tensor

from geodl import ops
from geodl._optional import open3d, trimesh
from geodl.ops.mesh_topology import MeshReport, check_mesh
from geodl.ops.validation import check_faces, check_points
from geodl.structures.cache import (
    VersionedCache,
    content_hash,
    default_cache_dir,
    load_cached,
    save_cached,
)

LaplacianKind = Literal["cotan", "intrinsic_delaunay"]


def _eigen_payload_problem(payload: dict, num_verts: int, k: int, laplacian: Tensor,
                           mass: Tensor) -> str | None:
    r"""Why a cached eigenbasis cannot be the answer (``None`` if it can).

    The file's hash already matched, so this guards against a file written
    by a bug, another version or a hand: ``k`` and the types, dtypes, shapes
    and finiteness of ``evals (k,)`` and ``evecs (V, k)``, ascending
    eigenvalues, M-orthonormality :math:`\Phi^\top M \Phi = I` (to 1e-6;
    O(V k^2), far below the eigensolve it saves) and that each pair solves
    the problem: :math:`\|L\phi - \lambda M\phi\| \le 10^{-6}
    (\|L\|_\infty + |\lambda| \max M)\|\phi\|` (one sparse product; the
    hash only says which mesh a file belongs to, not that its numbers are
    right)."""
    if payload.get("k") != k:
        return f"stored k {payload.get('k')!r}, expected {k}"
    evals, evecs = payload.get("evals"), payload.get("evecs")
    for name, t, shape in (("evals", evals, (k,)), ("evecs", evecs, (num_verts, k))):
        if not isinstance(t, Tensor):
            return f"{name} is a {type(t).__name__}, not a tensor"
        if t.dtype != torch.float64 or tuple(t.shape) != shape:
            return f"{name} has dtype {t.dtype} and shape {tuple(t.shape)}, expected float64 {shape}"
        if not torch.isfinite(t).all():
            return f"{name} contains NaN or inf"
    if k > 1 and (evals[1:] < evals[:-1]).any():
        return "evals are not ascending"
    gram = evecs.T @ (mass[:, None] * evecs)
    if not torch.allclose(gram, torch.eye(k, dtype=torch.float64), atol=1e-6, rtol=0):
        return "evecs are not M-orthonormal"
    residual = (laplacian @ evecs - mass[:, None] * evecs * evals).norm(dim=0)
    norm_l = float(laplacian.to_sparse_coo().abs().sum(1).to_dense().max())
    bound = 1e-6 * (norm_l + evals.abs() * mass.max()) * evecs.norm(dim=0)
    if (residual > bound).any():
        i = int((residual / bound).argmax())
        return f"pair {i} has residual |L phi - lambda M phi| = {float(residual[i]):.3g}"
    return None


class Mesh:
    """A triangle mesh ``(verts: (V, 3), faces: (F, 3) long)``.

    The constructor rejects malformed input with ``ValueError``/``TypeError``
    (wrong shapes or dtypes, indices out of range, NaN/inf coordinates, no
    faces). Geometric defects that are legal but often unwanted (degenerate or
    duplicate faces, non-manifold edges and vertices) are reported by
    :meth:`check`. Derived operators are computed on first use and cached on
    the object; the eigenbasis is cached on disk too (:meth:`eigen`).

    The mesh keeps its own copies of ``verts`` and ``faces`` (an array the
    caller later edits cannot change it). Editing them in place with torch
    (``mesh.verts[0] = p``, ``mesh.verts.mul_(2)``) or assigning new ones
    (``mesh.verts = v``) empties the cached operators, which are then
    recomputed (:class:`~geodl.structures.cache.VersionedCache`).

    Optional per-vertex ``colors`` (V, 3) RGB in [0, 1] travel with the mesh
    through the trimesh and Open3D converters and :meth:`save` / :meth:`load`
    (PLY, OBJ, GLB store them as 8-bit, so a round trip quantises to 1/255).
    They are data, not geometry: no cached operator depends on them.

    Args:
        verts: (V, 3) float vertex positions (ints are converted).
        faces: (F, 3) integer vertex indices, counter-clockwise seen from outside.
        colors: optional (V, 3) float RGB in [0, 1], one row per vertex.
    """

    def __init__(self, verts: Any, faces: Any, *, colors: Any = None) -> None:
        self._memo = VersionedCache()
        v = self._check_verts(verts)
        self._verts, self._faces = v, self._check_faces(faces, v.shape[0])
        self._colors = self._check_colors(colors, v.shape[0])

    @staticmethod
    def _check_verts(verts: Any) -> Tensor:
        v = check_points(verts, "verts", 3)
        if v.shape[0] == 0:
            raise ValueError("verts: a mesh needs at least one vertex, got 0")
        return v.clone()  # our own copy: the caller's array may share memory

    @staticmethod
    def _check_faces(faces: Any, num_verts: int) -> Tensor:
        f = check_faces(faces, num_verts)
        if f.shape[0] == 0:
            raise ValueError("faces: a mesh needs at least one face, got 0")
        return f.clone()

    @staticmethod
    def _check_colors(colors: Any, num_verts: int) -> Tensor | None:
        if colors is None:
            return None
        c = check_points(colors, "colors", 3)
        if c.shape[0] != num_verts:
            raise ValueError(f"colors: expected {num_verts} rows (one per vertex), "
                             f"got {c.shape[0]}")
        if ((c < 0) | (c > 1)).any():
            raise ValueError("colors: expected RGB values in [0, 1]")
        return c.clone()

    @property
    def verts(self) -> Tensor:
        """(V, 3) vertex positions (editable in place; caches follow)."""
        return self._verts

    @verts.setter
    def verts(self, value: Any) -> None:
        v = self._check_verts(value)
        check_faces(self._faces, v.shape[0])
        if self._colors is not None and self._colors.shape[0] != v.shape[0]:
            raise ValueError(f"verts: the mesh has {self._colors.shape[0]} vertex colours, "
                             f"got {v.shape[0]} vertices (set colors = None first)")
        self._verts = v
        self._memo.clear()

    @property
    def colors(self) -> Tensor | None:
        """(V, 3) vertex colours in [0, 1], or ``None``."""
        return self._colors

    @colors.setter
    def colors(self, value: Any) -> None:
        self._colors = self._check_colors(value, self._verts.shape[0])

    @property
    def faces(self) -> Tensor:
        """(F, 3) long vertex indices."""
        return self._faces

    @faces.setter
    def faces(self, value: Any) -> None:
        self._faces = self._check_faces(value, self._verts.shape[0])
        self._memo.clear()

    @property
    def _cache(self) -> dict[Any, Any]:
        """Derived data, valid for the current contents of verts and faces."""
        return self._memo.store(self._verts, self._faces)

    # ------------------------------------------------------------------ basics
    @property
    def num_verts(self) -> int:
        return self.verts.shape[0]

    @property
    def num_faces(self) -> int:
        return self.faces.shape[0]

    def __repr__(self) -> str:
        extra = ", colors" if self._colors is not None else ""
        return f"Mesh(num_verts={self.num_verts}, num_faces={self.num_faces}{extra})"

    def _cached(self, key: Any, fn):
        cache = self._cache
        if key not in cache:
            cache[key] = fn()
        return cache[key]

    @property
    def verts64(self) -> Tensor:
        return self._cached("verts64", lambda: self.verts.double())

    def check(self, strict: bool = False, area_tol: float = 0.0) -> MeshReport:
        """Report degenerate/duplicate faces and non-manifold edges/vertices.

        With ``strict=True`` raise ``ValueError`` listing the problems instead.
        """
        report = check_mesh(self.verts64, self.faces, area_tol)
        if strict and not report.ok:
            raise ValueError("mesh has defects:\n  " + "\n  ".join(report.problems))
        return report

    @property
    def edges(self) -> Tensor:
        """(E, 2) unique undirected edges, ``i < j``."""
        return self._cached("edges", lambda: ops.mesh_edges(self.faces))

    @property
    def edge_index(self) -> Tensor:
        """(2, 2E) directed edge index (both directions), PyG layout."""
        return self._cached("edge_index", lambda: ops.mesh_edge_index(self.faces))

    @property
    def face_areas(self) -> Tensor:
        return self._cached("face_areas", lambda: ops.face_areas(self.verts64, self.faces))

    @property
    def area(self) -> float:
        return float(self.face_areas.sum())

    @property
    def face_normals(self) -> Tensor:
        return self._cached("face_normals", lambda: ops.face_normals(self.verts64, self.faces))

    @property
    def vertex_normals(self) -> Tensor:
        return self._cached("vertex_normals",
                            lambda: ops.vertex_normals(self.verts64, self.faces))

    @property
    def mean_edge_length(self) -> float:
        e = self.edges
        return float((self.verts64[e[:, 0]] - self.verts64[e[:, 1]]).norm(dim=1).mean())

    # --------------------------------------------------------------- operators
    def laplacian(self, kind: LaplacianKind = "cotan") -> Tensor:
        """(V, V) PSD Laplacian, sparse CSR float64 (see ``geodl.ops``)."""
        if kind == "cotan":
            return self._cached(("L", kind), lambda: ops.cotan_laplacian(self.verts64, self.faces))
        if kind == "intrinsic_delaunay":
            return self._intrinsic()[0]
        raise ValueError(f"kind: expected 'cotan' or 'intrinsic_delaunay', got {kind!r}")

    def mass(self, kind: LaplacianKind = "cotan") -> Tensor:
        """(V,) lumped barycentric mass matrix (diagonal), float64."""
        if kind == "cotan":
            return self._cached(("M", kind), lambda: ops.mass_matrix(self.verts64, self.faces))
        if kind == "intrinsic_delaunay":
            return self._intrinsic()[1]
        raise ValueError(f"kind: expected 'cotan' or 'intrinsic_delaunay', got {kind!r}")

    def _intrinsic(self) -> tuple[Tensor, Tensor]:
        return self._cached("intrinsic", lambda: ops.intrinsic_delaunay_laplacian(
            self.verts64, self.faces))

    def eigen(self, k: int, kind: LaplacianKind = "cotan",
              cache_dir: str | Path | None | bool = None) -> tuple[Tensor, Tensor]:
        r"""The k smallest eigenpairs of :math:`L\phi = \lambda M\phi`.

        Returns ``(evals (k,), evecs (V, k))`` ascending with
        ``evecs.T @ diag(M) @ evecs = I``. Cached on the object and on disk
        under ``cache_dir`` (default :func:`default_cache_dir`; ``False``
        disables the disk cache) keyed by a hash of the vertices, faces,
        Laplacian kind and k, which is checked on load.
        """
        if not isinstance(k, (int, np.integer)) or not 1 <= k < self.num_verts:
            raise ValueError(f"k: expected an int in [1, {self.num_verts - 1}], got {k!r}")
        mem = self._cache.get(("eigen", kind))
        if mem is not None and mem[0].numel() >= k:
            return mem[0][:k], mem[1][:, :k]
        digest = content_hash("eigen-v2", self.verts64, self.faces, kind, int(k))
        directory = None if cache_dir is False else Path(cache_dir or default_cache_dir())
        payload = load_cached(directory, "eigen", digest) if directory else None
        problem = None if payload is None else _eigen_payload_problem(
            payload, self.num_verts, int(k), self.laplacian(kind), self.mass(kind))
        if payload is not None and problem is None:
            evals, evecs = payload["evals"], payload["evecs"]
        else:
            if problem is not None:
                warnings.warn(f"ignoring eigenbasis cache file for this mesh under {directory}: "
                              f"{problem}; recomputing", RuntimeWarning, stacklevel=2)
            evals, evecs = ops.generalized_eigh(self.laplacian(kind), self.mass(kind), int(k))
            if directory is not None:
                try:
                    save_cached(directory, "eigen", digest,
                                {"evals": evals, "evecs": evecs, "k": int(k)})
                except OSError:  # read-only cache dir: the in-memory cache still works
                    pass
        self._cache[("eigen", kind)] = (evals, evecs)
        return evals, evecs

    def hks(self, times: Tensor | int = 16, k: int = 128, scale_invariant: bool = False,
            kind: LaplacianKind = "cotan") -> Tensor:
        """(V, T) heat kernel signature from the first ``k`` eigenpairs."""
        evals, evecs = self.eigen(min(k, self.num_verts - 1), kind)
        return ops.heat_kernel_signature(evals, evecs, times, scale_invariant)

    def wks(self, num: int = 100, k: int = 128, kind: LaplacianKind = "cotan") -> Tensor:
        """(V, num) wave kernel signature from the first ``k`` eigenpairs."""
        evals, evecs = self.eigen(min(k, self.num_verts - 1), kind)
        return ops.wave_kernel_signature(evals, evecs, num)

    def geodesic(self, sources, t_factor: float = 1.0) -> Tensor:
        """(V,) heat-method geodesic distance to ``sources`` (solver cached).

        Uses the cotangent Laplacian, the one consistent with the extrinsic
        per-face gradient and divergence of the method."""
        solver = self._cached(("heat", t_factor), lambda: ops.HeatMethod(
            self.verts64, self.faces, t_factor, self.laplacian("cotan"), self.mass("cotan")))
        return solver(sources)

    def dijkstra(self, sources) -> Tensor:
        """(V,) shortest distance along edges to ``sources``."""
        return ops.dijkstra_distance(self.verts64, self.faces, sources)

    def simplify(self, target_verts: int) -> tuple["Mesh", Tensor]:
        """QEM-simplified mesh and the (V,) fine-to-coarse vertex map."""
        v, f, cluster = ops.simplify_mesh(self.verts64, self.faces, target_verts)
        return Mesh(v.to(self.verts.dtype), f), cluster

    # ------------------------------------------------------------- conversions
    def to_data(self, **attrs: Any):
        """PyG ``Data(pos=(V,3), face=[3,F], edge_index=[2,2E], **attrs)``."""
        from torch_geometric.data import Data

        return Data(pos=self.verts, face=self.faces.T.contiguous(),
                    edge_index=self.edge_index, num_nodes=self.num_verts, **attrs)

    @classmethod
    def from_data(cls, data) -> "Mesh":
        """From a PyG ``Data`` with ``pos`` (V,3) and ``face`` [3,F]."""
        if getattr(data, "pos", None) is None or getattr(data, "face", None) is None:
            raise ValueError("data: expected attributes 'pos' and 'face'")
        return cls(data.pos, data.face.T)

    @staticmethod
    def batch(meshes: Sequence["Mesh"], **attrs: Sequence[Any]):
        """A PyG ``Batch`` of several meshes (faces offset per mesh by PyG)."""
        from torch_geometric.data import Batch

        if len(meshes) == 0:
            raise ValueError("meshes: expected at least one mesh")
        items = [m.to_data(**{k: v[i] for k, v in attrs.items()}) for i, m in enumerate(meshes)]
        return Batch.from_data_list(items)

    @classmethod
    def from_trimesh(cls, mesh) -> "Mesh":
        """From a ``trimesh.Trimesh``; per-vertex colours (8-bit RGBA) are kept
        as ``colors`` when the mesh has them (texture or face colours are not)."""
        colors = None
        visual = getattr(mesh, "visual", None)
        if visual is not None and getattr(visual, "kind", None) == "vertex":
            c = np.asarray(visual.vertex_colors)
            if c.ndim == 2 and c.shape[0] == len(mesh.vertices) and c.shape[1] >= 3:
                colors = torch.from_numpy(c[:, :3].astype(np.float64) / 255.0)
        return cls(torch.as_tensor(np.asarray(mesh.vertices, dtype=np.float64)),
                   torch.as_tensor(np.asarray(mesh.faces, dtype=np.int64)), colors=colors)

    def to_trimesh(self):
        """A ``trimesh.Trimesh`` (no re-processing), with 8-bit vertex colours
        when the mesh has ``colors``."""
        colors = None
        if self._colors is not None:
            colors = (self._colors.detach().cpu().double().numpy() * 255).round().astype(np.uint8)
        return trimesh().Trimesh(self.verts.detach().cpu().numpy(),
                                 self.faces.cpu().numpy(), vertex_colors=colors, process=False)

    @classmethod
    def from_open3d(cls, mesh) -> "Mesh":
        """From a legacy ``open3d.geometry.TriangleMesh`` or a tensor ``open3d.t`` mesh."""
        if hasattr(mesh, "to_legacy"):
            mesh = mesh.to_legacy()
        colors = None
        if mesh.has_vertex_colors():
            colors = torch.from_numpy(np.clip(np.asarray(mesh.vertex_colors), 0.0, 1.0))
        return cls(torch.as_tensor(np.asarray(mesh.vertices, dtype=np.float64)),
                   torch.as_tensor(np.asarray(mesh.triangles, dtype=np.int64)), colors=colors)

    def to_open3d(self):
        """A legacy ``open3d.geometry.TriangleMesh`` (float64 vertices)."""
        o3d = open3d()
        m = o3d.geometry.TriangleMesh(
            o3d.utility.Vector3dVector(self.verts64.numpy()),
            o3d.utility.Vector3iVector(self.faces.numpy().astype(np.int32)))
        if self._colors is not None:
            m.vertex_colors = o3d.utility.Vector3dVector(self._colors.detach().double().numpy())
        return m

    @classmethod
    def load(cls, path: str | Path) -> "Mesh":
        """Read PLY, OBJ, OFF, STL, GLB (anything trimesh reads) without
        re-processing; vertex colours, where the file has them, become ``colors``."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path: no such file {path}")
        try:
            m = trimesh().load(path, force="mesh", process=False)
        except Exception as err:
            raise ValueError(f"path: cannot read a mesh from {path}: {err}") from None
        if not hasattr(m, "faces") or len(m.faces) == 0:
            raise ValueError(f"path: {path} holds no triangles")
        return cls.from_trimesh(m)

    def save(self, path: str | Path) -> None:
        """Write PLY, OBJ, OFF, STL or GLB (format from the suffix); PLY, OBJ
        and GLB carry the vertex ``colors`` (8-bit)."""
        path = Path(path)
        if path.suffix.lower() not in {".ply", ".obj", ".off", ".stl", ".glb"}:
            raise ValueError(f"path: unsupported mesh format {path.suffix!r} "
                             "(use .ply, .obj, .off, .stl or .glb)")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_trimesh().export(path)

    # --------------------------------------------------------------- recipes
    @classmethod
    def icosphere(cls, level: int = 3, radius: float = 1.0) -> "Mesh":
        """Icosahedron subdivided ``level`` times, projected on the sphere (trimesh)."""
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or level < 0:
            raise ValueError(f"level: expected an int >= 0, got {level!r}")
        return cls.from_trimesh(trimesh().creation.icosphere(subdivisions=level, radius=radius))

    @classmethod
    def grid(cls, nx: int, ny: int, spacing: float = 1.0) -> "Mesh":
        """Flat ``nx`` x ``ny`` vertex grid in the z=0 plane, each square split
        along the same diagonal (vertex ``i * ny + j`` sits at ``(i, j) * spacing``)."""
        if nx < 2 or ny < 2:
            raise ValueError(f"nx, ny: expected >= 2, got {nx}, {ny}")
        i, j = torch.meshgrid(torch.arange(nx), torch.arange(ny), indexing="ij")
        verts = torch.stack([i, j, torch.zeros_like(i)], -1).reshape(-1, 3).double() * spacing
        a = (i[:-1, :-1] * ny + j[:-1, :-1]).reshape(-1)
        b, c, d = a + ny, a + ny + 1, a + 1
        faces = torch.cat([torch.stack([a, b, c], 1), torch.stack([a, c, d], 1)])
        return cls(verts, faces)

    @classmethod
    def torus(cls, major: float = 1.0, minor: float = 0.3, n_major: int = 48,
              n_minor: int = 16) -> "Mesh":
        """Torus around the z axis (trimesh)."""
        return cls.from_trimesh(trimesh().creation.torus(
            major_radius=major, minor_radius=minor, major_sections=n_major,
            minor_sections=n_minor))
