"""kNN and radius graphs equal scipy cKDTree exactly, on both back-ends."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
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
