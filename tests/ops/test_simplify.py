"""QEM simplification (geodl.ops.simplify): topology, a valid vertex map, area,
boundaries, pooling."""
import numpy as np
import pytest
import torch

from geodl.structures import Mesh


@pytest.mark.parametrize("make", [lambda: Mesh.icosphere(3), lambda: Mesh.torus(),
                                  lambda: Mesh.grid(16, 16)])
def test_simplify_keeps_topology_and_returns_a_valid_map(make):
    m = make()
    coarse, cluster = m.simplify(m.num_verts // 4)
    assert coarse.num_verts <= m.num_verts // 4
    r0, r1 = m.check(), coarse.check()
    assert r1.ok and r1.euler_characteristic == r0.euler_characteristic
    assert r1.is_closed == r0.is_closed
    assert cluster.shape == (m.num_verts,)
    assert torch.equal(torch.unique(cluster), torch.arange(coarse.num_verts))
    # every cluster is connected in the fine mesh (merges follow edges)
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    e = m.edges.numpy()
    keep = cluster[e[:, 0]] == cluster[e[:, 1]]
    g = sp.coo_matrix((np.ones(keep.sum()), (e[keep, 0], e[keep, 1])), shape=(m.num_verts,) * 2)
    ncomp, _ = connected_components(g, directed=False)
    assert ncomp == coarse.num_verts
    # surface area is preserved to a few percent
    assert abs(coarse.area - m.area) / m.area < 0.03


def test_simplify_preserves_planar_boundary_and_pools():
    m = Mesh.grid(12, 12, spacing=0.1)
    coarse, cluster = m.simplify(40)
    lo, hi = coarse.verts.min(0).values, coarse.verts.max(0).values
    assert torch.allclose(lo, m.verts.min(0).values, atol=1e-9)
    assert torch.allclose(hi, m.verts.max(0).values, atol=1e-9)
    # pooling by scatter-mean, unpooling by gather
    x = torch.randn(m.num_verts, 4)
    from torch_geometric.utils import scatter
    pooled = scatter(x, cluster, 0, dim_size=coarse.num_verts, reduce="mean")
    assert torch.allclose(pooled[cluster[0]], x[cluster == cluster[0]].mean(0))
    assert pooled.shape == (coarse.num_verts, 4) and pooled[cluster].shape == x.shape
    with pytest.raises(ValueError, match="target_verts"):
        m.simplify(2)
