"""torch.compile of every graph layer on a fixed graph: no graph break from
geodl's code (counted with ``torch._dynamo.explain``) and eager's outputs."""
from __future__ import annotations

import pytest
import torch

from tests.nn.layer_cases import graph, layer_cases


@pytest.mark.parametrize("name", list(layer_cases()))
def test_layer_compiles_without_graph_breaks(name):
    import torch._dynamo as dynamo

    layer, args = layer_cases()[name]
    ei, x, w, ea = graph()
    dynamo.reset()
    explanation = dynamo.explain(layer)(*args(x, ei, w, ea))
    assert explanation.graph_break_count == 0, explanation.break_reasons
    # the traced graph (gather + index_add in place of the CSR product) runs
    # and gives eager's output and gradients
    eager = layer(*args(x, ei, w, ea))
    compiled = torch.compile(layer, backend="aot_eager", fullgraph=True)
    out = compiled(*args(x, ei, w, ea))
    assert torch.allclose(out, eager, atol=1e-5)
    g_eager = torch.autograd.grad(eager.square().sum(), list(layer.parameters()), allow_unused=True)
    g_comp = torch.autograd.grad(out.square().sum(), list(layer.parameters()), allow_unused=True)
    for a, b in zip(g_eager, g_comp):
        assert (a is None) == (b is None)
        if a is not None:
            assert torch.allclose(a, b, atol=1e-4)


@pytest.mark.slow
def test_gcn_and_gat_compile_with_inductor():
    import geodl.nn.conv as C

    ei, x, w, ea = graph()
    for layer, args in [(C.GCNConv(6, 4), (x, ei, w)), (C.GATConv(6, 4, heads=2), (x, ei))]:
        torch._dynamo.reset()
        assert torch.allclose(torch.compile(layer)(*args), layer(*args), atol=1e-5)
