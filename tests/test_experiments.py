"""The experiment scripts run end to end on a small budget and learn."""
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_digits_grid_quick_run(tmp_path):
    mod = _load("digits_grid")
    summary = mod.main(["--seeds", "1", "--epochs", "3", "--limit", "500",
                        "--models", "cnn,chebnet,spectral,chebnet_irr", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "results" / "digits_grid.json").read_text())
    assert set(saved["results"]) == {"cnn", "chebnet", "spectral", "chebnet_irr"}
    # three epochs on 500 images: far above the 10 % of guessing
    assert summary["cnn"]["mean"] > 0.5 and summary["chebnet"]["mean"] > 0.5
    assert (tmp_path / "figures" / "digits_filters.png").stat().st_size > 10_000


def test_social_networks_quick_run(tmp_path):
    mod = _load("social_networks")
    res = mod.main(["--seeds", "2", "--graphs", "1", "--ratios", "10,1", "--out", str(tmp_path)])
    assert min(res["karate"]["GCN"]) > 0.85  # one label per club suffices on this graph
    gcn = res["sbm"]["GCN"]
    assert gcn[0][0] > 0.95 and gcn[1][0] < 0.65  # easy ratio solved, ratio 1 near chance
    assert (tmp_path / "figures" / "sbm_accuracy.png").exists()


def _toy_jets(path, n=300, seed=0):
    """Not physics: 3-prong 'top' vs 1-prong 'QCD' point clouds with a mass
    feature, only to drive the jet-tagging script end to end."""
    import numpy as np
    rng = np.random.default_rng(seed)
    cons = np.zeros((n, 30, 4))
    jets = np.zeros((n, 4))
    labels = np.arange(n) % 2
    for j in range(n):
        k = rng.integers(10, 30)
        centres = rng.normal(0, 0.3, (3 if labels[j] else 1, 2))
        which = rng.integers(0, len(centres), k)
        eta = centres[which, 0] + rng.normal(0, 0.05, k)
        phi = centres[which, 1] + rng.normal(0, 0.05, k)
        pt = rng.exponential(20, k) + 1
        cons[j, :k] = np.stack([pt, eta, phi, pt * np.cosh(eta)], 1)
        jets[j] = [600, 0, 0, 172 + rng.normal(0, 10) if labels[j] else rng.exponential(50)]
    np.savez_compressed(path, constituents=cons.astype(np.float16),
                        jets=jets.astype(np.float32), labels=labels.astype(np.int8))


def test_jet_tagging_runs_on_a_toy_file(tmp_path):
    mod = _load("jet_tagging")
    _toy_jets(tmp_path / "toy.npz")
    summary = mod.main(["--data", str(tmp_path / "toy.npz"), "--seeds", "1", "--epochs", "2",
                        "--out", str(tmp_path)])
    assert summary["mass"]["auc"][0] > 0.9  # the toy's mass separates the classes
    assert set(summary) == {"mass", "edgeconv", "gat"}
    assert (tmp_path / "figures" / "jet_roc.png").exists()


def test_mesh_intrinsic_quick_run(tmp_path):
    mod = _load("mesh_intrinsic")
    res = mod.main(["--seeds", "1", "--methods", "diffusionnet,monet", "--cls-epochs", "1",
                    "--corr-epochs", "1", "--cls-train", "1", "--cls-test", "1",
                    "--corr-train", "1", "--corr-test", "1", "--out", str(tmp_path)])
    assert set(res["classification"]) == {"diffusionnet", "monet"}
    curve = res["correspondence"]["monet"]["curve"]
    assert curve == sorted(curve) and 0.0 <= curve[0] <= curve[-1] <= 1.0
    assert (tmp_path / "figures" / "mesh_correspondence.png").exists()


def test_hci_metric_floor_quick_run(tmp_path):
    mod = _load("hci_metric_floor")
    res = mod.main(["--seeds", "3", "--size", "48", "--out", str(tmp_path)])[3]
    # scored against itself: zero at low resolution, a floor above zero at 10x
    assert res["mse100"] == 0 and res["badpix0.07"] == 0 and res["bumpiness_planes"] == 0
    assert 0 < res["badpix0.07_discontinuities"] < 50
    assert (tmp_path / "results" / "hci_metric_floor.json").exists()
