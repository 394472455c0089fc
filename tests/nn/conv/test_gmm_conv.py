"""MoNet's GMMConv: PyG equality, and exactly Conv2d on a pixel grid."""
import pytest
import torch
import torch_geometric.nn as pyg_nn
from torch_geometric.utils import add_self_loops

from geodl.nn import pseudo_coords
from geodl.nn.conv import GMMConv
from geodl.ops import grid_graph
from geodl.testing import assert_batch_consistent, assert_gradcheck, assert_permutation_equivariant
from tests.helpers import two_graphs


@pytest.mark.parametrize("aggr,pyg_aggr", [("mean", "mean"), ("sum", "add")])
def test_gmm_conv_equals_pyg(aggr, pyg_aggr):
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 30, (2, 120), generator=g)
    x, u = torch.randn(30, 6, generator=g), torch.rand(120, 2, generator=g)
    ours, ref = GMMConv(6, 4, 2, 5, aggr=aggr), pyg_nn.GMMConv(6, 4, 2, 5, aggr=pyg_aggr)
    ours.load_state_dict(ref.state_dict())
    assert torch.allclose(ours(x, ei, u), ref(x, ei, u), atol=1e-5)


def test_gmm_conv_with_nine_narrow_kernels_is_conv2d():
    """The weight mapping of the docstring: Theta_k = W[:, :, 1 + dr, 1 + dc]."""
    h, w, cin, cout = 7, 9, 3, 4
    g = torch.Generator().manual_seed(1)
    img = torch.randn(1, cin, h, w, generator=g, dtype=torch.float64)
    conv2d = torch.nn.Conv2d(cin, cout, 3, padding=1).double()
    ei, _ = add_self_loops(grid_graph(h, w, diagonals=True), num_nodes=h * w)
    rr, cc = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    pos = torch.stack([rr.reshape(-1), cc.reshape(-1)], 1).double()
    u = pseudo_coords.cartesian(pos, ei)  # (row, column) offset of the neighbour
    monet = GMMConv(cin, cout, dim=2, kernel_size=9, aggr="sum", root_weight=False).double()
    offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
    with torch.no_grad():
        monet.mu.copy_(torch.tensor(offsets, dtype=torch.float64))
        monet.sigma.fill_(0.01)  # exp(-0.5 / 1e-4) = 0 in float64: exactly one-hot
        theta = torch.stack([conv2d.weight[:, :, 1 + dr, 1 + dc].T for dr, dc in offsets], 1)
        monet.g.copy_(theta.reshape(cin, 9 * cout))
        monet.bias.copy_(conv2d.bias)
    x = img[0].reshape(cin, -1).T
    out = monet(x, ei, u).T.reshape(1, cout, h, w)
    assert torch.allclose(out, conv2d(img), atol=1e-12)


def test_pseudo_coordinates():
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    ei = torch.tensor([[1, 2], [0, 0]])
    assert pseudo_coords.cartesian(pos, ei).tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert pseudo_coords.cartesian(pos, ei, normalize=True).tolist() == [[0.75, 0.5], [0.5, 1.0]]
    p = pseudo_coords.polar(pos, ei)
    assert torch.allclose(p, torch.tensor([[0.5, 0.0], [1.0, 0.25]]))
    d = pseudo_coords.degree(torch.tensor([[1, 2, 0], [0, 0, 1]]), 3)
    assert torch.allclose(d[0], torch.tensor([2 ** -0.5, 1.0]))
    with pytest.raises(ValueError, match="polar"):
        pseudo_coords.polar(torch.rand(3, 3), ei)


def test_gmm_conv_properties():
    g = torch.Generator().manual_seed(2)
    ei = torch.randint(0, 12, (2, 40), generator=g)
    x, u = torch.randn(12, 4, generator=g), torch.rand(40, 2, generator=g)
    conv = GMMConv(4, 3, dim=2, kernel_size=4)
    assert conv(x, ei, u).shape == (12, 3)
    assert_permutation_equivariant(conv, x, ei, edge_attr=u)
    graphs = two_graphs(g, channels=4, edge_dim=2)
    assert_batch_consistent(lambda d: conv(d.x, d.edge_index, d.edge_attr), graphs)
    assert_gradcheck(lambda x, u: conv.double()(x, ei, u), x, u)
    with pytest.raises(ValueError, match="pseudo"):  # conv is float64 now
        conv(x.double(), ei, torch.rand(5, 2, dtype=torch.float64))
