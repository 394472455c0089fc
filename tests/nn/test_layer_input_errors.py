"""Careless inputs to the layers get one clear ValueError naming the argument,
never a failure deep inside torch nor a silent NaN; and the public
normalisations (``gcn_norm``, ``cheb_norm``) equal PyG's."""
from __future__ import annotations

import pytest
import torch
import torch_geometric.nn as pyg
from torch_geometric.nn.conv.gcn_conv import gcn_norm as pyg_gcn_norm

import geodl.nn.conv as C
from geodl.nn.conv.gcn_conv import gcn_norm
from geodl.nn.conv.laplacian import cheb_norm
from tests.nn.layer_cases import graph, layer_cases


@pytest.mark.parametrize("name", list(layer_cases()))
@pytest.mark.parametrize("dtype", [torch.float64, torch.long])
def test_features_of_another_dtype_name_both_dtypes(name, dtype):
    layer, args = layer_cases()[name]
    ei, x, w, ea = graph()
    with pytest.raises(ValueError, match=rf"x: dtype {dtype} does not match {type(layer).__name__}"
                                         rf"'s parameters \(torch.float32\)"):
        layer(*args(x.to(dtype), ei, w, ea))
    # the layer converted to float64 takes float64 features
    assert layer.double()(*args(x.double(), ei, w.double(), ea.double())).dtype == torch.float64


def test_mesh_layers_name_the_dtypes_too():
    from geodl.ops import spiral_indices
    verts = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    faces = torch.tensor([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])
    conv = C.SpiralConv(3, 2, spiral_indices(faces, 4, 4))
    with pytest.raises(ValueError, match=r"x: dtype torch.float64 does not match SpiralConv"):
        conv(verts.double())
    spec = C.SpectralConv(3, 2)
    with pytest.raises(ValueError, match=r"x: dtype torch.int64 does not match SpectralConv"):
        spec(torch.ones(4, 3, dtype=torch.long), torch.randn(4, 2), torch.rand(2))


def test_diffusion_net_names_the_dtypes():
    from geodl.nn import DiffusionOperators
    from geodl.nn.models import DiffusionNet
    from geodl.structures import Mesh
    m = Mesh.icosphere(1)
    ops = DiffusionOperators.from_mesh(m, k=8)
    x = torch.randn(m.verts.shape[0], 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"x: dtype torch.float64 does not match DiffusionNet"):
        DiffusionNet(3, 2, width=4, n_blocks=1)(x, ops)
    with pytest.raises(ValueError, match=r"x: dtype torch.float64 does not match DiffusionBlock"):
        C.DiffusionBlock(3)(x, ops)


def test_edge_features_in_float64_are_taken_in_the_layers_dtype():
    ei, x, w, ea = graph()
    for layer in (C.GINEConv(torch.nn.Linear(6, 4), edge_dim=3), C.NNConv(6, 4, torch.nn.Linear(3, 24))):
        assert torch.allclose(layer(x, ei, ea.double()), layer(x, ei, ea))
    with pytest.raises(ValueError, match="edge_attr: expected floating edge features"):
        C.NNConv(6, 4, torch.nn.Linear(3, 24))(x, ei, ea.long())


def test_wrong_channel_counts_of_gin_and_edge_conv():
    ei, x, _, _ = graph()  # 6 features
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4))
    with pytest.raises(ValueError, match=r"x: expected shape \(N, 8\) or \(B, N, 8\), got \(10, 6\)"):
        C.GINConv(mlp)(x, ei)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, 8\) or \(B, N, 8\), got \(10, 6\)"):
        C.GINEConv(mlp)(x, ei, torch.rand(ei.shape[1], 8))
    with pytest.raises(ValueError, match=r"x: expected shape \(N, 4\), got \(10, 6\)"):
        C.EdgeConv(mlp)(x, ei)  # nn takes [x_i, x_j - x_i]: 8 = 2 x 4
    with pytest.raises(ValueError, match="even number"):
        C.EdgeConv(torch.nn.Linear(7, 3))(x, ei)
    with pytest.raises(ValueError, match="source and target features differ"):
        C.EdgeConv(torch.nn.Sequential(torch.nn.ReLU()))((x, x[:, :5]), ei)


@pytest.mark.parametrize("make", [
    lambda c: C.GCNConv(3, c), lambda c: C.ChebConv(3, c, K=2), lambda c: C.GATConv(3, c),
    lambda c: C.SAGEConv(3, c), lambda c: C.NNConv(3, c, torch.nn.Linear(2, 3)),
    lambda c: C.GMMConv(3, c, dim=2, kernel_size=2), lambda c: C.FeaStConv(3, c),
    lambda c: C.CayleyConv(3, c), lambda c: C.SpectralConv(3, c),
    lambda c: C.GeodesicConv(3, c), lambda c: C.SpiralConv(3, c, torch.zeros(2, 2, dtype=torch.long))])
@pytest.mark.parametrize("bad", [-3, 0])
def test_non_positive_out_channels(make, bad):
    with pytest.raises(ValueError, match=rf"out_channels: expected a positive int, got {bad}"):
        make(bad)


def test_nnconv_network_of_the_wrong_output_size():
    ei, x, _, ea = graph()
    conv = C.NNConv(6, 4, torch.nn.Linear(3, 20))  # needs 6 * 4 = 24 outputs
    with pytest.raises(ValueError, match=r"nn: .* F_in \* F_out = 6 \* 4 = 24 values, got shape "
                                         r"\(30, 20\)"):
        conv(x, ei, ea)


def test_spiral_indices_out_of_range():
    for bad in (torch.tensor([[0, 1], [1, 5], [2, 0]]), torch.tensor([[0, 1], [1, -2], [2, 0]])):
        with pytest.raises(ValueError, match=r"indices: expected vertex indices in \[0, 3\)"):
            C.SpiralConv(2, 2, bad)
    with pytest.raises(ValueError, match="indices: expected integer"):
        C.SpiralConv(2, 2, torch.zeros(3, 2))
    conv = C.SpiralConv(2, 2, torch.tensor([[0, 1], [1, -1], [2, 0]]))  # -1 pads
    with pytest.raises(ValueError, match=r"x: expected shape \(3, 2\) or \(B, 3, 2\), got \(4, 2\)"):
        conv(torch.randn(4, 2))


@pytest.mark.parametrize("layer", [C.GCNConv(3, 2, cached=True), C.ChebConv(3, 2, K=2, cached=True)])
def test_cached_layer_refuses_a_graph_of_another_size(layer):
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    layer(torch.randn(3, 3), ei)
    assert layer(torch.randn(3, 3), ei).shape == (3, 2)  # the same graph: fine
    with pytest.raises(ValueError, match=r"cached=True\) keeps the .* \(3 nodes\), got 5 nodes"):
        layer(torch.randn(5, 3), torch.tensor([[0, 1, 4], [1, 4, 0]]))


def test_lambda_max_too_short_for_the_batch():
    ei = torch.tensor([[0, 1, 2, 3, 4, 5], [1, 0, 3, 2, 5, 4]])
    batch = torch.tensor([0, 0, 1, 1, 2, 2])
    conv = C.ChebConv(2, 2, K=2)
    x = torch.randn(6, 2)
    with pytest.raises(ValueError, match=r"lambda_max: expected one value per graph of the batch "
                                         r"\(3 graphs\), got 2"):
        conv(x, ei, batch=batch, lambda_max=torch.tensor([2.0, 2.0]))
    with pytest.raises(ValueError, match=r"batch: expected shape \(6,\)"):
        conv(x, ei, batch=batch[:4], lambda_max=torch.tensor([2.0, 2.0, 2.0]))
    assert torch.isfinite(conv(x, ei, batch=batch, lambda_max=torch.tensor([2.0, 1.5, 2.0]))).all()


@pytest.mark.parametrize("edges", [[[], []], [[0, 2], [0, 2]]])
def test_cheb_without_normalisation_on_a_graph_without_edges(edges):
    """L = 0 there: every positive lambda_max gives L_hat = -I; PyG (which asks
    for lambda_max here) gives the same answer with any value passed."""
    ei = torch.tensor(edges, dtype=torch.long).reshape(2, -1)
    x = torch.randn(4, 3)
    ours = C.ChebConv(3, 2, K=3, normalization=None)
    theirs = pyg.ChebConv(3, 2, K=3, normalization=None)
    theirs.load_state_dict(ours.state_dict())
    out = ours(x, ei)
    assert torch.isfinite(out).all()
    assert torch.allclose(out, theirs(x, ei, lambda_max=1.0), atol=1e-6)


def test_gcn_flow_target_to_source_refuses_a_sparse_adjacency():
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    adj = torch.sparse_coo_tensor(ei.flip(0), torch.ones(3), (3, 3))
    conv = C.GCNConv(2, 2, flow="target_to_source")
    with pytest.raises(ValueError, match=r"flow: 'target_to_source' is invalid with a sparse "
                                         r"adjacency; use the default flow with the transposed adjacency"):
        conv(torch.randn(3, 2), adj)
    x = torch.randn(3, 2)
    forward = C.GCNConv(2, 2)
    forward.load_state_dict(conv.state_dict())
    assert torch.allclose(conv(x, ei), forward(x, ei.flip(0)), atol=1e-6)
    assert torch.allclose(forward(x, adj.t().coalesce()), conv(x, ei), atol=1e-6)


@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
@pytest.mark.parametrize("improved", [False, True])
def test_gcn_norm_equals_pygs(flow, improved):
    ei = torch.tensor([[0, 1, 2, 2, 3, 1, 4, 4], [1, 2, 0, 1, 1, 1, 0, 4]])
    w = torch.rand(8, dtype=torch.float64)
    a = gcn_norm(ei, w, 6, improved, True, flow)
    b = pyg_gcn_norm(ei, w, 6, improved, True, flow, None)
    assert torch.equal(a[0], b[0]) and torch.allclose(a[1], b[1])


def test_gcn_decomposed_layers_and_hooks_give_the_csr_answer():
    ei, x, w, _ = graph()
    conv = C.GCNConv(6, 4)
    ref = conv(x, ei, w)
    seen = []
    handle = conv.register_message_forward_pre_hook(lambda m, inp: seen.append(inp[0]["x_j"].shape))
    conv.decomposed_layers = 2
    assert torch.allclose(conv(x, ei, w), ref, atol=1e-6)
    entries = int((ei[0] != ei[1]).sum()) + 10  # input self-loops replaced by one per node
    assert seen == [(entries, 2), (entries, 2)]  # 4 channels in 2 chunks
    handle.remove()
    conv.decomposed_layers = 1
    assert torch.allclose(conv(x, ei, w), ref, atol=1e-6) and len(seen) == 2  # the CSR path


def test_cheb_norm_is_the_operator_chebconv_applies():
    ei, x, w, _ = graph()
    conv = C.ChebConv(6, 4, K=2, normalization="rw")
    idx, val = cheb_norm(ei, w, 10, "rw", lambda_max=1.5)
    lhat = torch.zeros(10, 10).index_put_((idx[1], idx[0]), val, accumulate=True)
    expect = conv.lins[0](x) + conv.lins[1](lhat @ x) + conv.bias
    assert torch.allclose(conv(x, ei, w, lambda_max=1.5), expect, atol=1e-5)
