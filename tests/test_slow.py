"""Larger versions of core checks: `make test-slow`."""
import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from geodl import ops
from geodl.structures import Mesh

pytestmark = pytest.mark.slow


def test_icosphere_level5_spectrum_to_l8():
    """10242 vertices: the first 81 eigenvalues (l <= 8) within 1 % of l(l+1)."""
    m = Mesh.icosphere(5)
    evals, _ = m.eigen(81, cache_dir=False)
    expected = torch.tensor([l * (l + 1) for l in range(9) for _ in range(2 * l + 1)],
                            dtype=torch.float64)
    rel = (evals[1:] - expected[1:]).abs() / expected[1:]
    assert float(rel.max()) < 0.01


def test_knn_graph_200k_points_equals_ckdtree():
    x = torch.rand(200_000, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ei = ops.knn_graph(x, 16)
    _, idx = cKDTree(x.numpy()).query(x.numpy(), 17)
    ours = np.sort(ei[0].numpy().reshape(-1, 16), 1)
    assert (ours == np.sort(idx[:, 1:], 1)).all()
