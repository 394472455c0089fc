"""Top-quark jets (geodl.datasets.top_tagging): features by hand, the shipped
fixture, the reference set, splits and refused files."""
import math

import numpy as np
import pytest
import torch

from geodl.datasets import TopTagging
from tests.helpers import REPO


def _write(path, cons, jets, labels):
    np.savez_compressed(path, constituents=np.asarray(cons, np.float16),
                        jets=np.asarray(jets, np.float32), labels=np.asarray(labels, np.int8))


def test_jet_features_by_hand(tmp_path):
    cons = [[[100.0, 0.5, 3.0, 120.0], [50.0, 0.4, -3.0, 60.0], [0, 0, 0, 0]]]
    jets = [[150.0, 0.45, 3.1, 20.0]]
    _write(tmp_path / "j.npz", cons, jets, [1])
    ds = TopTagging(tmp_path / "j.npz")
    d = ds.data(0)
    assert d.x.shape == (2, 7) and d.y.tolist() == [1]  # padding dropped
    c = np.asarray(cons, np.float16).astype(np.float64)[0]
    j = np.asarray(jets, np.float32).astype(np.float64)[0]
    d_phi_2 = (c[1, 2] - j[2] + math.pi) % (2 * math.pi) - math.pi  # wraps around pi
    assert abs(d_phi_2) < 0.5
    expect = [math.log(c[1, 0]), math.log(c[1, 3]), math.log(c[1, 0] / j[0]),
              math.log(c[1, 3] / (c[0, 3] + c[1, 3])), c[1, 1] - j[1], d_phi_2,
              math.hypot(c[1, 1] - j[1], d_phi_2)]
    assert torch.allclose(d.x[1].double(), torch.tensor(expect, dtype=torch.float64), atol=1e-5)
    assert ds.mass.tolist() == [20.0]


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="generate_top_tagging"):
        TopTagging(tmp_path / "missing.npz")
    np.savez(tmp_path / "bad.npz", jets=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="lacks"):
        TopTagging(tmp_path / "bad.npz")
    _write(tmp_path / "j.npz", np.zeros((2, 3, 4)), np.zeros((3, 4)), [0, 1])
    with pytest.raises(ValueError, match="inconsistent"):
        TopTagging(tmp_path / "j.npz")
    _write(tmp_path / "k.npz", np.ones((2, 3, 4)), np.ones((2, 4)), [0, 1])
    with pytest.raises(ValueError, match="sha256"):
        TopTagging(tmp_path / "k.npz", sha256="0" * 64)
    ds = TopTagging(tmp_path / "k.npz")
    a, b = ds.split((0.5, 0.5))
    assert sorted(np.concatenate([a, b]).tolist()) == [0, 1]


def test_shipped_jet_fixture_has_top_quark_physics():
    """The Pythia 8 + FastJet fixture: checksum as documented, the cuts of the
    recipe, and the top mass (172.5 GeV, an independent number) in the signal."""

    from geodl.datasets.top_tagging import FIXTURE_SHA256
    readme = (REPO / "datasets" / "README.md").read_text()
    assert FIXTURE_SHA256 in readme
    ds = TopTagging()  # verifies the checksum
    pt, eta = ds.jets[:, 0], ds.jets[:, 1]
    assert len(ds) == 10000 and ds.labels.mean() == 0.5
    assert ((pt > 550) & (pt < 650)).all() and (np.abs(eta) < 2).all()
    top, qcd = ds.mass[ds.labels == 1], ds.mass[ds.labels == 0]
    assert 170 < np.median(top) < 185 and np.median(qcd) < 110
    # anti-kT R = 0.8: the transverse momentum lies within dR < 0.8 of the axis
    # (only very soft particles, chained in by soft-soft merging, lie outside)
    d_r = np.concatenate([ds.data(i).x[:, 6].numpy() for i in range(200)])
    pt = np.concatenate([ds.constituents[i, :, 0][ds.constituents[i, :, 0] > 0]
                         for i in range(200)])
    assert pt[d_r < 0.8].sum() > 0.995 * pt.sum()


def test_reference_set_conversion_by_hand(tmp_path):
    """A file in the public top-tagging reference layout (pandas HDF5 table,
    E_i/PX_i/PY_i/PZ_i for 200 constituents, is_signal_new) converts to the
    TopTagging .npz with hand-computed kinematics."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    from geodl.datasets.top_tagging_reference import convert_reference

    cols = {f"{f}_{i}": np.zeros(2) for i in range(200) for f in ("E", "PX", "PY", "PZ")}
    # jet 0: a soft particle listed first, then a hard one; jet 1: one particle
    cols["E_0"][0], cols["PX_0"][0], cols["PZ_0"][0] = math.sqrt(2), 1.0, 1.0
    cols["E_1"][0], cols["PX_1"][0], cols["PY_1"][0] = 5.0, 3.0, 4.0
    cols["E_0"][1], cols["PX_0"][1], cols["PY_0"][1] = 2.0, 0.0, -2.0
    df = pd.DataFrame({**cols, "ttv": [0, 0], "is_signal_new": [1, 0]})
    df.to_hdf(tmp_path / "ref.h5", key="table", format="table")
    convert_reference(tmp_path / "ref.h5", tmp_path / "ref.npz", max_constituents=1)
    ds = TopTagging(tmp_path / "ref.npz")
    assert ds.labels.tolist() == [1, 0]
    c = ds.constituents
    assert c.shape == (2, 1, 4)
    # the hardest constituent is kept: pT 5, eta 0, phi atan2(4, 3)
    assert np.allclose(c[0, 0], [5.0, 0.0, math.atan2(4, 3), 5.0], atol=2e-3)
    # the jet sums all constituents: (E, p) = (5 + sqrt 2, 4, 4, 1)
    m = math.sqrt((5 + math.sqrt(2)) ** 2 - 16 - 16 - 1)
    assert np.allclose(ds.jets[0], [math.hypot(4, 4), math.asinh(1 / math.hypot(4, 4)),
                                    math.pi / 4, m], atol=1e-5)
    assert np.allclose(ds.jets[1], [2.0, 0.0, -math.pi / 2, 0.0], atol=1e-5)
    pd.DataFrame({"x": [1.0]}).to_hdf(tmp_path / "bad.h5", key="table", format="table")
    with pytest.raises(ValueError, match="reference layout"):
        convert_reference(tmp_path / "bad.h5", tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="reference set"):
        convert_reference(tmp_path / "missing.h5", tmp_path / "m.npz")


def _fixture_spellings(tmp_path):
    import os

    from geodl.datasets.top_tagging import FIXTURE

    yield "absolute", FIXTURE
    yield "str", str(FIXTURE)
    yield "relative", os.path.relpath(FIXTURE)
    yield "dot-dot", FIXTURE.parent / ".." / "jets" / FIXTURE.name
    link = tmp_path / "link.npz"
    if not link.exists():
        link.symlink_to(FIXTURE)
    yield "symlink", link
    hard = tmp_path / "hard.npz"
    try:
        if not hard.exists():
            os.link(FIXTURE, hard)
    except OSError:  # another file system
        return
    yield "hard link", hard


def test_shipped_fixture_checksum_is_checked_whatever_path_names_it(tmp_path, monkeypatch):
    """With the expected checksum changed, every way of naming the shipped
    file must fail the check (so each one is checked)."""
    import geodl.datasets.top_tagging as tt

    names = []
    monkeypatch.setattr(tt, "FIXTURE_SHA256", "f" * 64)
    for name, path in _fixture_spellings(tmp_path):
        with pytest.raises(ValueError, match="sha256"):
            TopTagging(path)
        names.append(name)
    assert {"absolute", "relative", "dot-dot", "symlink"} <= set(names)
    monkeypatch.undo()
    for _, path in _fixture_spellings(tmp_path):
        assert len(TopTagging(path)) == len(TopTagging())
    with pytest.raises(ValueError, match="sha256"):
        TopTagging(tt.FIXTURE, sha256="0" * 64)


@pytest.mark.parametrize("fractions", [(0.6, 0.2), (0.5, 0.6), (1.2, -0.2), (0.5, float("nan"), 0.5),
                                       (), ((0.5, 0.5),), "ab", (0.7, 0.2, 0.2)])
def test_split_rejects_fractions_that_are_not_a_partition(tmp_path, fractions):
    _write(tmp_path / "k.npz", np.ones((10, 3, 4)), np.ones((10, 4)), [0, 1] * 5)
    with pytest.raises(ValueError, match="fractions"):
        TopTagging(tmp_path / "k.npz").split(fractions)


@pytest.mark.parametrize("fractions", [(1.0,), (0.6, 0.2, 0.2), (0.0, 1.0), (1 / 3, 1 / 3, 1 / 3)])
def test_split_partitions_every_jet_once(tmp_path, fractions):
    _write(tmp_path / "k.npz", np.ones((10, 3, 4)), np.ones((10, 4)), [0, 1] * 5)
    parts = TopTagging(tmp_path / "k.npz").split(fractions, seed=3)
    assert len(parts) == len(fractions)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    assert [len(p) for p in parts[:-1]] == [round(f * 10) for f in fractions[:-1]]


@pytest.mark.parametrize("bad, match", [
    ([50.0, 0.4, -3.0, 0.0], "constituent 1"),           # zero energy: log E = -inf
    ([50.0, 0.4, float("nan"), 60.0], "constituent 1"),  # NaN angle
    ([-5.0, 0.4, -3.0, 60.0], "constituent 1"),          # negative pT
])
def test_jets_whose_features_would_not_be_finite_are_refused(tmp_path, bad, match):
    cons = [[[100.0, 0.5, 3.0, 120.0], bad, [0, 0, 0, 0]]]
    np.savez(tmp_path / "j.npz", constituents=np.asarray(cons), jets=np.asarray(
        [[150.0, 0.45, 3.1, 20.0]]), labels=np.asarray([1]))
    with pytest.raises(ValueError, match=f"j.npz: jet 0, {match}"):
        TopTagging(tmp_path / "j.npz")


def test_a_truncated_jet_file_is_named(tmp_path):
    cons = np.random.default_rng(0).uniform(1, 2, (50, 20, 4))
    np.savez_compressed(tmp_path / "j.npz", constituents=cons, jets=np.ones((50, 4)),
                        labels=np.zeros(50, int))
    data = (tmp_path / "j.npz").read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        (tmp_path / "t.npz").write_bytes(data[:cut])
        with pytest.raises(ValueError, match="t.npz.*(truncated|corrupt|not a readable)"):
            TopTagging(tmp_path / "t.npz")
    garbled = bytearray(data)
    garbled[len(data) // 3: len(data) // 3 + 64] = bytes(64)  # inside compressed data
    (tmp_path / "g.npz").write_bytes(bytes(garbled))
    with pytest.raises(ValueError, match="g.npz"):
        TopTagging(tmp_path / "g.npz")
