"""kNN and radius graphs equal scipy cKDTree exactly, on both back-ends."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial import cKDTree

from geodl import ops


def _clouds():
    g = torch.Generator().manual_seed(0)
    uniform = torch.rand(6000, 3, generator=g, dtype=torch.float64)
    sphere = torch.randn(6000, 3, generator=g, dtype=torch.float64)
    sphere = sphere / sphere.norm(dim=1, keepdim=True)  # a surface: anisotropic density
    clusters = torch.cat([0.01 * torch.randn(3000, 3, generator=g, dtype=torch.float64),
                          5 + torch.randn(3000, 3, generator=g, dtype=torch.float64)])
    plane = torch.rand(6000, 3, generator=g, dtype=torch.float64) * torch.tensor(
        [1.0, 1.0, 0.0], dtype=torch.float64)  # flat: zero extent along z
    return {"uniform": uniform, "sphere": sphere, "clusters": clusters, "plane": plane}


CLOUDS = _clouds()


def _neighbour_sets(edge_index, n, k):
    nbr, centre = edge_index
    assert torch.equal(centre, torch.arange(n).repeat_interleave(k))
    return np.sort(nbr.numpy().reshape(n, k), 1)


@pytest.mark.parametrize("name", list(CLOUDS))
@pytest.mark.parametrize("k", [1, 16])
def test_knn_graph_equals_ckdtree(name, k):
    x = CLOUDS[name]
    n = x.shape[0]
    ei = ops.knn_graph(x, k)  # N > 4096: the grid back-end
    d, i = cKDTree(x.numpy()).query(x.numpy(), k + 1)
    ours = _neighbour_sets(ei, n, k)
    ref = np.sort(i[:, 1:], 1)
    # cKDTree breaks distance ties arbitrarily; compare distances where sets differ
    same = (ours == ref).all(1)
    assert same.mean() > 0.999
    xs = x.numpy()
    for row in np.nonzero(~same)[0]:
        dd = np.sort(np.linalg.norm(xs[ours[row]] - xs[row], axis=1))
        assert np.allclose(dd, d[row, 1:], atol=1e-12)


def test_knn_graph_brute_and_grid_agree_in_high_dim_and_batches():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(500, 16, generator=g)  # D > 3: brute force
    ei = ops.knn_graph(x, 5)
    _, i = cKDTree(x.double().numpy()).query(x.double().numpy(), 6)
    assert (_neighbour_sets(ei, 500, 5) == np.sort(i[:, 1:], 1)).all()
    # batches never mix: equal to per-graph results offset by the graph start
    x3 = CLOUDS["uniform"][:5000]
    batch = torch.cat([torch.zeros(2000), torch.ones(3000)]).long()
    ei = ops.knn_graph(x3, 8, batch)
    assert (batch[ei[0]] == batch[ei[1]]).all()
    part = ops.knn_graph(x3[2000:], 8)
    mask = ei[1] >= 2000
    assert torch.equal(ei[:, mask] - 2000, part)


def test_knn_graph_flow_loop_and_small_graphs():
    x = torch.tensor([[0.0, 0, 0], [1, 0, 0], [3, 0, 0]])
    ei = ops.knn_graph(x, 1)
    # source -> target: row 0 is the neighbour, row 1 the centre
    assert ei.tolist() == [[1, 0, 1], [0, 1, 2]]
    assert ops.knn_graph(x, 1, flow="target_to_source").tolist() == [[0, 1, 2], [1, 0, 1]]
    assert ops.knn_graph(x, 1, loop=True).tolist() == [[0, 1, 2], [0, 1, 2]]
    # asking for more neighbours than a graph has returns all of them
    assert ops.knn_graph(x, 5).shape == (2, 6)


def test_knn_with_duplicate_points_excludes_self():
    x = torch.zeros(10, 3)
    ei = ops.knn_graph(x, 3)
    assert ei.shape == (2, 30) and (ei[0] != ei[1]).all()


@pytest.mark.parametrize("name", ["uniform", "sphere", "plane"])
def test_radius_graph_equals_ckdtree(name):
    x = CLOUDS[name]
    r = 0.06
    ei = ops.radius_graph(x, r)
    pairs = cKDTree(x.numpy()).query_pairs(r, output_type="ndarray")
    ref = set(map(tuple, pairs.tolist())) | set(map(tuple, pairs[:, ::-1].tolist()))
    ours = set(map(tuple, ei.T.tolist()))
    assert ours == ref
    # sorted by centre, then distance
    assert (ei[1][1:] >= ei[1][:-1]).all()


def test_radius_max_num_neighbors_keeps_nearest():
    x = torch.tensor([[0.0, 0, 0], [0.1, 0, 0], [0.3, 0, 0], [0.2, 0, 0]])
    ei = ops.radius_graph(x, 1.0, max_num_neighbors=2)
    assert ei[:, ei[1] == 0][0].tolist() == [1, 3]
    assert ops.radius_graph(x, 1.0, loop=True).shape == (2, 16)


def test_bad_arguments():
    x = torch.rand(10, 3)
    with pytest.raises(ValueError, match="k"):
        ops.knn_graph(x, 0)
    with pytest.raises(ValueError, match="r"):
        ops.radius_graph(x, -1.0)
    with pytest.raises(ValueError, match="NaN"):
        ops.knn_graph(torch.tensor([[0.0, float("nan"), 0]]), 1)
    with pytest.raises(ValueError, match="batch"):
        ops.knn_graph(x, 2, batch=torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="flow"):
        ops.knn_graph(x, 2, flow="sideways")


@given(arrays(np.float64, st.tuples(st.integers(2, 40), st.integers(1, 3)),
              elements=st.floats(-100, 100, allow_nan=False)),
       st.integers(1, 6))
def test_knn_fuzz_distances_match_ckdtree(x, k):
    x = np.round(x, 3)  # duplicates and ties happen
    n = x.shape[0]
    ei = ops.knn_graph(torch.from_numpy(x), k)
    kk = min(k, n - 1)
    d_ref, _ = cKDTree(x).query(x, kk + 1)
    d_ref = np.asarray(d_ref).reshape(n, -1)
    nbr = ei[0].numpy().reshape(n, kk)
    d = np.sort(np.linalg.norm(x[nbr] - x[:, None], axis=2), 1)
    # the multiset of distances is unique even when the neighbours are not;
    # with duplicates the point itself may be one of the zero-distance ones
    full = np.sort(np.linalg.norm(x[:, None] - x[None], axis=2), 1)
    assert np.allclose(d, np.delete(full, 0, axis=1)[:, :kk], atol=1e-9)


# ---------------------------------------------------------------- hardening
def _adversarial(n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Distributions a grid with one cell size handles badly, plus exact ties."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 3, generator=g, dtype=torch.float64)
    outlier = torch.cat([u[:-1], torch.tensor([[1e9, -1e9, 1e9]], dtype=torch.float64)])
    two_scales = torch.cat([1e-6 * u[: n // 2], 1.0 + u[n // 2:]])
    line = torch.rand(n, 1, generator=g, dtype=torch.float64) * torch.tensor(
        [[1.0, -2.0, 3.0]], dtype=torch.float64)
    sphere = torch.randn(n, 3, generator=g, dtype=torch.float64)
    sphere = sphere / sphere.norm(dim=1, keepdim=True)
    side = round(n ** (1 / 3)) + 1
    lattice = torch.stack(torch.meshgrid(*[torch.arange(side, dtype=torch.float64)] * 3,
                                         indexing="ij"), -1).reshape(-1, 3)[:n]
    dups = torch.cat([u[: n // 2], u[: n - n // 2]])  # every point twice: zero-distance ties
    return {"outlier": outlier, "two_scales": two_scales, "line": line, "sphere": sphere,
            "lattice": lattice, "duplicates": dups, "float32": u.float()}


def _reference_knn(x: np.ndarray, k: int, loop: bool) -> np.ndarray:
    """(N, k) neighbours by float64 brute force: distance, then index."""
    x = x.astype(np.float64)
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    if not loop:
        np.fill_diagonal(d, np.inf)
    n = len(x)
    idx = np.broadcast_to(np.arange(n), (n, n))
    order = np.lexsort((idx, d), axis=1)
    return order[:, :k]


ADV = _adversarial(2500)


@pytest.mark.parametrize("name", list(ADV))
@pytest.mark.parametrize("k,loop", [(1, False), (6, False), (16, True)])
def test_knn_graph_exact_on_adversarial_distributions(name, k, loop):
    """Identical edges (order included) to a float64 brute force, ties by index."""
    x = ADV[name]
    ei = ops.knn_graph(x, k, loop=loop)
    n = x.shape[0]
    ref = _reference_knn(x.numpy(), k, loop)
    assert torch.equal(ei[1], torch.arange(n).repeat_interleave(k))
    assert np.array_equal(ei[0].numpy().reshape(n, k), ref)


@pytest.mark.parametrize("name", ["outlier", "two_scales", "lattice", "duplicates"])
def test_radius_graph_exact_on_adversarial_distributions(name):
    x = ADV[name][:3000]
    xn = x.double().numpy()
    r = {"outlier": 0.1, "two_scales": 1e-7, "lattice": 1.0, "duplicates": 0.05}[name]
    d = ((xn[:, None] - xn[None]) ** 2).sum(-1)
    ok = d <= r * r
    np.fill_diagonal(ok, False)
    ei = ops.radius_graph(x, r)
    ours = set(zip(ei[1].tolist(), ei[0].tolist()))
    assert ours == set(zip(*np.nonzero(ok)))
    # sorted by centre, then distance, then index
    dd = d[ei[1].numpy(), ei[0].numpy()]
    key = np.lexsort((ei[0].numpy(), dd, ei[1].numpy()))
    assert np.array_equal(key, np.arange(len(key)))


@pytest.mark.parametrize("sizes", [[40] * 300, [3000, 2500], [2, 2500, 1, 700]])
def test_knn_and_radius_batches_equal_per_graph_results(sizes):
    """Many small graphs (padded brute force), few large ones (a tree each),
    and graphs with fewer points than k: each graph alone, offset."""
    g = torch.Generator().manual_seed(3)
    x = torch.rand(sum(sizes), 3, generator=g, dtype=torch.float64)
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    ei = ops.knn_graph(x, 5, batch)
    er = ops.radius_graph(x, 0.08, batch)
    start = 0
    parts, rparts = [], []
    for s in sizes:
        parts.append(ops.knn_graph(x[start:start + s], 5) + start)
        rparts.append(ops.radius_graph(x[start:start + s], 0.08) + start)
        start += s
    assert torch.equal(ei, torch.cat(parts, 1))
    assert torch.equal(er, torch.cat(rparts, 1))


def test_knn_bipartite_matches_reference_with_ties():
    x = ADV["lattice"][:2000]
    y = x[::7] + 0.5  # equidistant from 8 lattice points: ties at every k
    pairs = ops.knn(x, y, 4)
    d = ((y.numpy()[:, None] - x.numpy()[None]) ** 2).sum(-1)
    idx = np.broadcast_to(np.arange(len(x)), d.shape)
    ref = np.lexsort((idx, d), axis=1)[:, :4]
    assert np.array_equal(pairs[1].numpy().reshape(-1, 4), ref)
    assert torch.equal(pairs[0], torch.arange(len(y)).repeat_interleave(4))


@pytest.mark.parametrize("n", [50, 400])  # brute force and k-d tree
@pytest.mark.parametrize("scale", [2.0 ** 1000, 2.0 ** -1000, 1e300])
def test_knn_graph_at_the_ends_of_float64_equals_the_graph_at_scale_one(n, scale):
    x = torch.rand(n, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expect = ops.knn_graph(x, 6)
    got = ops.knn_graph(x * scale, 6)
    if scale == 1e300:  # a decimal scale rounds: compare neighbour sets by exact distance
        assert got.shape == expect.shape
        d = lambda e: ((x[e[0]] - x[e[1]]) ** 2).sum(1).reshape(n, 6)  # noqa: E731
        torch.testing.assert_close(d(got), d(expect), rtol=1e-12, atol=0)
    else:
        assert torch.equal(got, expect)


def test_knn_graph_refuses_points_spread_beyond_float64_squares():
    x = torch.logspace(-300, 300, 61, dtype=torch.float64)[:, None].repeat(1, 3)
    with pytest.raises(ValueError, match="orders of magnitude"):
        ops.knn_graph(x, 3)
