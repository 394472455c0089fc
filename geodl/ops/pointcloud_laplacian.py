r"""A cotangent-style Laplacian for point clouds (no mesh).

Each point's ``k`` nearest neighbours are projected onto its tangent plane
(the PCA plane of the neighbourhood) and triangulated there by 2D Delaunay;
the triangles that touch the point form its local umbrella, as in Belkin,
Sun & Wang (2009) and Sharp & Crane (2020). A triangle can be produced by up
to three local triangulations, so each occurrence enters the global cotangent
stiffness and barycentric mass with weight 1/3. Cotangents and areas use the
3D positions. The result is a PSD Laplacian ``L`` and lumped mass ``M`` with
:math:`M^{-1}L \approx -\Delta` on the sampled surface.

This is our own because open3d and trimesh have no point-cloud Laplacian.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import Delaunay, QhullError
from torch import Tensor

from geodl.ops.cotan import laplacian_from_cotangents
from geodl.ops.mesh_geometry import corner_cotangents, face_areas
from geodl.ops.neighbors import _knn_table
from geodl.ops.validation import check_points


def local_triangles(points: Tensor, k: int = 30) -> Tensor:
    """(T, 3) long: all umbrella triangles of every point (with repeats)."""
    p = check_points(points, "points", 3, dtype=torch.float64)
    n = p.shape[0]
    if n < 4:
        raise ValueError(f"points: need at least 4 points, got {n}")
    k = min(k, n - 1)
    idx, _ = _knn_table(p, p, k + 1, None, None)  # first column is the point itself
    pn = p.numpy()
    nbr = pn[idx.numpy()]  # (N, k+1, 3)
    centred = nbr - nbr.mean(1, keepdims=True)
    # tangent basis: the two largest principal directions of each neighbourhood
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    uv = np.einsum("nkd,njd->nkj", nbr - pn[:, None, :], vt[:, :2, :])
    tris = []
    ids = idx.numpy()
    for i in range(n):
        try:
            tri = Delaunay(uv[i]).simplices
        except QhullError:  # degenerate (collinear) neighbourhood: contributes nothing
            continue
        tri = tri[(tri == 0).any(1)]
        tris.append(ids[i][tri])
    if not tris:
        raise ValueError("points: no neighbourhood could be triangulated (all collinear?)")
    t = np.concatenate(tris)
    # orient every triangle consistently with its own plane is unnecessary:
    # cotangents and areas below do not depend on orientation.
    return torch.from_numpy(t.astype(np.int64))


def point_cloud_laplacian(points: Tensor, k: int = 30) -> tuple[Tensor, Tensor]:
    """PSD Laplacian (N, N) sparse CSR float64 and (N,) lumped mass of a point cloud.

    Args:
        points: (N, 3) samples of a surface.
        k: neighbourhood size for the local triangulations.
    """
    p = check_points(points, "points", 3, dtype=torch.float64)
    t = local_triangles(p, k)
    area = face_areas(p, t)
    t = t[area > 1e-14 * float(area.max())]
    cot = corner_cotangents(p, t) / 3.0
    L = laplacian_from_cotangents(cot, t, p.shape[0])
    mass = torch.zeros(p.shape[0], dtype=torch.float64, device=p.device)
    a = face_areas(p, t) / 9.0  # a third per corner, a third per occurrence
    for c in range(3):
        mass.index_add_(0, t[:, c], a)
    if (mass <= 0).any():
        raise ValueError("points: some points got no local triangle (duplicates or outliers?)")
    return L, mass
