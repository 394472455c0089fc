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
    payload["evecs"][:, 3] *= -1  # still a valid basis: a read shows through the sign
    torch.save(payload, files[0])
    assert torch.equal(m2.eigen(10, cache_dir=tmp_path)[1][:, 3], -evecs[:, 3])
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


def _bad_payloads(evals, evecs, k):
    """Cache payloads with the right hash and wrong content, one per defect."""
    good = {"evals": evals, "evecs": evecs, "k": k}
    nan_vecs = evecs.clone()
    nan_vecs[3, 2] = float("nan")
    return {
        "evals is an int": {**good, "evals": 42},
        "evecs is a list": {**good, "evecs": evecs.tolist()},
        "NaN vectors": {**good, "evecs": nan_vecs},
        "inf values": {**good, "evals": evals.clone().index_fill_(0, torch.tensor([1]),
                                                                   float("inf"))},
        "wrong k stored": {**good, "k": k + 1},
        "no k": {"evals": evals, "evecs": evecs},
        "too few vectors": {**good, "evecs": evecs[:, :-1]},
        "too few values": {**good, "evals": evals[:-1]},
        "float32": {**good, "evecs": evecs.float()},
        "descending": {**good, "evals": evals.flip(0)},
        "not orthonormal": {**good, "evecs": 2 * evecs},
        "transposed": {**good, "evecs": evecs.T.contiguous()},
    }


@pytest.mark.parametrize("defect", list(_bad_payloads(torch.zeros(3), torch.zeros(4, 3), 3)))
def test_bad_cache_payload_is_recomputed_with_a_warning(tmp_path, defect):
    m = Mesh.icosphere(2)
    evals, evecs = m.eigen(8, cache_dir=tmp_path)
    (path,) = tmp_path.glob("eigen-*.pt")
    digest = torch.load(path, weights_only=True)["hash"]
    payload = _bad_payloads(evals, evecs, 8)[defect]
    torch.save({**payload, "hash": digest}, path)
    fresh = Mesh(m.verts.clone(), m.faces.clone())
    with pytest.warns(RuntimeWarning, match="recomputing"):
        again, vecs = fresh.eigen(8, cache_dir=tmp_path)
    assert torch.equal(again, evals) and torch.allclose(vecs, evecs, atol=1e-10)
    # the bad file was replaced by a good one: no warning the next time
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(Mesh(m.verts.clone(), m.faces.clone()).eigen(
            8, cache_dir=tmp_path)[0], evals)


@pytest.mark.parametrize("where", ["value", "pattern"])
def test_a_non_symmetric_operator_is_refused(where):
    mesh = Mesh.icosphere(1)
    L = mesh.laplacian().to_dense()
    i, j = mesh.edges[0].tolist()
    if where == "value":
        L[i, j] *= 2
    else:
        L[j, i] = 0
    with pytest.raises(ValueError, match=rf"symmetric.*L\[{j}, {i}\]|symmetric.*L\[{i}, {j}\]"):
        ops.generalized_eigh(L.to_sparse_csr(), mesh.mass(), 4)
    # rounding-level asymmetry (a matrix assembled in another order) is accepted
    L = mesh.laplacian().to_dense()
    L[i, j] *= 1 + 1e-14
    ops.generalized_eigh(L.to_sparse_csr(), mesh.mass(), 4)


def test_a_forged_cache_whose_hash_matches_is_recomputed(tmp_path):
    mesh = Mesh.icosphere(2)
    evals, evecs = mesh.eigen(6, cache_dir=tmp_path)
    (path,) = tmp_path.glob("eigen-*.pt")
    payload = torch.load(path, weights_only=True)
    payload["evals"] = torch.full_like(payload["evals"], 42.0)  # ascending, finite, orthonormal
    torch.save(payload, path)
    with pytest.warns(RuntimeWarning, match="residual"):
        again = Mesh.icosphere(2).eigen(6, cache_dir=tmp_path)
    torch.testing.assert_close(again[0], evals)
