"""Every graph layer runs where its input lives: moved with ``.to(device)``
(CUDA when present, else the CPU), it gives the CPU result on that device."""
from __future__ import annotations

import copy

import pytest
import torch

from tests.nn.layer_cases import graph, layer_cases

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", list(layer_cases()))
def test_layer_runs_on_the_inputs_device(name):
    layer, args = layer_cases()[name]
    ei, x, w, ea = graph()
    ref = layer(*args(x, ei, w, ea))
    moved = copy.deepcopy(layer).to(DEVICE)
    inputs = [t.to(DEVICE) for t in (x, ei, w, ea)]
    out = moved(*args(*inputs))
    assert out.device.type == DEVICE.type
    assert torch.allclose(out.cpu(), ref, atol=1e-5)
    # and backward runs there too
    out.square().sum().backward()
    assert all(p.grad is None or p.grad.device.type == DEVICE.type for p in moved.parameters())


def test_dynamic_edge_conv_and_bipartite_forms_on_device():
    from geodl.nn.conv import DynamicEdgeConv, SAGEConv
    torch.manual_seed(0)
    x, batch = torch.randn(20, 3), torch.tensor([0] * 10 + [1] * 10)
    conv = DynamicEdgeConv(torch.nn.Linear(6, 4), k=3)
    ref = conv(x, batch)
    out = copy.deepcopy(conv).to(DEVICE)(x.to(DEVICE), batch.to(DEVICE))
    assert out.device.type == DEVICE.type and torch.allclose(out.cpu(), ref, atol=1e-5)
    sage = SAGEConv((3, 2), 4)
    xs, xt, ei = torch.randn(6, 3), torch.randn(2, 2), torch.tensor([[0, 5, 3], [0, 1, 1]])
    adj = torch.sparse_coo_tensor(ei.flip(0), torch.ones(3), (2, 6)).to_sparse_csr()
    ref = sage((xs, xt), adj)
    out = copy.deepcopy(sage).to(DEVICE)((xs.to(DEVICE), xt.to(DEVICE)), adj.to(DEVICE))
    assert out.device.type == DEVICE.type and torch.allclose(out.cpu(), ref, atol=1e-5)
