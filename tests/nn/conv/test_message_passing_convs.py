"""GATConv, EdgeConv, GINConv: PyG equality, formulas by hand, layer properties."""
import pytest
import torch
import torch_geometric.nn as pyg_nn
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from geodl.nn.conv import DynamicEdgeConv, EdgeConv, GATConv, GINConv
from geodl.testing import assert_batch_consistent, assert_gradcheck, assert_permutation_equivariant
from tests.helpers import mlp as _mlp
from tests.helpers import random_graph


def _two_graphs(c=6):
    g = torch.Generator().manual_seed(7)
    return [Data(x=torch.randn(7, c, generator=g),
                 edge_index=torch.tensor([[0, 1, 2, 3, 6], [1, 2, 3, 6, 0]])),
            Data(x=torch.randn(5, c, generator=g), edge_index=torch.tensor([[0, 4, 2, 1], [1, 1, 3, 0]]))]


@pytest.mark.parametrize("concat", [True, False])
def test_gat_equals_pyg(concat):
    ei, x = random_graph(30, 150, "x")
    ours, ref = GATConv(6, 4, heads=3, concat=concat), pyg_nn.GATConv(6, 4, heads=3, concat=concat)
    ours.load_state_dict(ref.state_dict())
    assert torch.allclose(ours(x, ei), ref(x, ei), atol=1e-5)
    _, (att_ei, alpha) = ours(x, ei, return_attention_weights=True)
    # attention is a distribution over each node's incoming edges
    assert torch.allclose(scatter(alpha, att_ei[1], 0, reduce="sum"), torch.ones(30, 3), atol=1e-5)


def test_gat_single_neighbour_by_hand():
    """Node 1 attends to itself and node 0: alpha = softmax of the two scores."""
    conv = GATConv(1, 1, heads=1, bias=False, negative_slope=0.2)
    with torch.no_grad():
        conv.lin.weight.fill_(2.0)
        conv.att_src.fill_(1.0)
        conv.att_dst.fill_(0.5)
    x = torch.tensor([[1.0], [-1.0]])
    out = conv(x, torch.tensor([[0], [1]]))
    h = 2 * x[:, 0]
    s_from0 = torch.nn.functional.leaky_relu(h[0] + 0.5 * h[1], 0.2)
    s_self = torch.nn.functional.leaky_relu(h[1] + 0.5 * h[1], 0.2)
    a = torch.softmax(torch.stack([s_from0, s_self]), 0)
    assert torch.allclose(out[1, 0], a[0] * h[0] + a[1] * h[1])
    assert torch.allclose(out[0, 0], h[0])  # only its self-loop


def test_edge_conv_equals_pyg_and_formula():
    ei, x = random_graph(30, 150, "x")
    mlp = torch.nn.Sequential(torch.nn.Linear(12, 10), torch.nn.ReLU(), torch.nn.Linear(10, 5))
    ref = pyg_nn.EdgeConv(mlp)  # (PyG re-initialises the nn it is given: build it first)
    assert torch.allclose(EdgeConv(mlp)(x, ei), ref(x, ei), atol=1e-5)
    ref_in = torch.cat([x[ei[1]], x[ei[0]] - x[ei[1]]], 1)
    for aggr in ("mean", "sum", "add"):
        conv = EdgeConv(mlp, aggr)  # re-initialises mlp, as PyG's does: build it first
        expect = scatter(mlp(ref_in), ei[1], 0, dim_size=30, reduce=aggr)
        assert torch.allclose(conv(x, ei), expect, atol=1e-5)
    # an nn that does not start with a Linear takes the generic path
    generic, plain = EdgeConv(torch.nn.Sequential(torch.nn.Identity(), mlp)), EdgeConv(mlp)
    assert torch.allclose(generic(x, ei), plain(x, ei), atol=1e-5)


def _brute_knn_edges(x_src, x_dst, k, b_src, b_dst):
    """[source; target] of each target's k nearest sources (itself included,
    as PyG's DynamicEdgeConv counts it), same graph only: torch.cdist + topk."""
    d = torch.cdist(x_dst, x_src).masked_fill(b_dst[:, None] != b_src[None], float("inf"))
    nbr = d.topk(k, largest=False).indices
    return torch.stack([nbr.flatten(), torch.arange(len(x_dst)).repeat_interleave(k)])


def test_dynamic_edge_conv_equals_pyg_edge_conv_on_brute_force_knn():
    # PyG's DynamicEdgeConv needs pyg-lib's knn; its EdgeConv on a brute-force
    # kNN graph is the same function
    g = torch.Generator().manual_seed(3)
    x = torch.randn(40, 3, generator=g)
    batch = torch.cat([torch.zeros(20), torch.ones(20)]).long()
    mlp = _mlp(6, 4)
    ref = pyg_nn.EdgeConv(mlp)
    conv = DynamicEdgeConv(mlp, k=5)
    expect = ref(x, _brute_knn_edges(x, x, 5, batch, batch))
    assert torch.allclose(conv(x, batch), expect, atol=1e-6)
    # bipartite: queries y against points x
    y, by = torch.randn(10, 3, generator=g), torch.tensor([0] * 4 + [1] * 6)
    assert torch.allclose(conv((x, y), (batch, by)),
                          ref((x, y), _brute_knn_edges(x, y, 5, batch, by)), atol=1e-6)
    assert repr(conv) == repr(ref).replace("EdgeConv(", "DynamicEdgeConv(")[:-1] + ", k=5)"
    out = conv(x, batch)
    assert torch.allclose(out[:20], conv(x[:20]), atol=1e-6)  # graphs do not mix


def test_gin_equals_pyg_and_counts_neighbours():
    ei, x = random_graph(30, 150, "x")
    ours = GINConv(torch.nn.Linear(6, 3), train_eps=True)
    ref = pyg_nn.GINConv(torch.nn.Linear(6, 3), train_eps=True)
    ours.load_state_dict(ref.state_dict())
    with torch.no_grad():
        ours.eps.fill_(0.25)
        ref.eps.fill_(0.25)
    assert torch.allclose(ours(x, ei), ref(x, ei), atol=1e-5)
    # identity nn, eps = 0 on a star: the centre sums its leaves and itself
    star = torch.tensor([[1, 2, 3], [0, 0, 0]])
    ones = torch.ones(4, 1)
    assert GINConv(torch.nn.Identity())(ones, star)[:, 0].tolist() == [4.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("make", [
    lambda: GATConv(6, 3, heads=2),
    lambda: EdgeConv(torch.nn.Sequential(torch.nn.Linear(12, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))),
    lambda: GINConv(torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)),
                    train_eps=True),
])
def test_layer_properties(make):
    torch.manual_seed(0)
    conv = make()
    ei, x = random_graph(12, 40, "x")
    out = conv(x, ei)
    assert out.shape[0] == 12
    assert_permutation_equivariant(conv, x, ei)
    assert_batch_consistent(lambda d: conv(d.x, d.edge_index), _two_graphs())
    assert_gradcheck(lambda x: conv.double()(x, ei), x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="heads"):
        GATConv(2, 2, heads=0)
    with pytest.raises(ValueError, match="aggr"):
        EdgeConv(torch.nn.Linear(4, 2), aggr="median")
    with pytest.raises(ValueError, match="edge_index"):
        GATConv(2, 2)(torch.randn(3, 2), torch.tensor([[0], [5]]))
