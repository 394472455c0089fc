r"""Geodesic distances on triangle meshes: the heat method and Dijkstra.

Heat method (Crane, Weischedel & Wardetzky 2013), with our PSD cotangent
Laplacian :math:`L` and lumped mass :math:`M`:

1. diffuse for a short time :math:`t = m\,h^2` (``h`` = mean edge length):
   :math:`(M + tL)\,u = \delta_S`;
2. normalise the negated gradient per face: :math:`X = -\nabla u / |\nabla u|`;
3. solve the Poisson problem :math:`L\varphi = -\nabla\!\cdot X` (integrated
   divergence) and shift so that :math:`\varphi = 0` on the sources.

Both matrices are factorised once per mesh, so every further source set
costs two triangular solves. The gradient and divergence are the extrinsic
per-face ones, so the Laplacian must be the matching cotangent one
(``div grad = -L``); an intrinsic Delaunay variant would need the intrinsic
gradient too.

Each connected component is solved on its own footing: a vertex in a
component without a source is unreachable and gets ``inf`` (as Dijkstra
gives), and the additive constant of the Poisson solution is fixed per
component.

Dijkstra on the edge graph gives the (longer) shortest path along edges; it is
an upper bound on the geodesic distance.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import torch
from scipy.sparse.csgraph import connected_components, dijkstra
from torch import Tensor

from geodl.ops.cotan import cotan_laplacian, mass_matrix
from geodl.ops.mesh_geometry import corner_cotangents, face_cross, mesh_edges
from geodl.ops.sparse import to_scipy
from geodl.ops.validation import check_faces, check_points, check_positive


def _sources(sources: int | Sequence[int] | Tensor, n: int) -> np.ndarray:
    s = np.atleast_1d(np.asarray(sources.cpu() if isinstance(sources, Tensor) else sources))
    if s.size == 0 or s.dtype.kind not in "iu":
        raise ValueError(f"sources: expected one or more vertex indices, got {sources!r}")
    if s.min() < 0 or s.max() >= n:
        raise ValueError(f"sources: indices must lie in [0, {n}), got {s.min()}..{s.max()}")
    return s.astype(np.int64)


class HeatMethod:
    """Prefactored heat-method geodesic solver for one mesh.

    Args:
        verts: (V, 3). faces: (F, 3).
        t_factor: diffusion time in units of the squared mean edge length
            (Crane et al. recommend 1); a positive finite number.
        laplacian, mass: optional precomputed cotangent Laplacian (V, V) and
            mass (V,) of this mesh, to reuse a cached copy.
    """

    def __init__(self, verts: Tensor, faces: Tensor, t_factor: float = 1.0,
                 laplacian: Tensor | None = None, mass: Tensor | None = None) -> None:
        t_factor = check_positive(t_factor, "t_factor")
        v = check_points(verts, "verts", 3, dtype=torch.float64)
        f = check_faces(faces, v.shape[0])
        if f.shape[0] == 0:
            raise ValueError("faces: the heat method needs at least one face, got 0")
        self.num_verts = v.shape[0]
        e_np = mesh_edges(f).numpy()
        adj = sp.coo_matrix((np.ones(len(e_np)), (e_np[:, 0], e_np[:, 1])),
                            shape=(self.num_verts,) * 2)
        self._num_comp, self._comp = connected_components(adj, directed=False)
        L = to_scipy(laplacian if laplacian is not None else cotan_laplacian(v, f)).tocsc()
        m = (mass if mass is not None else mass_matrix(v, f)).double().numpy()
        e = mesh_edges(f)
        h = float((v[e[:, 0]] - v[e[:, 1]]).norm(dim=1).mean())
        t = t_factor * h * h
        self._heat = sla.splu((sp.diags(m) + t * L).tocsc())
        # L is singular (constants); a tiny mass term pins the constant without
        # changing gradients, and we shift by the source value afterwards.
        eps = 1e-10 * float(L.diagonal().mean() / m.mean())
        self._poisson = sla.splu((L + eps * sp.diags(m)).tocsc())
        self._faces = f.numpy()
        cross = face_cross(v, f).numpy()
        area2 = np.linalg.norm(cross, axis=1)
        self._normal = cross / area2[:, None]
        self._area2 = area2
        self._verts = v.numpy()
        self._cot = corner_cotangents(v, f).numpy()

    def _gradient(self, u: np.ndarray) -> np.ndarray:
        """(F, 3) per-face gradient of a piecewise linear function (V,)."""
        f, p = self._faces, self._verts
        g = np.zeros((f.shape[0], 3))
        for k in range(3):
            e = p[f[:, (k + 2) % 3]] - p[f[:, (k + 1) % 3]]  # edge opposite corner k, CCW
            g += u[f[:, k], None] * np.cross(self._normal, e)
        return g / self._area2[:, None]

    def _divergence(self, x: np.ndarray) -> np.ndarray:
        """(V,) integrated divergence of a per-face vector field (F, 3)."""
        f, p, cot = self._faces, self._verts, self._cot
        div = np.zeros(self.num_verts)
        for k in range(3):
            i, j, l = f[:, k], f[:, (k + 1) % 3], f[:, (k + 2) % 3]
            e_ij, e_il = p[j] - p[i], p[l] - p[i]
            val = 0.5 * (cot[:, (k + 2) % 3] * (e_ij * x).sum(1)
                         + cot[:, (k + 1) % 3] * (e_il * x).sum(1))
            np.add.at(div, i, val)
        return div

    def __call__(self, sources: int | Sequence[int] | Tensor) -> Tensor:
        """(V,) float64 distance from every vertex to the nearest source."""
        s = _sources(sources, self.num_verts)
        delta = np.zeros(self.num_verts)
        delta[s] = 1.0
        u = self._heat.solve(delta)
        g = self._gradient(u)
        norm = np.linalg.norm(g, axis=1, keepdims=True)
        x = -g / np.where(norm > 0, norm, 1.0)
        phi = self._poisson.solve(-self._divergence(x))
        # The Poisson solution is defined up to a constant per connected
        # component: fix it in each component that holds a source (zero at a
        # lone source, else the minimum is zero); the others are unreachable.
        comp = self._comp
        out = np.full(self.num_verts, np.inf)
        for c in np.unique(comp[s]):
            members = comp == c
            src = s[comp[s] == c]
            if len(np.unique(src)) == 1:
                out[members] = np.maximum(phi[members] - phi[src[0]], 0.0)
            else:
                out[members] = phi[members] - phi[members].min()
        return torch.from_numpy(out)


def heat_geodesic(verts: Tensor, faces: Tensor, sources: int | Sequence[int] | Tensor,
                  t_factor: float = 1.0) -> Tensor:
    """(V,) heat-method geodesic distance to ``sources`` (see :class:`HeatMethod`)."""
    return HeatMethod(verts, faces, t_factor)(sources)


def dijkstra_distance(verts: Tensor, faces: Tensor,
                      sources: int | Sequence[int] | Tensor) -> Tensor:
    """(V,) shortest-path distance along mesh edges to the nearest source
    (``inf`` where unreachable)."""
    v = check_points(verts, "verts", 3, dtype=torch.float64)
    f = check_faces(faces, v.shape[0])
    s = _sources(sources, v.shape[0])
    e = mesh_edges(f).numpy()
    w = np.linalg.norm(v.numpy()[e[:, 0]] - v.numpy()[e[:, 1]], axis=1)
    g = sp.coo_matrix((w, (e[:, 0], e[:, 1])), shape=(v.shape[0],) * 2).tocsr()
    d = dijkstra(g, directed=False, indices=s, min_only=True)
    return torch.from_numpy(np.asarray(d, dtype=np.float64))
