"""The WLS smoothing (geodl.lightfield.depth.wls) against a sparse direct solve and
by construction."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl
import torch

from geodl.lightfield.depth.wls import edge_affinities, wls_smooth


def _dense_wls(data, weight, guide, lam, sigma):
    """The same normal equations assembled as a scipy sparse matrix and solved directly."""
    H, W = data.shape
    idx = np.arange(H * W).reshape(H, W)
    wx, wy = (lam * w.double().numpy() for w in edge_affinities(guide, sigma))
    rows, cols, vals = [], [], []
    for w, a, b in ((wx, idx[:, :-1], idx[:, 1:]), (wy, idx[:-1], idx[1:])):
        rows += [a.ravel(), b.ravel(), a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel(), a.ravel(), b.ravel()]
        vals += [-w.ravel(), -w.ravel(), w.ravel(), w.ravel()]
    L = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(H * W, H * W)).tocsc()
    c = weight.double().numpy().ravel()
    x = spl.spsolve(L + sp.diags(c), c * data.double().numpy().ravel())
    return torch.from_numpy(x.reshape(H, W))


def test_wls_equals_a_sparse_direct_solve():
    g = torch.Generator().manual_seed(0)
    data = torch.randn(23, 31, generator=g)
    weight = torch.rand(23, 31, generator=g) ** 3 + 1e-3
    guide = torch.rand(3, 23, 31, generator=g)
    x = wls_smooth(data, weight, guide, lam=5.0, sigma=0.3, iterations=2000, tol=1e-9)
    ref = _dense_wls(data, weight, guide, 5.0, 0.3)
    assert float((x.double() - ref).abs().max()) < 1e-4


def test_wls_fills_a_textureless_slanted_plane_exactly_and_stops_at_colour_edges():
    H, W = 40, 60
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32),
                            torch.arange(W, dtype=torch.float32), indexing="ij")
    plane = 0.5 + 0.02 * xs - 0.01 * ys  # affine: harmonic, so WLS must reproduce it
    confident = torch.zeros(H, W, dtype=torch.bool)
    confident[[0, -1]] = True
    confident[:, [0, -1]] = True
    data = torch.where(confident, plane, torch.full_like(plane, 3.0))  # garbage inside
    weight = 1e4 * confident.float() + 1e-6  # the frame held (nearly Dirichlet), inside free
    guide = torch.zeros(3, H, W)  # uniform colour: nothing stops the smoothing
    x = wls_smooth(data, weight, guide, lam=1.0, iterations=5000, tol=1e-12)
    assert float((x - plane)[2:-2, 2:-2].abs().max()) < 0.01
    # two colours, each side confident about its own value: no leak across the edge
    guide[:, :, W // 2:] = 1.0
    data = torch.where(xs < W // 2, torch.zeros_like(xs), torch.ones_like(xs))
    x = wls_smooth(data, torch.full((H, W), 0.01), guide, lam=100.0, iterations=3000)
    assert float(x[:, :W // 2].max()) < 0.01 and float(x[:, W // 2:].min()) > 0.99


def test_wls_rejects_bad_input():
    with pytest.raises(ValueError, match="finite"):
        wls_smooth(torch.tensor([[float("nan")]]), torch.ones(1, 1), torch.ones(3, 1, 1))
    with pytest.raises(ValueError, match="expected data"):
        wls_smooth(torch.ones(4, 4), torch.ones(4, 5), torch.ones(3, 4, 4))
    with pytest.raises(ValueError, match="lam"):
        wls_smooth(torch.ones(4, 4), torch.ones(4, 4), torch.ones(3, 4, 4), lam=-1)
