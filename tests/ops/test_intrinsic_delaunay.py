"""The intrinsic Delaunay Laplacian equals the cotan Laplacian of the
Delaunay triangulation (scipy/Qhull) for flat meshes, and has only
non-negative edge weights."""
import numpy as np
import pytest
import torch
from scipy.spatial import Delaunay

from geodl import ops
from geodl.ops.mesh_geometry import face_cross
from geodl.structures import Mesh


def _jittered_grid(seed: int) -> Mesh:
    m = Mesh.grid(12, 12)
    g = torch.Generator().manual_seed(seed)
    v = m.verts64.clone()
    interior = (v[:, 0] > 0) & (v[:, 0] < 11) & (v[:, 1] > 0) & (v[:, 1] < 11)
    v[interior, :2] += 0.6 * torch.rand(int(interior.sum()), 2, generator=g,
                                        dtype=torch.float64) - 0.3
    assert (face_cross(v, m.faces)[:, 2] > 0).all()  # no folded triangle
    return Mesh(v, m.faces)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flat_mesh_flips_to_qhull_delaunay(seed):
    m = _jittered_grid(seed)
    L, M = ops.intrinsic_delaunay_laplacian(m.verts, m.faces, mollify_factor=0.0)
    tri = torch.from_numpy(Delaunay(m.verts64[:, :2].numpy()).simplices.astype(np.int64))
    assert torch.allclose(L.to_dense(), ops.cotan_laplacian(m.verts, tri).to_dense(), atol=1e-10)
    assert torch.allclose(M, ops.mass_matrix(m.verts, tri), atol=1e-12)
    # the original triangulation had negative weights; the flipped one has none
    Lc = ops.cotan_laplacian(m.verts, m.faces).to_dense()
    off = lambda A: A - torch.diag(torch.diag(A))  # noqa: E731
    assert (off(Lc) > 1e-12).any()
    assert not (off(L.to_dense()) > 1e-12).any()


def test_delaunay_mesh_is_unchanged():
    m = Mesh.icosphere(2)
    L, M = ops.intrinsic_delaunay_laplacian(m.verts, m.faces, mollify_factor=0.0)
    assert torch.allclose(L.to_dense(), m.laplacian().to_dense(), atol=1e-10)
    assert torch.allclose(M, m.mass(), atol=1e-12)


def test_degenerate_triangle_is_mollified():
    v = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0.5, 0, 0], [0.5, 1, 0], [0.5, -1, 0]])
    f = torch.tensor([[0, 2, 3], [2, 1, 3], [0, 4, 2], [2, 4, 1]])
    L, M = ops.intrinsic_delaunay_laplacian(v, f)
    assert torch.isfinite(L.to_dense()).all() and (M > 0).all()
    with pytest.raises(ValueError):
        ops.intrinsic_delaunay_laplacian(v, torch.tensor([[0, 0, 1]]))


def test_non_manifold_is_rejected():
    v = torch.randn(5, 3, dtype=torch.float64)
    f = torch.tensor([[0, 1, 2], [1, 0, 3], [0, 1, 4]])
    with pytest.raises(ValueError, match="non-manifold"):
        ops.intrinsic_delaunay_laplacian(v, f)
