"""FeaStConv, EdgeConditionedConv (vs PyG), SpiralConv and GeodesicConv."""
import pytest
import torch
import torch_geometric.nn as pyg_nn

from geodl import ops
from geodl.nn.conv import EdgeConditionedConv, FeaStConv, GeodesicConv, SpiralConv
from geodl.structures import Mesh
from geodl.testing import assert_batch_consistent, assert_gradcheck, assert_permutation_equivariant
from tests.helpers import random_graph, two_graphs


def test_feast_and_edge_conditioned_equal_pyg():
    ei, x, ea = random_graph(30, 120, "x", "edge_attr")
    ours, ref = FeaStConv(6, 4, heads=3), pyg_nn.FeaStConv(6, 4, heads=3)
    ours.load_state_dict(ref.state_dict())
    assert torch.allclose(ours(x, ei), ref(x, ei), atol=1e-5)
    mlp = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 24))
    ref = pyg_nn.NNConv(6, 4, mlp)  # PyG re-initialises the nn: build it first
    ours = EdgeConditionedConv(6, 4, mlp)
    ours.load_state_dict(ref.state_dict())
    assert torch.allclose(ours(x, ei, ea), ref(x, ei, ea), atol=1e-5)


def test_edge_conditioned_by_hand():
    """nn outputs the identity matrix times the edge's scalar: messages are w_ij x_j."""
    conv = EdgeConditionedConv(2, 2, _ScaledIdentity(), root_weight=False, bias=False)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    ei = torch.tensor([[0, 1], [2, 2]])
    out = conv(x, ei, torch.tensor([[2.0], [0.5]]))
    assert out[2].tolist() == [2 * 1 + 0.5 * 3, 2 * 2 + 0.5 * 4]


class _ScaledIdentity(torch.nn.Module):
    def forward(self, e):
        return (e[:, :, None] * torch.eye(2)).reshape(-1, 4)


@pytest.mark.parametrize("make", [lambda: FeaStConv(6, 3, heads=2),
                                  lambda: EdgeConditionedConv(6, 3, torch.nn.Linear(3, 18))])
def test_layer_properties(make):
    torch.manual_seed(0)
    conv = make()
    ei, x, ea = random_graph(12, 40, "x", "edge_attr")
    needs_attr = isinstance(conv, EdgeConditionedConv)
    fn = (lambda x, e, a: conv(x, e, a)) if needs_attr else (lambda x, e: conv(x, e))
    assert_permutation_equivariant(fn, x, ei, edge_attr=ea if needs_attr else None)
    graphs = two_graphs(torch.Generator().manual_seed(9), channels=6, edge_dim=3)
    assert_batch_consistent(lambda d: conv(d.x, d.edge_index, d.edge_attr) if needs_attr
                            else conv(d.x, d.edge_index), graphs)
    if needs_attr:
        assert_gradcheck(lambda x: conv.double()(x, ei, ea.double()), x)
    else:
        assert_gradcheck(lambda x: conv.double()(x, ei), x)


def test_spirals_are_rings_in_order():
    m = Mesh.icosphere(2)
    s = ops.spiral_indices(m.faces, m.num_verts, 19)
    ring1 = {v: set() for v in range(m.num_verts)}
    for a, b in m.edges.tolist():
        ring1[a].add(b)
        ring1[b].add(a)
    for v in (0, 17, 100):
        seq = s[v].tolist()
        assert seq[0] == v and len(set(seq)) == len(seq) and -1 not in seq
        k = len(ring1[v])
        assert set(seq[1:1 + k]) == ring1[v]
        # consecutive one-ring members are adjacent: a cyclic walk around v
        assert all(seq[1 + i + 1] in ring1[seq[1 + i]] for i in range(k - 1))
        assert seq[1] == min(ring1[v])
    # a corner of a small grid runs out of vertices: padded with -1
    grid = Mesh.grid(3, 3)
    assert ops.spiral_indices(grid.faces, 9, 12)[0].tolist()[-3:] == [-1, -1, -1]


def test_spiral_conv_values_and_batching():
    m = Mesh.icosphere(1)
    idx = ops.spiral_indices(m.faces, m.num_verts, 7)
    conv = SpiralConv(2, 2, idx)
    with torch.no_grad():  # pick the centre's features: identity
        conv.layer.weight.zero_()
        conv.layer.weight[:, :2] = torch.eye(2)
    x = torch.randn(m.num_verts, 2)
    assert torch.allclose(conv(x), x)
    with torch.no_grad():  # pick the first ring member
        conv.layer.weight.zero_()
        conv.layer.weight[:, 2:4] = torch.eye(2)
    assert torch.allclose(conv(x), x[idx[:, 1]])
    conv.reset_parameters()
    xb = torch.randn(3, m.num_verts, 2)
    assert torch.allclose(conv(xb)[1], conv(xb[1]), atol=1e-6)
    assert_gradcheck(lambda x: conv.double()(x), x)
    with pytest.raises(ValueError, match="x: expected shape"):
        conv(torch.randn(5, 2))


@pytest.fixture(scope="module")
def sphere_patches():
    m = Mesh.icosphere(2)
    ei, w = ops.geodesic_patches(m.verts, m.faces, radius=0.45, n_rho=2, n_theta=6)
    return m, ei, w


def test_geodesic_patches_are_normalised_interpolations(sphere_patches):
    m, ei, w = sphere_patches
    total = torch.zeros(m.num_verts, 12, dtype=torch.float64).index_add_(0, ei[1], w)
    assert torch.allclose(total, torch.ones_like(total))
    conv = GeodesicConv(1, 3, n_rho=2, n_theta=6).double()
    ones = torch.ones(m.num_verts, 1, dtype=torch.float64)
    expect = conv.weight.sum(dim=(0, 1, 2)) + conv.bias  # D(1) = 1 in every bin
    assert torch.allclose(conv(ones, ei, w), expect.expand(m.num_verts, 3), atol=1e-10)


def test_geodesic_conv_ignores_the_angular_origin(sphere_patches):
    """Rotating each patch's angular origin by whole bins (a different
    rotation per vertex) leaves the output unchanged (angular max pooling)."""
    m, ei, w = sphere_patches
    conv = GeodesicConv(3, 4, n_rho=2, n_theta=6).double()
    x = torch.randn(m.num_verts, 3, dtype=torch.float64)
    shift = torch.randint(0, 6, (m.num_verts,), generator=torch.Generator().manual_seed(0))
    w3 = w.view(-1, 2, 6)
    rolled = torch.stack([torch.roll(w3[p], int(shift[ei[1, p]]), dims=1)
                          for p in range(w3.shape[0])]).view(-1, 12)
    assert torch.allclose(conv(x, ei, rolled), conv(x, ei, w), atol=1e-10)
    assert_gradcheck(lambda x: conv(x, ei, w), x[:, :3])
