"""ChebConv and GCNConv: PyG equality, hand values, layer properties, grid maths."""
import math

import pytest
import torch
import torch_geometric.nn as pyg_nn
from torch_geometric.data import Data

from geodl import ops
from geodl.nn.conv import ChebConv, GCNConv
from geodl.ops import grid_graph
from geodl.testing import assert_batch_consistent, assert_gradcheck, assert_permutation_equivariant
from tests.helpers import random_graph


@pytest.mark.parametrize("normalization", [None, "sym", "rw"])
@pytest.mark.parametrize("K", [1, 2, 4])
def test_chebconv_equals_pyg(normalization, K):
    ei, w, x = random_graph(30, 120, "weight", "x")
    ours, ref = ChebConv(6, 5, K, normalization), pyg_nn.ChebConv(6, 5, K, normalization)
    ours.load_state_dict(ref.state_dict())
    for weight in (None, w):
        assert torch.allclose(ours(x, ei, weight), ref(x, ei, weight), atol=1e-5)
    lam = torch.tensor(1.7)
    a, b = ours(x, ei, lambda_max=lam), ref(x, ei, lambda_max=lam)
    # lambda_max < lambda: T_k grows to ~1e3, so compare relative to the scale
    # (float32 summation order differs from PyG's scatter)
    assert (a - b).abs().max() <= 1e-6 * max(1.0, b.abs().max().item())


def test_gcnconv_equals_pyg():
    ei, w, x = random_graph(30, 120, "weight", "x")
    for kw in ({}, {"improved": True}, {"add_self_loops": False}, {"normalize": False}):
        ours, ref = GCNConv(6, 5, **kw), pyg_nn.GCNConv(6, 5, **kw)
        ours.load_state_dict(ref.state_dict())
        assert torch.allclose(ours(x, ei, w), ref(x, ei, w), atol=1e-5), kw


def test_gcn_on_a_path_by_hand():
    """Path 0-1-2 with self-loops: degrees 2, 3, 2; A_hat row 0 = [1/2, 1/sqrt6, 0]."""
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    conv = GCNConv(1, 1, bias=False)
    with torch.no_grad():
        conv.lin.weight.fill_(1.0)
    x = torch.tensor([[1.0], [2.0], [4.0]])
    s6 = math.sqrt(6)
    expect = torch.tensor([[1 / 2 + 2 / s6], [1 / s6 + 2 / 3 + 4 / s6], [2 / s6 + 4 / 2]])
    assert torch.allclose(conv(x, ei), expect, atol=1e-6)


def test_chebconv_k1_is_linear_and_k2_by_hand():
    ei, _, x = random_graph(30, 120, "weight", "x")
    conv = ChebConv(6, 3, K=1)
    assert torch.allclose(conv(x, ei), conv.lins[0](x) + conv.bias)
    # K=2 with lambda_max=2, sym: T1 = L - I = -D^-1/2 A D^-1/2
    conv2 = ChebConv(6, 3, K=2, bias=False)
    A = torch.zeros(30, 30)
    ei_u = torch.unique(torch.cat([ei, ei.flip(0)], 1), dim=1)
    ei_u = ei_u[:, ei_u[0] != ei_u[1]]
    A[ei_u[1], ei_u[0]] = 1.0
    d = A.sum(0)
    dis = torch.where(d > 0, d.rsqrt(), 0)
    T1 = -(dis[:, None] * A * dis[None, :])
    expect = conv2.lins[0](x) + conv2.lins[1](T1 @ x)
    assert torch.allclose(conv2(x, ei_u, lambda_max=2.0), expect, atol=1e-5)


@pytest.mark.parametrize("make", [lambda: ChebConv(4, 3, K=3), lambda: GCNConv(4, 3)])
def test_layer_properties(make):
    torch.manual_seed(0)
    conv = make()
    g = torch.Generator().manual_seed(1)
    ei = torch.randint(0, 12, (2, 40), generator=g)
    ei = torch.cat([ei, ei.flip(0)], 1)
    x = torch.randn(12, 4, generator=g)
    assert conv(x, ei).shape == (12, 3)
    assert_permutation_equivariant(conv, x, ei)
    graphs = [Data(x=torch.randn(7, 4, generator=g), edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 6]])),
              Data(x=torch.randn(5, 4, generator=g), edge_index=torch.tensor([[0, 4, 2], [1, 1, 3]]))]
    assert_batch_consistent(lambda d: conv(d.x, d.edge_index), graphs)
    assert_gradcheck(lambda x: conv.double()(x, ei), x.double()[:, :4])


def test_chebconv_per_graph_lambda_max():
    g = torch.Generator().manual_seed(2)
    from torch_geometric.data import Batch
    a = Data(x=torch.randn(6, 2, generator=g), edge_index=grid_graph(2, 3))
    b = Data(x=torch.randn(4, 2, generator=g), edge_index=grid_graph(2, 2))
    conv = ChebConv(2, 2, K=3, normalization=None)
    lam_a = ops.lambda_max(ops.graph_laplacian(a.edge_index, num_nodes=6))
    lam_b = ops.lambda_max(ops.graph_laplacian(b.edge_index, num_nodes=4))
    batch = Batch.from_data_list([a, b])
    out = conv(batch.x, batch.edge_index, batch=batch.batch,
               lambda_max=torch.tensor([lam_a, lam_b]))
    assert torch.allclose(out[:6], conv(a.x, a.edge_index, lambda_max=lam_a), atol=1e-6)
    assert torch.allclose(out[6:], conv(b.x, b.edge_index, lambda_max=lam_b), atol=1e-6)


def test_grid_laplacian_eigenvectors_are_the_dct_ii_basis():
    """Combinatorial Laplacian of the h x w grid: eigenvalues
    (2 - 2cos(pi p/h)) + (2 - 2cos(pi q/w)), eigenvectors
    cos(pi p (i + 1/2)/h) cos(pi q (j + 1/2)/w) (DCT-II), up to rotation
    inside repeated eigenvalues: we compare eigenspace projectors."""
    h, w = 6, 8
    L = ops.graph_laplacian(grid_graph(h, w), num_nodes=h * w).to_dense()
    evals, evecs = torch.linalg.eigh(L)
    p, q = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    lam = (2 - 2 * torch.cos(math.pi * p.double() / h)) + (2 - 2 * torch.cos(math.pi * q.double() / w))
    i, j = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                          indexing="ij")
    basis = []
    for pp, qq in zip(p.flatten().tolist(), q.flatten().tolist()):
        v = torch.cos(math.pi * pp * (i + 0.5) / h) * torch.cos(math.pi * qq * (j + 0.5) / w)
        basis.append((v / v.norm()).flatten())
    basis = torch.stack(basis, 1).double()
    lam = lam.flatten().double()
    assert torch.allclose(torch.sort(lam).values, evals, atol=1e-10)
    assert torch.allclose(L @ basis, basis * lam, atol=1e-10)  # each DCT vector is an eigenvector
    for value in torch.unique(torch.round(lam * 1e8) / 1e8):
        sel_dct = (lam - value).abs() < 1e-6
        sel_eig = (evals - value).abs() < 1e-6
        P_dct = basis[:, sel_dct] @ basis[:, sel_dct].T
        P_eig = evecs[:, sel_eig] @ evecs[:, sel_eig].T
        assert torch.allclose(P_dct, P_eig, atol=1e-8)


@pytest.mark.parametrize("normalization", [None, "sym"])
def test_chebconv_is_translation_equivariant_away_from_the_border(normalization):
    h = w = 20
    K = 4
    ei = grid_graph(h, w)
    conv = ChebConv(1, 2, K=K, normalization=normalization).double()
    g = torch.Generator().manual_seed(0)
    img = torch.zeros(h, w, dtype=torch.float64)
    img[6:12, 6:12] = torch.randn(6, 6, generator=g, dtype=torch.float64)
    shifted = torch.roll(img, shifts=(2, 3), dims=(0, 1))
    lam = 8.0 if normalization is None else 2.0  # same operator for both inputs
    y = conv(img.reshape(-1, 1), ei, lambda_max=lam).reshape(h, w, 2)
    ys = conv(shifted.reshape(-1, 1), ei, lambda_max=lam).reshape(h, w, 2)
    m = K  # the filter reaches K-1 hops: compare where no border is within reach
    assert torch.allclose(ys[2 + m:h - m, 3 + m:w - m], y[m:h - 2 - m, m:w - 3 - m], atol=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="K"):
        ChebConv(2, 2, K=0)
    with pytest.raises(ValueError, match="normalization"):
        ChebConv(2, 2, K=2, normalization="bad")
    conv = ChebConv(2, 2, K=2)
    with pytest.raises(ValueError, match="x: expected shape"):
        conv(torch.randn(3, 5), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="lambda_max"):
        conv(torch.randn(3, 2), torch.tensor([[0], [1]]), lambda_max=-1.0)
    with pytest.raises(ValueError, match="edge_index"):
        GCNConv(2, 2)(torch.randn(3, 2), torch.tensor([[0], [7]]))
