"""The propagation base: input checks, the cached CSR structure, and the
GCN normalisation against a dense matrix built by hand."""
from __future__ import annotations

import gc

import pytest
import torch

import geodl.nn.conv as C
from geodl.nn.conv import propagation as P
from tests.nn.layer_cases import graph, layer_cases


def test_gcn_normalisation_equals_dense_hand_computation():
    # directed, weighted, with one self-loop (weight kept) and an isolated node
    ei = torch.tensor([[0, 1, 2, 2, 3, 1, 4], [1, 2, 0, 1, 1, 1, 0]])
    w = torch.tensor([0.5, 2.0, 1.5, 0.25, 3.0, 0.7, 1.2], dtype=torch.float64)
    n = 6
    a = torch.zeros(n, n, dtype=torch.float64)  # A[i, j] = weight of j -> i
    for (j, i), wij in zip(ei.T.tolist(), w.tolist()):
        if i != j:
            a[i, j] += wij
    a_hat = a + torch.diag(torch.tensor([1.0, 0.7, 1.0, 1.0, 1.0, 1.0], dtype=torch.float64))
    d = a_hat.sum(1)  # weights arriving at each node
    p = torch.diag(d.rsqrt()) @ a_hat @ torch.diag(d.rsqrt())
    conv = C.GCNConv(3, 2).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    assert torch.allclose(conv(x, ei, w), p @ conv.lin(x) + conv.bias, atol=1e-12)
    # improved: the added loops weigh 2, the existing one keeps 0.7
    a2 = a + torch.diag(torch.tensor([2.0, 0.7, 2.0, 2.0, 2.0, 2.0], dtype=torch.float64))
    d2 = a2.sum(1).rsqrt()
    conv2 = C.GCNConv(3, 2, improved=True).double()
    conv2.load_state_dict(conv.state_dict())
    assert torch.allclose(conv2(x, ei, w), (d2[:, None] * a2 * d2) @ conv.lin(x) + conv.bias,
                          atol=1e-12)


@pytest.mark.parametrize("layer", [C.GCNConv(3, 2), C.ChebConv(3, 2, K=2), C.CayleyConv(3, 2, r=1)])
def test_edge_weights_are_checked_where_they_enter(layer):
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    x = torch.randn(3, 3)
    for bad, what in [(torch.tensor([1.0, float("nan"), 1.0]), "NaN"),
                      (torch.tensor([1.0, float("inf"), 1.0]), "NaN or inf"),
                      (torch.tensor([1.0, -0.5, 1.0]), "non-negative"),
                      (torch.ones(4), r"shape \(3,\)"),
                      (torch.ones(3, 1), r"shape \(3,\)"),
                      (torch.ones(3, dtype=torch.long), "floating")]:
        with pytest.raises(ValueError, match=f"edge_weight: .*{what}"):
            layer(x, ei, bad)
    assert torch.isfinite(layer(x, ei, torch.rand(3))).all()


def test_unnormalised_gcn_accepts_negative_weights():
    ei = torch.tensor([[0, 1], [1, 0]])
    out = C.GCNConv(2, 2, normalize=False)(torch.randn(2, 2), ei, torch.tensor([-1.0, 2.0]))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", list(layer_cases()))
def test_float_edge_index_gets_the_same_error_in_every_layer(name):
    layer, args = layer_cases()[name]
    ei, x, w, ea = graph()
    with pytest.raises(ValueError, match=r"edge_index: expected integer indices \(torch.long\)"):
        layer(*args(x, ei.float(), w, ea))
    with pytest.raises(ValueError, match="edge_index: sources must lie in"):
        layer(*args(x, torch.cat([ei, torch.tensor([[10], [0]])], 1),
                    torch.cat([w, w[:1]]), torch.cat([ea, ea[:1]])))


def test_bipartite_sizes_are_checked():
    conv = C.SAGEConv((3, 2), 4)
    xs, xt = torch.randn(5, 3), torch.randn(2, 2)
    ei = torch.tensor([[0, 4], [1, 2]])  # target 2 does not exist
    with pytest.raises(ValueError, match="targets in"):
        conv((xs, xt), ei)
    with pytest.raises(ValueError, match="size"):
        conv((xs, None), ei[:, :1])
    with pytest.raises(ValueError, match="x: expected 4 target nodes"):
        conv((xs, xt), ei[:, :1], size=(5, 4))


def test_csr_structure_is_reused_on_the_same_graph_and_never_stale():
    ei, x, w, _ = graph(n=10, e=30)
    conv = C.GCNConv(6, 3)
    g1 = P.parse_graph(ei, None, x, x)
    s1 = g1.structure(self_loops=True)
    assert P.parse_graph(ei, None, x, x).structure(self_loops=True) is s1  # reused
    assert P.parse_graph(ei.clone(), None, x, x).structure(self_loops=True) is not s1
    assert g1.structure(self_loops=False) is not s1
    before = conv(x, ei, w)
    # an in-place edit of the graph bumps its version: rebuilt, new output
    ei[0, :5] = (ei[0, :5] + 1) % 10
    assert P.parse_graph(ei, None, x, x).structure(self_loops=True) is not s1
    assert torch.allclose(conv(x, ei, w), conv(x, ei.clone(), w))
    assert not torch.allclose(conv(x, ei, w), before)
    # out-of-range edit after a cached check is still caught
    ei[0, 0] = 99
    with pytest.raises(ValueError, match="sources must lie"):
        conv(x, ei, w)
    # the cache entry dies with the tensor
    n0 = len(P._CACHE)
    tmp = torch.randint(0, 10, (2, 20))
    conv(x, tmp)
    assert len(P._CACHE) == n0 + 1
    del tmp
    gc.collect()
    assert len(P._CACHE) == n0


def test_sparse_adjacency_and_size_forms_agree():
    ei, x, w, _ = graph()
    conv = C.GCNConv(6, 3)
    adj = torch.sparse_coo_tensor(ei.flip(0), w, (10, 10)).coalesce()
    ref = conv(x, adj.indices().flip(0), adj.values())
    for a in (adj, adj.to_sparse_csr(), adj.t().to_sparse_csc().t()):
        assert torch.allclose(conv(x, a), ref, atol=1e-6)
    with pytest.raises(ValueError, match="size"):
        C.SAGEConv(6, 3)(x, adj, size=(10, 9))


@pytest.mark.parametrize("name", list(layer_cases()))
def test_empty_graphs(name):
    layer, args = layer_cases()[name]
    ei, x, w, ea = graph()
    none = torch.empty(2, 0, dtype=torch.long)
    width = layer(*args(x, ei, w, ea)).shape[1]
    # nodes but no edges, and no nodes at all
    for xx in (x, x[:0]):
        out = layer(*args(xx, none, w[:0], ea[:0]))
        assert out.shape == (xx.shape[0], width) and torch.isfinite(out).all()
