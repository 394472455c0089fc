import numpy as np
import pytest
import scipy.linalg
import torch

from geodl import ops
from geodl.structures import Mesh


def test_sparse_solver_matches_dense_generalised_eigh():
    m = Mesh.torus(n_major=30, n_minor=15)  # 450 vertices: the ARPACK path
    L, M = m.laplacian().to_dense().numpy(), m.mass().numpy()
    w_ref = scipy.linalg.eigh(L, np.diag(M), eigvals_only=True, subset_by_index=(0, 19))
    w, v = ops.generalized_eigh(m.laplacian(), m.mass(), 20)
    assert np.allclose(w.numpy(), w_ref, atol=1e-8, rtol=1e-8)
    resid = L @ v.numpy() - (M[:, None] * v.numpy()) * w.numpy()
    assert np.abs(resid).max() < 1e-6
    assert torch.allclose(v.T @ (m.mass()[:, None] * v), torch.eye(20, dtype=torch.float64),
                          atol=1e-10)


def test_eigen_is_cached_on_disk_and_hash_checked(tmp_path):
    m = Mesh.icosphere(3)
    evals, evecs = m.eigen(10, cache_dir=tmp_path)
    files = list(tmp_path.glob("eigen-*.pt"))
    assert len(files) == 1
    # a fresh object with the same content reads the file (no recomputation)
    m2 = Mesh(m.verts.clone(), m.faces.clone())
    payload = torch.load(files[0], weights_only=True)
    payload["evals"] = payload["evals"] + 1.0  # tamper the values, keep the hash
    torch.save(payload, files[0])
    assert torch.allclose(m2.eigen(10, cache_dir=tmp_path)[0], evals + 1.0)
    # a file whose stored hash does not match is ignored with a warning
    payload["hash"] = "0" * 64
    torch.save(payload, files[0])
    m3 = Mesh(m.verts.clone(), m.faces.clone())
    with pytest.warns(RuntimeWarning, match="hash"):
        again, _ = m3.eigen(10, cache_dir=tmp_path)
    assert torch.allclose(again, evals)
    # a truncated file is ignored too
    files[0].write_bytes(b"garbage")
    m4 = Mesh(m.verts.clone(), m.faces.clone())
    with pytest.warns(RuntimeWarning, match="unreadable"):
        assert torch.allclose(m4.eigen(10, cache_dir=tmp_path)[0], evals)


def test_different_geometry_gets_a_different_cache_entry(tmp_path):
    m = Mesh.icosphere(2)
    m.eigen(5, cache_dir=tmp_path)
    Mesh(m.verts * 2, m.faces).eigen(5, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("eigen-*.pt"))) == 2


def test_eigen_rejects_bad_k_and_mass():
    m = Mesh.icosphere(1)
    for k in (0, m.num_verts, 2.5):
        with pytest.raises(ValueError, match="k"):
            m.eigen(k, cache_dir=False)
    with pytest.raises(ValueError, match="mass"):
        ops.generalized_eigh(m.laplacian(), torch.zeros(m.num_verts), 3)


def test_eigen_scales_with_metric():
    """Scaling a shape by s scales the eigenvalues by 1/s^2."""
    m = Mesh.icosphere(3)
    w1, _ = m.eigen(9, cache_dir=False)
    w2, _ = Mesh(m.verts64 * 3.0, m.faces).eigen(9, cache_dir=False)
    assert torch.allclose(w2[1:] * 9.0, w1[1:], rtol=1e-8)
