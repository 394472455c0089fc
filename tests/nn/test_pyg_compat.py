"""geodl's graph layers as PyG drop-ins: every input form and argument PyG
code uses, against PyG's own layer loaded with the same state dict.

Forms: ``edge_index``; a torch sparse ``adj_t`` (CSR, CSC-transposed and COO,
as ``T.ToSparseTensor`` / ``to_torch_csc_tensor(...).t()`` give); bipartite
``(x_src, x_dst)`` and ``(x_src, None)`` with ``size``; tuple
``in_channels``; lazy ``in_channels=-1``; 3-D ``(B, N, F)`` features; PyG's
``aggr='add'`` spelling; and the reprs.
"""
from __future__ import annotations

import pytest
import torch
import torch_geometric.nn as pyg
from torch_geometric.utils import to_torch_coo_tensor, to_torch_csc_tensor, to_torch_csr_tensor

import geodl.nn.conv as ours
from tests.helpers import mlp as _mlp

ATOL = 1e-5


def _graph(n_src=9, n_dst=None, e=30, seed=0):
    """E distinct random edges (a sparse adjacency cannot hold duplicates), two
    of them self-loops (1 -> 1, 3 -> 3), in random order."""
    g = torch.Generator().manual_seed(seed)
    n_dst = n_src if n_dst is None else n_dst
    pairs = torch.randperm(n_src * n_dst, generator=g)
    src, dst = pairs // n_dst, pairs % n_dst
    other = src != dst
    ei = torch.stack([src[other][:e - 2], dst[other][:e - 2]])
    ei = torch.cat([ei, torch.tensor([[1, 3], [1, 3]])], 1)
    return ei[:, torch.randperm(e, generator=g)], g


def _same(a, b, atol=ATOL):
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, atol=atol), (a - b).abs().max()


def _pair(make_theirs, make_ours, materialize=None):
    """PyG layer, then ours with its state dict (lazy layers materialised by a call)."""
    torch.manual_seed(0)
    theirs, mine = make_theirs(), make_ours()
    if materialize is not None:
        with torch.no_grad():
            theirs(*materialize)
            mine(*materialize)
    mine.load_state_dict(theirs.state_dict())
    return theirs, mine


def _adj_forms(ei, size, values=None):
    """adj_t (N_dst, N_src) in the layouts PyG users pass."""
    n_src, n_dst = size
    csc = to_torch_csc_tensor(ei, values, size=(n_src, n_dst)).t()      # -> CSR layout
    coo = to_torch_coo_tensor(ei, values, size=(n_src, n_dst)).transpose(0, 1).coalesce()
    csr = to_torch_csr_tensor(ei.flip(0), values, size=(n_dst, n_src))
    return {"csc.t()": csc, "coo.t()": coo, "csr": csr}


# ---------------------------------------------------------------- GCN / Cheb

@pytest.mark.parametrize("kw", [{}, {"improved": True}, {"add_self_loops": False},
                                {"normalize": False}, {"cached": True}, {"bias": False}])
def test_gcn(kw):
    ei, g = _graph()
    x, w = torch.randn(9, 5, generator=g), torch.rand(ei.shape[1], generator=g)
    theirs, mine = _pair(lambda: pyg.GCNConv(5, 4, **kw), lambda: ours.GCNConv(5, 4, **kw))
    assert repr(mine) == repr(theirs)
    for weight in ((w,) if kw.get("cached") else (None, w)):
        # PyG ignores `improved` when edge_weight is None (its loops then get
        # weight 1); geodl gives them 2 as documented = PyG with unit weights
        ref_w = torch.ones_like(w) if weight is None and kw.get("improved") else weight
        _same(mine(x, ei, weight), theirs(x, ei, ref_w))
    if not kw.get("cached"):
        # (PyG's own sparse path adds loops on top of existing ones: compare
        # with its edge_index result, the documented semantics)
        for name, adj in _adj_forms(ei, (9, 9), w).items():
            _same(mine(x, adj), theirs(x, ei, w))
        xs = torch.randn(3, 9, 5, generator=g)  # one graph, three feature sets
        _same(mine(xs, ei, w), theirs(xs, ei, w))


def test_gcn_lazy_and_flow():
    ei, g = _graph()
    x = torch.randn(9, 5, generator=g)
    theirs, mine = _pair(lambda: pyg.GCNConv(-1, 4), lambda: ours.GCNConv(-1, 4), (x, ei))
    _same(mine(x, ei), theirs(x, ei))
    t2, m2 = _pair(lambda: pyg.GCNConv(5, 4, flow="target_to_source"),
                   lambda: ours.GCNConv(5, 4, flow="target_to_source"))
    _same(m2(x, ei), t2(x, ei))
    with pytest.raises(ValueError, match="self-loops"):
        ours.GCNConv(5, 4, normalize=False, add_self_loops=True)


@pytest.mark.parametrize("normalization", [None, "sym", "rw"])
def test_cheb(normalization):
    ei, g = _graph()
    x, w = torch.randn(9, 5, generator=g), torch.rand(ei.shape[1], generator=g)
    theirs, mine = _pair(lambda: pyg.ChebConv(5, 4, K=3, normalization=normalization),
                         lambda: ours.ChebConv(5, 4, K=3, normalization=normalization))
    assert repr(mine) == repr(theirs)
    for weight in (None, w):
        _same(mine(x, ei, weight, lambda_max=2.0), theirs(x, ei, weight, lambda_max=2.0))
    for adj in _adj_forms(ei, (9, 9), w).values():
        _same(mine(x, adj, lambda_max=2.0), theirs(x, ei, w, lambda_max=2.0))
    batch = torch.tensor([0] * 5 + [1] * 4)
    ei_b = ei[:, (ei < 5).all(0) | (ei >= 5).all(0)]  # keep edges within each graph
    lam = torch.tensor([1.5, 2.5])
    _same(mine(x, ei_b, None, batch, lam), theirs(x, ei_b, None, batch, lam))


# ---------------------------------------------------------------- GAT

@pytest.mark.parametrize("kw", [{}, {"concat": False, "heads": 3}, {"add_self_loops": False},
                                {"residual": True}, {"edge_dim": 3},
                                {"edge_dim": 3, "fill_value": 0.5},
                                {"edge_dim": 3, "fill_value": "add"},
                                {"edge_dim": 1, "fill_value": "mean"}])
def test_gat(kw):
    kw = {"heads": 2, **kw}
    ei, g = _graph()
    x = torch.randn(9, 5, generator=g)
    ea = torch.randn(ei.shape[1], kw.get("edge_dim", 3), generator=g)
    if kw.get("edge_dim") == 1:
        ea = ea[:, 0]
    theirs, mine = _pair(lambda: pyg.GATConv(5, 4, **kw), lambda: ours.GATConv(5, 4, **kw))
    assert repr(mine) == repr(theirs)
    attr = ea if "edge_dim" in kw else None
    _same(mine(x, ei, attr), theirs(x, ei, attr))
    _same(mine(x, ei, attr, size=(9, 9)), theirs(x, ei, attr))
    (e1, a1), (e2, a2) = (mine(x, ei, attr, return_attention_weights=True)[1],
                          theirs(x, ei, attr, return_attention_weights=True)[1])
    # the same attention on the same edges (order may differ)
    key = lambda e: e[0] * 100 + e[1]
    o1, o2 = key(e1).argsort(), key(e2).argsort()
    assert torch.equal(e1[:, o1], e2[:, o2])
    _same(a1[o1], a2[o2])
    if "edge_dim" not in kw:
        for adj in _adj_forms(ei, (9, 9)).values():
            _same(mine(x, adj), theirs(x, ei))


@pytest.mark.parametrize("residual", [False, True])
def test_gat_bipartite(residual):
    ei, g = _graph(9, 4)
    xs, xt = torch.randn(9, 5, generator=g), torch.randn(4, 6, generator=g)
    theirs, mine = _pair(lambda: pyg.GATConv((5, 6), 4, heads=2, residual=residual),
                         lambda: ours.GATConv((5, 6), 4, heads=2, residual=residual))
    assert repr(mine) == repr(theirs)
    _same(mine((xs, xt), ei), theirs((xs, xt), ei))
    _same(mine((xs, None), ei, size=(9, 4)), theirs((xs, None), ei, size=(9, 4)))
    adj = _adj_forms(ei, (9, 4))["csc.t()"]
    _same(mine((xs, xt), adj), theirs((xs, xt), ei))
    _same(mine((xs, None), adj), theirs((xs, None), ei, size=(9, 4)))


def test_gat_lazy():
    ei, g = _graph()
    x = torch.randn(9, 5, generator=g)
    theirs, mine = _pair(lambda: pyg.GATConv(-1, 4, heads=2), lambda: ours.GATConv(-1, 4, heads=2),
                         (x, ei))
    _same(mine(x, ei), theirs(x, ei))


# ---------------------------------------------------------------- GIN / GINE / SAGE

def test_gin_and_gine():
    ei, g = _graph(9, 4)
    xs, xt = torch.randn(9, 5, generator=g), torch.randn(4, 5, generator=g)
    ea = torch.randn(ei.shape[1], 5, generator=g)
    for t_cls, o_cls, extra, kw in [(pyg.GINConv, ours.GINConv, (), {}),
                                    (pyg.GINEConv, ours.GINEConv, (ea,), {}),
                                    (pyg.GINEConv, ours.GINEConv, (ea[:, :2],), {"edge_dim": 2})]:
        theirs, mine = _pair(lambda: t_cls(_mlp(5, 3), train_eps=True, eps=0.3, **kw),
                             lambda: o_cls(_mlp(5, 3), train_eps=True, eps=0.3, **kw))
        assert repr(mine) == repr(theirs)
        _same(mine((xs, xt), ei, *extra), theirs((xs, xt), ei, *extra))
        _same(mine((xs, None), ei, *extra, size=(9, 4)), theirs((xs, None), ei, *extra, size=(9, 4)))
        ei_sq, _ = _graph(9)
        x3 = torch.randn(2, 9, 5, generator=g)
        _same(mine(x3, ei_sq, *extra), theirs(x3, ei_sq, *extra))
    gin_t, gin_o = _pair(lambda: pyg.GINConv(_mlp(5, 3)), lambda: ours.GINConv(_mlp(5, 3)))
    adj = _adj_forms(ei, (9, 4))["coo.t()"]
    _same(gin_o((xs, xt), adj), gin_t((xs, xt), ei))


@pytest.mark.parametrize("kw", [{"aggr": "mean"}, {"aggr": "sum"}, {"aggr": "add"},
                                {"aggr": "max"}, {"aggr": "min"}, {"project": True},
                                {"normalize": True}, {"root_weight": False}, {"bias": False},
                                {"aggr": "lstm"}, {"aggr": ["mean", "max"]}])
def test_sage(kw):
    ei, g = _graph(9, 4)
    ei = ei[:, ei[1].argsort(stable=True)]  # LSTM aggregation needs sorted targets
    xs, xt = torch.randn(9, 5, generator=g), torch.randn(4, 6, generator=g)
    theirs, mine = _pair(lambda: pyg.SAGEConv((5, 6), 3, **kw), lambda: ours.SAGEConv((5, 6), 3, **kw))
    assert repr(mine) == repr(theirs)
    _same(mine((xs, xt), ei), theirs((xs, xt), ei))
    _same(mine((xs, None), ei, size=(9, 4)), theirs((xs, None), ei, size=(9, 4)))
    if not isinstance(kw.get("aggr"), list) and kw.get("aggr") != "lstm":
        adj = _adj_forms(ei, (9, 4))["csc.t()"]
        _same(mine((xs, xt), adj), theirs((xs, xt), ei))
    sq, _ = _graph(9)
    sq = sq[:, sq[1].argsort(stable=True)]
    t2, m2 = _pair(lambda: pyg.SAGEConv(5, 3, **kw), lambda: ours.SAGEConv(5, 3, **kw))
    x = torch.randn(9, 5, generator=g)
    _same(m2(x, sq), t2(x, sq))
    if kw.get("aggr") in ("mean", "sum"):
        x3 = torch.randn(2, 9, 5, generator=g)
        _same(m2(x3, sq), t2(x3, sq))


def test_sage_lazy():
    ei, g = _graph()
    x = torch.randn(9, 5, generator=g)
    theirs, mine = _pair(lambda: pyg.SAGEConv(-1, 4), lambda: ours.SAGEConv(-1, 4), (x, ei))
    _same(mine(x, ei), theirs(x, ei))
    with pytest.raises(ValueError, match="lazy"):
        ours.SAGEConv(-1, 4, project=True)


# ---------------------------------------------------------------- EdgeConv / NNConv / FeaSt / GMM

@pytest.mark.parametrize("aggr", ["max", "mean", "add"])
def test_edge_conv(aggr):
    ei, g = _graph(9, 4)
    xs, xt = torch.randn(9, 5, generator=g), torch.randn(4, 5, generator=g)
    theirs, mine = _pair(lambda: pyg.EdgeConv(_mlp(10, 3), aggr=aggr),
                         lambda: ours.EdgeConv(_mlp(10, 3), aggr=aggr))
    assert repr(mine) == repr(theirs)
    _same(mine((xs, xt), ei), theirs((xs, xt), ei))
    for adj in _adj_forms(ei, (9, 4)).values():
        _same(mine((xs, xt), adj), theirs((xs, xt), ei))
    sq, _ = _graph(9)
    _same(mine(xs, sq), theirs(xs, sq))


@pytest.mark.parametrize("aggr", ["add", "mean", "max"])
def test_nn_conv(aggr):
    ei, g = _graph(9, 4)
    xs, xt = torch.randn(9, 5, generator=g), torch.randn(4, 6, generator=g)
    ea = torch.rand(ei.shape[1], 3, generator=g)
    theirs, mine = _pair(lambda: pyg.NNConv((5, 6), 4, _mlp(3, 20), aggr=aggr),
                         lambda: ours.NNConv((5, 6), 4, _mlp(3, 20), aggr=aggr))
    assert repr(mine) == repr(theirs)
    assert ours.EdgeConditionedConv is ours.NNConv
    _same(mine((xs, xt), ei, ea), theirs((xs, xt), ei, ea))
    _same(mine((xs, None), ei, ea, size=(9, 4)), theirs((xs, None), ei, ea, size=(9, 4)))
    adj = to_torch_coo_tensor(ei, ea, size=(9, 4)).transpose(0, 1).coalesce()
    _same(mine((xs, xt), adj), theirs((xs, xt), adj))


def test_feast_conv():
    ei, g = _graph(9, 4)
    xs, xt = torch.randn(9, 5, generator=g), torch.randn(4, 5, generator=g)
    theirs, mine = _pair(lambda: pyg.FeaStConv(5, 4, heads=3), lambda: ours.FeaStConv(5, 4, heads=3))
    assert repr(mine) == repr(theirs)
    _same(mine((xs, xt), ei), theirs((xs, xt), ei))
    for adj in _adj_forms(ei, (9, 4)).values():
        _same(mine((xs, xt), adj), theirs((xs, xt), ei))
    sq, _ = _graph(9)
    _same(mine(xs, sq), theirs(xs, sq))


@pytest.mark.parametrize("separate", [False, True])
@pytest.mark.parametrize("aggr", ["mean", "add"])
def test_gmm_conv(separate, aggr):
    ei, g = _graph(9, 4)
    xs, xt = torch.randn(9, 5, generator=g), torch.randn(4, 6, generator=g)
    u = torch.rand(ei.shape[1], 2, generator=g)
    theirs, mine = _pair(
        lambda: pyg.GMMConv((5, 6), 4, dim=2, kernel_size=3, separate_gaussians=separate, aggr=aggr),
        lambda: ours.GMMConv((5, 6), 4, dim=2, kernel_size=3, separate_gaussians=separate, aggr=aggr))
    assert repr(mine) == repr(theirs)
    _same(mine((xs, xt), ei, u), theirs((xs, xt), ei, u))
    _same(mine((xs, None), ei, u, size=(9, 4)), theirs((xs, None), ei, u, size=(9, 4)))
    adj = to_torch_coo_tensor(ei, u, size=(9, 4)).transpose(0, 1).coalesce()
    _same(mine((xs, xt), adj), theirs((xs, xt), adj))
    # lazy
    t2, m2 = _pair(lambda: pyg.GMMConv(-1, 4, dim=2, kernel_size=3, separate_gaussians=separate),
                   lambda: ours.GMMConv(-1, 4, dim=2, kernel_size=3, separate_gaussians=separate),
                   (xs, _graph(9)[0], torch.rand(30, 2, generator=g)))
    sq = _graph(9)[0]
    u2 = torch.rand(30, 2, generator=g)
    _same(m2(xs, sq, u2), t2(xs, sq, u2))


# ---------------------------------------------------------------- fuzzing

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _multigraphs(draw):
    """Random directed multigraphs: duplicate edges, repeated self-loops,
    isolated nodes, sometimes no edges at all."""
    n = draw(st.integers(1, 8))
    e = draw(st.integers(0, 20))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          min_size=e, max_size=e))
    ei = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).T.contiguous()
    w = torch.tensor(draw(st.lists(st.floats(0.1, 3.0), min_size=e, max_size=e)),
                     dtype=torch.float32)
    return n, ei, w


@settings(max_examples=40, deadline=None)
@given(_multigraphs(), st.integers(0, 2**16))
def test_fuzz_against_pyg_on_multigraphs(graph, seed):
    n, ei, w = graph
    torch.manual_seed(seed)
    x = torch.randn(n, 4)
    for make_t, make_o, extra in [
            (lambda: pyg.GCNConv(4, 3), lambda: ours.GCNConv(4, 3), (w,)),
            (lambda: pyg.ChebConv(4, 3, K=3), lambda: ours.ChebConv(4, 3, K=3), (w,)),
            (lambda: pyg.GATConv(4, 3, heads=2), lambda: ours.GATConv(4, 3, heads=2), ()),
            (lambda: pyg.SAGEConv(4, 3), lambda: ours.SAGEConv(4, 3), ()),
            (lambda: pyg.FeaStConv(4, 3, heads=2), lambda: ours.FeaStConv(4, 3, heads=2), ()),
            (lambda: pyg.GINConv(torch.nn.Linear(4, 3)), lambda: ours.GINConv(torch.nn.Linear(4, 3)),
             ())]:
        theirs, mine = _pair(make_t, make_o)
        _same(mine(x, ei, *extra), theirs(x, ei, *extra))
