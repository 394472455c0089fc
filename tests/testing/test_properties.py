"""geodl.testing's property assertions accept functions that have the property and
reject those that do not."""
import pytest
import torch

from geodl.testing import (
    assert_batch_consistent,
    assert_gradcheck,
    assert_permutation_equivariant,
    assert_permutation_invariant,
    assert_rigid_invariant,
    random_rotation,
)


def _mean_aggregation(x, edge_index):
    out = torch.zeros_like(x).index_add_(0, edge_index[1], x[edge_index[0]])
    deg = torch.bincount(edge_index[1], minlength=x.shape[0]).clamp_min(1)
    return out / deg[:, None]


def test_property_asserts_accept_good_and_reject_bad_functions():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(10, 4, generator=g)
    ei = torch.randint(0, 10, (2, 30), generator=g)
    assert_permutation_equivariant(_mean_aggregation, x, ei)
    with pytest.raises(AssertionError, match="equivariance"):
        assert_permutation_equivariant(lambda x, e: x + torch.arange(10.0)[:, None], x, ei)
    assert_permutation_invariant(lambda x, e: _mean_aggregation(x, e).sum(0), x, ei)
    with pytest.raises(AssertionError):
        assert_permutation_invariant(lambda x, e: x[0], x, ei)

    from torch_geometric.data import Data
    graphs = [Data(x=torch.randn(5, 2, generator=g), edge_index=torch.tensor([[0, 1], [1, 2]])),
              Data(x=torch.randn(4, 2, generator=g), edge_index=torch.tensor([[3, 0], [0, 1]]))]
    assert_batch_consistent(lambda d: _mean_aggregation(d.x, d.edge_index), graphs)
    with pytest.raises(AssertionError, match="batch"):  # leaks information across graphs
        assert_batch_consistent(lambda d: d.x - d.x.mean(0), graphs)

    v = torch.randn(20, 3, generator=g, dtype=torch.float64)
    assert_rigid_invariant(lambda p: torch.cdist(p, p), v)
    with pytest.raises(AssertionError, match="rigid"):
        assert_rigid_invariant(lambda p: p.norm(dim=1), v)
    R = random_rotation(3)
    assert torch.allclose(R @ R.T, torch.eye(3, dtype=torch.float64)) and torch.linalg.det(R) > 0

    lin = torch.nn.Linear(3, 2)
    assert_gradcheck(lin, torch.randn(4, 3, generator=g))
    with pytest.raises(AssertionError, match="gradcheck"):
        class Wrong(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 3  # wrong on purpose
        assert_gradcheck(Wrong.apply, torch.randn(3, generator=g))
