import pytest
import torch
from torch_geometric.utils import scatter

from geodl.nn.pool import BinaryTreePool, GraclusPyramid, MeshPool, MeshUnpool, mesh_hierarchy
from geodl.ops import graclus_coarsening, grid_graph
from geodl.structures import Mesh


def test_pyramid_is_a_balanced_binary_tree_matching_graclus():
    ei = grid_graph(10, 10)
    pyr = GraclusPyramid.build(ei, None, 100, levels=3, seed=0)
    sizes = pyr.num_nodes
    assert all(a == 2 * b for a, b in zip(sizes, sizes[1:]))
    levels = graclus_coarsening(ei, None, 100, 3, seed=0)
    real_counts = [int((o >= 0).sum()) for o in pyr.orders]
    assert real_counts == [100] + [lvl.num_nodes for lvl in levels]
    # max-pooling in tree order == scatter-max over the Graclus clusters
    x = torch.randn(100, 3)
    xt = pyr.permute(x, fill=-torch.inf)
    pooled = BinaryTreePool("max")(xt)
    ref = scatter(x, levels[0].cluster, 0, reduce="max")
    order1 = pyr.orders[1]
    assert torch.equal(pooled[order1 >= 0], ref[order1[order1 >= 0]])
    assert torch.isinf(pooled[order1 < 0]).all()
    # fake nodes are isolated; real edges map to real positions
    for order, ei_l in zip(pyr.orders, pyr.edge_indices):
        assert (order[ei_l] >= 0).all()
    bei, bw = pyr.batched_edges(1, 3)
    assert bei.shape[1] == 3 * pyr.edge_indices[1].shape[1] and int(bei.max()) < 3 * sizes[1]


def test_mesh_pool_unpool_round_trip():
    meshes, clusters = mesh_hierarchy(Mesh.icosphere(3), [160, 40])
    assert [m.num_verts for m in meshes][1:] == [160, 40]
    x = torch.randn(642, 5)
    pooled = MeshPool("mean")(x, clusters[0], meshes[1].num_verts)
    assert torch.allclose(pooled[3], x[clusters[0] == 3].mean(0))
    up = MeshUnpool()(pooled, clusters[0])
    assert up.shape == x.shape and torch.equal(up[clusters[0] == 3], pooled[3].expand(
        int((clusters[0] == 3).sum()), 5))
    # pooling a constant is the constant; pooling then unpooling a pooled signal is idempotent
    c = torch.ones(642, 1)
    assert torch.equal(MeshPool("max")(c, clusters[0]), torch.ones(160, 1))
    assert torch.allclose(MeshPool()(up, clusters[0]), pooled)
    with pytest.raises(ValueError, match="decreasing"):
        mesh_hierarchy(Mesh.icosphere(1), [10, 20])
    with pytest.raises(ValueError, match="cluster"):
        MeshPool()(x, clusters[1])


def test_global_readouts_by_hand():
    from geodl.nn.pool import AttentionReadout, global_add_pool, global_max_pool, global_mean_pool
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0], [5.0, 0.0], [-2.0, 4.0]])
    batch = torch.tensor([0, 0, 0, 1])
    assert torch.allclose(global_mean_pool(x, batch), torch.tensor([[3.0, 1 / 3], [-2.0, 4.0]]))
    assert global_max_pool(x, batch).tolist() == [[5.0, 2.0], [-2.0, 4.0]]
    assert global_add_pool(x, batch).tolist() == [[9.0, 1.0], [-2.0, 4.0]]
    gate = torch.nn.Linear(2, 1)
    with torch.no_grad():
        gate.weight.zero_()
        gate.bias.zero_()
    # a constant gate gives uniform attention: the mean
    assert torch.allclose(AttentionReadout(gate)(x, batch), global_mean_pool(x, batch))
    with torch.no_grad():
        gate.weight.copy_(torch.tensor([[1.0, 0.0]]))
    w = torch.softmax(x[:3, 0], 0)
    assert torch.allclose(AttentionReadout(gate)(x, batch)[0], (w[:, None] * x[:3]).sum(0))


def test_topk_pool_by_hand():
    from geodl.nn.pool import TopKPool
    pool = TopKPool(2, ratio=0.5)
    with torch.no_grad():
        pool.select.weight.copy_(torch.tensor([[3.0, 4.0]]))  # p / |p| = (0.6, 0.8)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, 2.0]])
    ei = torch.tensor([[0, 1, 3, 2], [1, 3, 1, 0]])
    out, out_ei, _, batch, perm, score = pool(x, ei)
    s = x @ torch.tensor([0.6, 0.8])  # 0.6, 0.8, -0.6, 1.6: keep nodes 3 and 1
    assert perm.tolist() == [3, 1]
    assert torch.allclose(out, x[[3, 1]] * torch.tanh(s[[3, 1]])[:, None])
    assert out_ei.tolist() == [[1, 0], [0, 1]]  # edges 1->3 and 3->1, renumbered
