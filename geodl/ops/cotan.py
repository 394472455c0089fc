r"""Cotangent Laplacian and lumped mass matrix of a triangle mesh (float64).

The cotangent Laplacian is the finite-element stiffness matrix of piecewise
linear hat functions, with the sign that makes it positive semi-definite:

.. math::
    L_{ij} = -\tfrac12(\cot\alpha_{ij} + \cot\beta_{ij}) \quad (i \ne j
    \text{ an edge}), \qquad L_{ii} = -\sum_{j \ne i} L_{ij},

where :math:`\alpha_{ij}, \beta_{ij}` are the angles opposite edge
:math:`ij` (one on a boundary edge). :math:`\phi^\top L \phi = \int |\nabla\phi|^2`.
It is minus PyG's ``get_mesh_laplacian`` matrix. The lumped (barycentric)
mass matrix gives each vertex a third of the area of its incident faces, so
:math:`M^{-1} L \approx -\Delta`.

For meshes with obtuse or near-degenerate triangles, some weights turn
negative and the maximum principle fails: use
:func:`geodl.ops.intrinsic_delaunay_laplacian` there.
"""
from __future__ import annotations

import torch
from torch import Tensor

from geodl.ops.mesh_geometry import corner_cotangents, face_areas
from geodl.ops.sparse import sparse_csr
from geodl.ops.validation import check_faces, check_points


def laplacian_from_cotangents(cot: Tensor, faces: Tensor, num_verts: int) -> Tensor:
    """Assemble the (V, V) CSR Laplacian from per-corner cotangents (F, 3)."""
    rows, cols, vals = [], [], []
    for k in range(3):
        i, j = faces[:, (k + 1) % 3], faces[:, (k + 2) % 3]
        w = 0.5 * cot[:, k]
        rows += [i, j, i, j]
        cols += [j, i, i, j]
        vals += [-w, -w, w, w]
    return sparse_csr(torch.cat(rows), torch.cat(cols), torch.cat(vals),
                      (num_verts, num_verts))


def _checked(verts, faces) -> tuple[Tensor, Tensor]:
    v = check_points(verts, "verts", 3, dtype=torch.float64)
    return v, check_faces(faces, v.shape[0])


def cotan_laplacian(verts: Tensor, faces: Tensor) -> Tensor:
    """Positive semi-definite cotangent Laplacian, torch sparse CSR (V, V) float64.

    Args:
        verts: (V, 3) vertex positions.
        faces: (F, 3) vertex indices.

    Raises:
        ValueError: on malformed input or zero-area faces (whose angles are
            undefined; mollify or use ``intrinsic_delaunay_laplacian``).
    """
    v, f = _checked(verts, faces)
    cot = corner_cotangents(v, f)  # scale-free: finite for any finite non-degenerate face
    if not torch.isfinite(cot).all():
        bad = (~torch.isfinite(cot)).any(1).nonzero().flatten()[:5].tolist()
        raise ValueError(f"faces: zero-area (degenerate) faces {bad}; cotangents are "
                         "undefined there (try intrinsic_delaunay_laplacian)")
    return laplacian_from_cotangents(cot, f, v.shape[0])


def mass_matrix(verts: Tensor, faces: Tensor) -> Tensor:
    """Lumped barycentric mass: (V,) float64, a third of each incident face's area."""
    v, f = _checked(verts, faces)
    a = face_areas(v, f) / 3.0
    if not torch.isfinite(a).all():
        raise ValueError(f"verts: face areas overflow float64 (coordinates up to "
                         f"{float(v.abs().max()):.3g}); scale the mesh to a smaller unit")
    m = torch.zeros(v.shape[0], dtype=torch.float64, device=v.device)
    for k in range(3):
        m.index_add_(0, f[:, k], a)
    return m
