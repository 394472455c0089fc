"""Laplacians against PyG, hand stencils and analytic spectra."""
import pytest
import torch
from torch_geometric.utils import get_laplacian, get_mesh_laplacian, to_dense_adj

from geodl import ops
from geodl.structures import Mesh


def _dense_from_pyg(edge_index, edge_weight, n):
    return torch.sparse_coo_tensor(edge_index, edge_weight, (n, n)).to_dense()


@pytest.fixture(params=["icosphere", "bumpy_torus", "open_grid"])
def mesh(request):
    if request.param == "icosphere":
        return Mesh.icosphere(2)
    if request.param == "bumpy_torus":
        m = Mesh.torus(n_major=24, n_minor=10)
        g = torch.Generator().manual_seed(1)
        return Mesh(m.verts64 + 0.01 * torch.randn(m.num_verts, 3, generator=g,
                                                    dtype=torch.float64), m.faces)
    g = torch.Generator().manual_seed(2)
    m = Mesh.grid(9, 7, spacing=0.3)
    return Mesh(m.verts64 + 0.05 * torch.randn(m.num_verts, 3, generator=g,
                                               dtype=torch.float64), m.faces)


def test_cotan_laplacian_is_minus_pyg(mesh):
    L = ops.cotan_laplacian(mesh.verts, mesh.faces).to_dense()
    ei, w = get_mesh_laplacian(mesh.verts64, mesh.faces.T)
    C = _dense_from_pyg(ei, w, mesh.num_verts)
    assert torch.allclose(L, -C, atol=1e-10, rtol=0)
    # PSD with zero row sums
    assert torch.allclose(L.sum(1), torch.zeros(mesh.num_verts, dtype=torch.float64), atol=1e-10)
    assert torch.linalg.eigvalsh(L).min() > -1e-10


def test_mass_matrix_equals_pyg_barycentric_areas(mesh):
    M = ops.mass_matrix(mesh.verts, mesh.faces)
    ei, w_none = get_mesh_laplacian(mesh.verts64, mesh.faces.T)
    _, w_rw = get_mesh_laplacian(mesh.verts64, mesh.faces.T, normalization="rw")
    C = _dense_from_pyg(ei, w_none, mesh.num_verts)
    Crw = _dense_from_pyg(ei, w_rw, mesh.num_verts)
    areas = C.diagonal() / Crw.diagonal()  # PyG's rw Laplacian is M^-1 C
    assert torch.allclose(M, areas, atol=1e-10, rtol=0)
    assert abs(float(M.sum()) - mesh.area) < 1e-10


def test_flat_grid_cotan_is_five_point_stencil():
    m = Mesh.grid(6, 5, spacing=0.25)
    L = ops.cotan_laplacian(m.verts, m.faces).to_dense()
    # every interior vertex: 4 on the diagonal, -1 to its 4 axis neighbours,
    # and 0 across the split diagonals (cot 90 deg = 0), independent of spacing
    for i in range(1, 5):
        for j in range(1, 4):
            v = i * 5 + j
            row = L[v]
            expect = torch.zeros(30, dtype=torch.float64)
            expect[v] = 4
            for w in (v - 5, v + 5, v - 1, v + 1):
                expect[w] = -1
            assert torch.allclose(row, expect, atol=1e-12)


def test_icosphere_spectrum_is_l_l_plus_1():
    """Level 4 (2562 vertices): eigenvalue l(l+1) with multiplicity 2l+1.
    Measured: l <= 4 within 0.7 % relative; we assert 1 %."""
    m = Mesh.icosphere(4)
    evals, evecs = m.eigen(25)
    expected = torch.tensor([l * (l + 1) for l in range(5) for _ in range(2 * l + 1)],
                            dtype=torch.float64)
    assert abs(float(evals[0])) < 1e-8
    rel = (evals[1:] - expected[1:]).abs() / expected[1:]
    assert float(rel.max()) < 0.01
    # the eigenvalue clusters are separated where l changes
    gaps = evals[1:] - evals[:-1]
    for start in (1, 4, 9, 16):
        assert gaps[start - 1] > 1.0
    M = m.mass()
    assert torch.allclose(evecs.T @ (M[:, None] * evecs), torch.eye(25, dtype=torch.float64),
                          atol=1e-10)


@pytest.mark.parametrize("normalization", [None, "sym", "rw"])
def test_graph_laplacian_matches_pyg_and_definition(normalization):
    g = torch.Generator().manual_seed(0)
    n = 12
    ei = torch.randint(0, n, (2, 40), generator=g)
    ei = torch.cat([ei, ei.flip(0)], 1)
    ei = ei[:, ei[0] != ei[1]]
    ei = torch.unique(ei, dim=1)
    w = torch.rand(ei.shape[1], generator=g, dtype=torch.float64)
    w = (w + torch.sparse_coo_tensor(ei, w, (n, n)).to_dense().T[ei[0], ei[1]]) / 2  # symmetric
    ours = ops.graph_laplacian(ei, w, n, normalization).to_dense()
    pei, pw = get_laplacian(ei, w, normalization=normalization, num_nodes=n)
    assert torch.allclose(ours, _dense_from_pyg(pei, pw, n), atol=1e-12)
    A = to_dense_adj(ei, edge_attr=w, max_num_nodes=n)[0].double()
    D = A.sum(1)
    dinv = torch.where(D > 0, 1 / D, 0)
    expect = {None: torch.diag(D) - A,
              "sym": torch.diag((D > 0).double()) - dinv.sqrt()[:, None] * A * dinv.sqrt(),
              "rw": torch.diag((D > 0).double()) - dinv[:, None] * A}[normalization]
    assert torch.allclose(ours, expect, atol=1e-12)


def test_lambda_max_against_dense():
    from geodl.structures import Mesh
    m = Mesh.grid(20, 20)
    L = ops.graph_laplacian(m.edge_index, num_nodes=m.num_verts, normalization="sym")
    exact = float(torch.linalg.eigvalsh(L.to_dense())[-1])
    assert abs(ops.lambda_max(L) - exact) < 1e-3 * exact
    assert exact <= 2.0 + 1e-12


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="normalization"):
        ops.graph_laplacian(torch.tensor([[0], [1]]), normalization="bad")
    with pytest.raises(ValueError, match="edge_weight"):
        ops.graph_laplacian(torch.tensor([[0], [1]]), torch.tensor([-1.0]))
    v = torch.tensor([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])
    with pytest.raises(ValueError, match="zero-area"):
        ops.cotan_laplacian(v, torch.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match="faces"):
        ops.cotan_laplacian(v, torch.tensor([[0, 1, 3]]))
    with pytest.raises(ValueError, match="NaN"):
        ops.mass_matrix(torch.tensor([[0.0, 0, 0], [1, 0, 0], [float("nan"), 1, 0]]),
                        torch.tensor([[0, 1, 2]]))


@pytest.mark.parametrize("scale", [2.0 ** 990, 2.0 ** -1000, 1e300, 1e-300])
def test_cotan_laplacian_is_scale_free_at_the_ends_of_float64(scale):
    mesh = Mesh.icosphere(1)
    L = ops.cotan_laplacian(mesh.verts64, mesh.faces).to_dense()
    L_far = ops.cotan_laplacian(mesh.verts64 * scale, mesh.faces).to_dense()
    assert torch.isfinite(L_far).all()
    # powers of two scale exactly; decimal scales round each coordinate once
    atol = 0 if scale in (2.0 ** 990, 2.0 ** -1000) else 1e-12
    torch.testing.assert_close(L_far, L, atol=atol, rtol=atol)


def test_mass_of_a_mesh_whose_areas_overflow_is_refused():
    mesh = Mesh.icosphere(1)
    with pytest.raises(ValueError, match="overflow"):
        ops.mass_matrix(mesh.verts64 * 1e300, mesh.faces)
