import math

import numpy as np
import pytest
import scipy.linalg
import torch

from geodl import ops
from geodl.structures import Mesh
from geodl.testing import assert_isometry_invariant, assert_rigid_invariant


def test_hks_equals_heat_kernel_diagonal_on_full_spectrum():
    """With all eigenpairs, HKS(x, t) = [exp(-t M^-1 L)]_xx / M_x... computed
    here independently with scipy.linalg.expm."""
    m = Mesh.icosphere(1)  # 42 vertices: full spectrum is cheap
    L, M = m.laplacian().to_dense().numpy(), m.mass().numpy()
    w, v = ops.generalized_eigh(m.laplacian(), m.mass(), m.num_verts - 1)
    # add the last eigenpair densely (eigsh cannot return all)
    w_all, v_all = scipy.linalg.eigh(L, np.diag(M))
    t = torch.tensor([0.01, 0.1, 1.0], dtype=torch.float64)
    hks = ops.heat_kernel_signature(torch.from_numpy(w_all), torch.from_numpy(v_all), t)
    for j, tj in enumerate(t.tolist()):
        K = scipy.linalg.expm(-tj * (L / M[:, None]))  # heat operator on functions
        diag = np.diag(K) / M  # kernel density on the diagonal
        assert np.allclose(hks[:, j].numpy(), diag, rtol=1e-8)
    assert torch.allclose(w, torch.from_numpy(w_all[:-1]), atol=1e-8)


def test_hks_is_rigid_invariant():
    # a bumpy torus: no symmetry, so no repeated eigenvalue is cut at k (a cut
    # cluster would make a truncated HKS depend on the basis chosen inside it)
    m = Mesh.torus(n_major=32, n_minor=12)
    g = torch.Generator().manual_seed(3)
    m = Mesh(m.verts64 + 0.02 * torch.randn(m.num_verts, 3, generator=g, dtype=torch.float64),
             m.faces)
    fn = lambda v: Mesh(v, m.faces).hks(8, k=40)  # noqa: E731
    assert_rigid_invariant(fn, m.verts64, atol=1e-8, rtol=1e-6)


def _strip(nx_: int = 60, ny: int = 12, length: float = 3.0, width: float = 0.6) -> Mesh:
    m = Mesh.grid(nx_, ny)
    v = m.verts64.clone()
    v[:, 0] *= length / (nx_ - 1)
    v[:, 1] *= width / (ny - 1)
    return Mesh(v, m.faces)


def test_hks_is_close_under_isometric_bend():
    """Bend a flat strip into half a cylinder (an isometry of the continuum):
    HKS changes by at most a few percent; a non-isometric stretch changes it a lot."""
    m = _strip()
    v = m.verts64
    R = 3.0 / math.pi
    bent = torch.stack([R * torch.sin(v[:, 0] / R), v[:, 1], R * (1 - torch.cos(v[:, 0] / R))], 1)
    t = torch.tensor([0.005, 0.02, 0.05], dtype=torch.float64)
    fn = lambda p: Mesh(p, m.faces).hks(t, k=60)  # noqa: E731
    assert_isometry_invariant(fn, v, bent, atol=0.0, rtol=0.02)
    stretched = v * torch.tensor([1.5, 1.0, 1.0], dtype=torch.float64)
    with pytest.raises(AssertionError):
        assert_isometry_invariant(fn, v, stretched, atol=0.0, rtol=0.02)


def test_wks_is_a_distribution_over_energies():
    m = Mesh.icosphere(3)
    evals, evecs = m.eigen(50)
    wks = ops.wave_kernel_signature(evals, evecs, num=20)
    assert wks.shape == (m.num_verts, 20) and (wks > 0).all()
    # weighted by the mass, each energy's WKS integrates to 1 over the surface
    total = (m.mass()[:, None] * wks).sum(0)
    assert torch.allclose(total, torch.ones(20, dtype=torch.float64), atol=1e-8)


@pytest.mark.parametrize("times", [torch.tensor([-1.0, 1.0]), torch.tensor([0.0]),
                                   torch.tensor([float("nan")]), torch.tensor([]),
                                   torch.ones(2, 2), 0, -3])
def test_hks_rejects_bad_times(times):
    with pytest.raises(ValueError, match="times"):
        Mesh.icosphere(1).hks(times, k=10)


@pytest.mark.parametrize("kwargs", [{"num": 0}, {"num": -2}, {"num": True},
                                    {"variance": 0.0}, {"variance": -1.0},
                                    {"variance": float("nan")}])
def test_wks_rejects_bad_counts_and_widths(kwargs):
    m = Mesh.icosphere(1)
    evals, evecs = m.eigen(10, cache_dir=False)
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ops.wave_kernel_signature(evals, evecs, **kwargs)


def test_hks_times_rejects_zero_count():
    with pytest.raises(ValueError, match="num"):
        ops.hks_times(torch.tensor([0.0, 1.0, 2.0]), 0)


@pytest.mark.parametrize("num,variance", [(20, 6.0), (7, 2.0), (1, 6.0)])
def test_wks_equals_its_formula_evaluated_directly(num, variance):
    """Aubry et al.: WKS(x, e) = sum_k phi_k(x)^2 exp(-(e - log l_k)^2 / 2 s^2)
    / sum_k exp(...), energies evenly spaced over [log l_1, log l_max], s =
    variance x spacing; evaluated here with Python loops in float64."""
    m = Mesh.icosphere(2)
    evals, evecs = m.eigen(30, cache_dir=False)
    wks = ops.wave_kernel_signature(evals, evecs, num=num, variance=variance)
    lam = [float(v) for v in evals if v > 1e-10 * float(evals.abs().max())]
    phi = evecs[:, len(evals) - len(lam):].numpy()
    lo, hi = math.log(lam[0]), math.log(lam[-1])
    energies = [lo + i * (hi - lo) / (num - 1) for i in range(num)] if num > 1 else [lo]
    sigma = variance * (hi - lo) / (num - 1) if num > 1 else 1.0
    for j, e in enumerate(energies):
        w = np.array([math.exp(-(e - math.log(lk)) ** 2 / (2 * sigma ** 2)) for lk in lam])
        ref = (phi ** 2 * w).sum(1) / w.sum()
        assert np.allclose(wks[:, j].numpy(), ref, rtol=1e-12, atol=0)
