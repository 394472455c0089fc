"""SpectralConv and CayleyConv against dense eigendecompositions."""
import numpy as np
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import get_laplacian

from geodl.nn.conv import CayleyConv, SpectralConv
from geodl.structures import Mesh
from geodl.testing import assert_batch_consistent, assert_gradcheck, assert_permutation_equivariant
from tests.helpers import random_graph


def _graph(n=15, e=40, seed=0):
    """random_graph's edges in both directions, without self-loops."""
    (ei,) = random_graph(n, e, seed=seed)
    ei = torch.cat([ei, ei.flip(0)], 1)
    return ei[:, ei[0] != ei[1]]


def _dense_laplacian(ei, n, normalization="sym"):
    e, w = get_laplacian(ei, None, normalization, torch.float64, n)
    return torch.zeros(n, n, dtype=torch.float64).index_put_((e[0], e[1]), w, accumulate=True)


def _graph_basis(ei, n):
    evals, evecs = torch.linalg.eigh(_dense_laplacian(ei, n))
    return evals, evecs


def test_spectral_conv_with_unit_multipliers_is_identity():
    m = Mesh.icosphere(1)  # 42 vertices: the full basis is available
    L, M = m.laplacian().to_dense(), m.mass()
    import scipy.linalg
    w, v = scipy.linalg.eigh(L.numpy(), torch.diag(M).numpy())
    evals, evecs = torch.from_numpy(w), torch.from_numpy(v)
    conv = SpectralConv(1, 1, num_coeffs=4, bias=False).double()
    with torch.no_grad():
        conv.coeffs.fill_(1.0)
    x = torch.randn(42, 1, dtype=torch.float64)
    assert torch.allclose(conv(x, evecs, evals, mass=M), x, atol=1e-10)
    # truncated to k eigenvectors it is the M-orthogonal projection onto them
    k = 10
    y = conv(x, evecs[:, :k], evals[:k], mass=M)
    proj = evecs[:, :k] @ (evecs[:, :k].T @ (M[:, None] * x))
    assert torch.allclose(y, proj, atol=1e-10)


def test_spectral_conv_filters_each_eigenvector_by_its_multiplier():
    ei = _graph()
    evals, evecs = _graph_basis(ei, 15)
    conv = SpectralConv(1, 1, num_coeffs=5, freq_max=float(evals.max()), bias=False).double()
    knots = torch.linspace(0, float(evals.max()), 5, dtype=torch.float64)
    with torch.no_grad():
        conv.coeffs.copy_(torch.tensor([1.0, -2.0, 0.5, 3.0, 0.0]).reshape(5, 1, 1))
    for j in (0, 4, 9, 14):
        y = conv(evecs[:, j:j + 1], evecs, evals)
        expect = float(np.interp(float(evals[j]), knots.numpy(), [1.0, -2.0, 0.5, 3.0, 0.0]))
        assert torch.allclose(y[:, 0], expect * evecs[:, j], atol=1e-10)


def test_spectral_conv_properties():
    ei = _graph()
    evals, evecs = _graph_basis(ei, 15)
    conv = SpectralConv(3, 2, num_coeffs=6)
    x = torch.randn(15, 3)
    # permuting nodes permutes the rows of the basis with them
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(15, generator=g)
    out = conv(x, evecs.float(), evals.float())
    out_p = conv(x[perm], evecs.float()[perm], evals.float())
    assert torch.allclose(out_p, out[perm], atol=1e-5)
    # a batch of two graphs with their own bases equals each alone
    ei2 = _graph(9, 20, seed=3)
    ev2, U2 = _graph_basis(ei2, 9)
    k = 8
    a = Data(x=torch.randn(15, 3), evecs=evecs[:, :k].float(), evals=evals[None, :k].float(),
             edge_index=ei)
    b = Data(x=torch.randn(9, 3), evecs=U2[:, :k].float(), evals=ev2[None, :k].float(),
             edge_index=ei2)
    assert_batch_consistent(lambda d: conv(d.x, d.evecs, d.evals, batch=d.batch), [a, b])
    assert_gradcheck(lambda x: conv.double()(x, evecs, evals), torch.randn(15, 3))
    with pytest.raises(ValueError, match="evecs"):  # conv is float64 now
        conv(x.double(), evecs[:5], evals)
    with pytest.raises(ValueError, match="evals"):
        conv(x.double(), evecs, evals[:3])


def test_spectral_conv_transfers_between_resolutions():
    """Same coefficients, same frequency response: filtering the sphere's
    l=1 harmonic z on two resolutions gives the same result (up to discretisation)."""
    conv = SpectralConv(1, 1, num_coeffs=8, freq_max=30.0, bias=False).double()
    with torch.no_grad():  # a decreasing response: 1 at 0 down to 0.3 at freq_max
        conv.coeffs.copy_(torch.linspace(1.0, 0.3, 8, dtype=torch.float64).view(8, 1, 1))
    outs = []
    for level in (3, 4):
        m = Mesh.icosphere(level)
        evals, evecs = m.eigen(25)
        z = m.verts64[:, 2:3]
        outs.append((conv(z, evecs, evals, mass=m.mass()), z))
    gain = [float((y.detach() * z).sum() / (z * z).sum()) for y, z in outs]
    assert gain[0] == pytest.approx(gain[1], rel=1e-3)
    # ... and that gain is the filter's response at the harmonic's eigenvalue
    # (l(l+1) = 2 on the unit sphere), not zero: an all-zero output fails here
    with torch.no_grad():
        expected = float(conv.multipliers(torch.tensor([[2.0]], dtype=torch.float64))[0, 0, 0, 0])
    assert expected == pytest.approx(1.0 - 0.7 * 2.0 / 30.0)
    for (y, z), g in zip(outs, gain):
        assert g == pytest.approx(expected, rel=2e-2)
        assert torch.allclose(y.detach(), g * z, atol=2e-2 * abs(g))  # z is an eigenfunction


def test_cayley_conv_equals_its_rational_spectral_filter():
    n = 15
    ei = _graph(n)
    x = torch.randn(n, 3, dtype=torch.float64)
    conv = CayleyConv(3, 2, r=3, jacobi_iterations=200, zoom=0.7).double()
    y = conv(x, ei)
    evals, U = _graph_basis(ei, n)
    h = conv.zoom.detach()
    cayley = (h * evals - 1j) / (h * evals + 1j)
    xh = (U.T @ x).to(torch.complex128)
    out = (U.T @ x) @ conv.lin0.weight.T
    for j in range(3):
        c = (conv.real[j] + 1j * conv.imag[j]).to(torch.complex128)
        out = out + 2 * torch.real((cayley ** (j + 1))[:, None] * xh @ c)
    assert torch.allclose(y, U @ out + conv.bias, atol=1e-10)
    # |Cayley(h lambda)| = 1: with c_0 = 0 and one real c_1 the response is 2 cos(angle)
    assert torch.allclose(cayley.abs(), torch.ones(n, dtype=torch.float64))


def test_cayley_conv_properties():
    ei = _graph(12, 30)
    conv = CayleyConv(3, 2, r=2, jacobi_iterations=8)
    x = torch.randn(12, 3)
    assert conv(x, ei).shape == (12, 2)
    assert_permutation_equivariant(conv, x, ei)
    g = torch.Generator().manual_seed(5)
    graphs = [Data(x=torch.randn(6, 3, generator=g), edge_index=_graph(6, 8, seed=1)),
              Data(x=torch.randn(5, 3, generator=g), edge_index=_graph(5, 6, seed=2))]
    assert_batch_consistent(lambda d: conv(d.x, d.edge_index), graphs)
    assert_gradcheck(lambda x: conv.double()(x, ei), x)
    # the zoom is learned: it receives a gradient
    conv.float()
    conv(x, ei).square().sum().backward()
    assert conv.log_zoom.grad is not None and conv.log_zoom.grad.abs() > 0
    with pytest.raises(ValueError, match="zoom"):
        CayleyConv(2, 2, zoom=0.0)
