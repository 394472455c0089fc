"""The experiment scripts run end to end on a small budget and learn."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
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
