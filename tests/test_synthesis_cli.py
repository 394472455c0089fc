"""geodl synthesize: a complete scene folder, one PNG, and its errors."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from geodl.cli import SYNTHESIS_METHODS, main
from geodl.datasets import render_hci_scene, training_seeds
from geodl.lightfield import load_hci, write_hci_scene
from geodl.lightfield.synthesis import METHODS


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    lf = render_hci_scene(training_seeds(1, offset=21)[0], size=32, grid=3, gt_factor=1,
                          progress=False)
    return write_hci_scene(tmp_path_factory.mktemp("scene") / "room", lf, scene="room")


def test_synthesize_writes_a_scene_folder_load_hci_reads(scene, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["synthesize", str(scene), "--from", "corners", "--method", "nearest",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "view (1, 1): PSNR" in text and "mean over 5 views" in text
    real, got = load_hci(scene), load_hci(out)
    assert got.views.shape == real.views.shape
    # the given views are copied (8-bit PNG round trip: exact), the others synthesised
    for r, c in [(0, 0), (0, 2), (2, 0), (2, 2)]:
        assert np.array_equal(got.views[r, c].numpy(), real.views[r, c].numpy())
    assert (out / "parameters.cfg").read_bytes() == (scene / "parameters.cfg").read_bytes()
    # writers never destroy: a second run needs --force
    with pytest.raises(SystemExit) as exc:
        main(["synthesize", str(scene), "--method", "nearest", "--out", str(out)])
    assert exc.value.code == 2 and "--force" in capsys.readouterr().err
    assert main(["synthesize", str(scene), "--method", "warp", "--out", str(out), "--force"]) == 0


def test_synthesize_one_fractional_target(scene, tmp_path, capsys):
    png = tmp_path / "view.png"
    assert main(["synthesize", str(scene), "--from", "0,0;2,2", "--method", "warp",
                 "--target", "1,1.5", "--out", str(png)]) == 0
    assert np.asarray(Image.open(png)).shape == (32, 32, 3)
    assert "PSNR" not in capsys.readouterr().out  # no real view at (1, 1.5)


@pytest.mark.parametrize("argv, message", [
    (["--from", "diagonal"], "--from"),
    (["--from", "0,0.5"], "integer"),
    (["--target", "1,7"], "outside"),
    (["--target", "1,1;0,1"], "one position"),
    (["--method", "mpi", "--target", "1,1", "--out", "x.jpg"], ".png"),
    (["--method", "sideways"], "invalid choice"),
])
def test_synthesize_errors_are_one_line(scene, tmp_path, capsys, argv, message):
    out = ["--out", str(tmp_path / ("x.png" if "--target" in argv else "x"))]
    with pytest.raises(SystemExit) as exc:
        main(["synthesize", str(scene), *out, *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1


def test_method_names_match_the_registry():
    # "learned" is registered by the learned view-synthesis model
    assert set(SYNTHESIS_METHODS) - {"learned"} == set(METHODS) - {"learned"}
