"""Every subcommand, given bad arguments, ends with one line ``geodl: error:``
on stderr and exit code 2, before doing any work; ``--debug`` keeps the
traceback."""
import pytest

from geodl.cli import main
from geodl.structures import Mesh

BAD = {
    "no command": [],
    "unknown command": ["frobnicate"],
    "spectrum: no mesh": ["spectrum"],
    "spectrum: missing file": ["spectrum", "no/such/mesh.ply"],
    "spectrum: bad recipe": ["spectrum", "icosphere:x"],
    "spectrum: k = 0": ["spectrum", "icosphere:1", "-k", "0"],
    "spectrum: png needs two pairs": ["spectrum", "icosphere:1", "-k", "1", "--png", "x.png"],
    "spectrum: png name": ["spectrum", "icosphere:1", "--png", "x.txt"],
    "check: missing file": ["check", "nothing.obj"],
    "render: size 0": ["render-lightfield", "{tmp}/r", "--size", "0"],
    "render: size not a number": ["render-lightfield", "{tmp}/r", "--size", "big"],
    "render: even grid": ["render-lightfield", "{tmp}/r", "--grid", "4"],
    "render: negative seed": ["render-lightfield", "{tmp}/r", "--seed", "-3"],
    "render: benchmark with seed": ["render-lightfield", "{tmp}/r", "--benchmark", "--seed", "4"],
    "render: contact sheet name": ["render-lightfield", "{tmp}/r", "--contact-sheet", "x.txt"],
    "render: contact sheet folder": ["render-lightfield", "{tmp}/r", "--contact-sheet",
                                     "{tmp}/none/x.png"],
    "captures: none": ["render-captures", "{tmp}/r", "--captures", "0"],
    "captures: even grid": ["render-captures", "{tmp}/r", "--grid", "2"],
    "captures: fov": ["render-captures", "{tmp}/r", "--fov", "180"],
    "captures: negative seed": ["render-captures", "{tmp}/r", "--seed", "-1"],
    "captures: someone's folder": ["render-captures", "{tmp}/mine", "--size", "16",
                                   "--grid", "3"],
    "evaluate: no submission": ["evaluate-lightfield", "{tmp}/sub", "{tmp}"],
    "depth: no folder": ["depth", "{tmp}/nothing", "--out", "{tmp}/d.pfm"],
    "depth: not a scene": ["depth", "{tmp}", "--out", "{tmp}/d.pfm"],
    "depth: no out": ["depth", "{tmp}"],
    "depth: unknown method": ["depth", "{tmp}", "--method", "magic", "--out", "x.pfm"],
    "view: missing file": ["view", "{tmp}/none.ply", "--html", "{tmp}/v.html"],
    "demo: someone's folder": ["demo", "--out", "{tmp}/mine"],
    "reconstruct: no folder": ["reconstruct", "{tmp}/nothing", "--out", "{tmp}/room.ply"],
    "reconstruct: no captures": ["reconstruct", "{tmp}", "--out", "{tmp}/room.ply"],
    "reconstruct: mesh format": ["reconstruct", "{tmp}", "--out", "{tmp}/room.txt"],
    "reconstruct: points format": ["reconstruct", "{tmp}", "--out", "{tmp}/room.ply",
                                   "--points", "{tmp}/p.obj"],
    "reconstruct: voxel": ["reconstruct", "{tmp}", "--out", "{tmp}/room.ply", "--voxel", "0"],
    "reconstruct: sfm without photos": ["reconstruct", "{tmp}", "--sfm", "--out", "{tmp}/room.ply"],
    "photos: count": ["render-captures", "{tmp}/p", "--kind", "photos", "--photos", "5"],
    "reconstruct: method": ["reconstruct", "{tmp}", "--out", "{tmp}/room.ply", "--method", "x"],
    "spectrum: negative level": ["spectrum", "icosphere:-1"],
    "spectrum: beyond memory": ["spectrum", "icosphere:9"],
    "spectrum: grid beyond memory": ["spectrum", "grid:100000x100000"],
    "render: size beyond memory": ["render-lightfield", "{tmp}/r", "--size", "100000"],
    "captures: size beyond memory": ["render-captures", "{tmp}/r", "--size", "100000"],
    "view: html is a folder": ["view", "{tmp}/mesh.ply", "--html", "{tmp}/mine"],
    "view: png is a folder": ["view", "{tmp}/mesh.ply", "--png", "{tmp}/mine"],
    "view: empty ply": ["view", "{tmp}/empty.ply", "--html", "{tmp}/v.html"],
    "view: binary parameters.cfg": ["view", "{tmp}/binary_scene", "--html", "{tmp}/v.html"],
    "depth: binary parameters.cfg": ["depth", "{tmp}/binary_scene", "--out", "{tmp}/d.pfm"],
}

_EMPTY_PLY = (b"ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\n"
              b"property float z\nend_header\n")


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_arguments_give_one_line_and_exit_2(name, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("do not overwrite")
    (tmp_path / "empty.ply").write_bytes(_EMPTY_PLY)
    Mesh.icosphere(1).save(tmp_path / "mesh.ply")
    (tmp_path / "binary_scene").mkdir()
    (tmp_path / "binary_scene" / "parameters.cfg").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in BAD[name]]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geodl: error: "), err
    assert "Traceback" not in err
    assert "--force" not in err or "exists" in err or "not empty" in err
    for named in ("empty.ply", "parameters.cfg"):  # a bad file is named
        if any(named.split(".")[0] in a for a in argv):
            assert named in err or "binary_scene" in err, err
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "do not overwrite"
    assert not (tmp_path / "r").exists()  # refused before any work


def test_debug_keeps_the_traceback(tmp_path):
    with pytest.raises(ValueError, match="-k"):
        main(["--debug", "spectrum", "icosphere:1", "-k", "0"])


def test_a_render_into_an_existing_scene_is_refused_unless_forced(tmp_path, capsys):
    args = ["render-lightfield", str(tmp_path), "--size", "16", "--grid", "3"]
    assert main(args) == 0
    with pytest.raises(SystemExit):
        main(args)
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0


def test_running_out_of_memory_is_one_line_naming_the_size(monkeypatch, capsys):
    import numpy as np

    import geodl.cli

    def greedy(args):
        return np.empty((2 ** 30, 2 ** 20))  # 8 PiB: numpy names the size it asked for

    monkeypatch.setattr(geodl.cli, "cmd_info", greedy)
    with pytest.raises(SystemExit) as exit_:
        main(["info"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("geodl: error: out of memory") and "PiB" in err, err


def test_a_benchmark_seed_rendered_without_benchmark_is_announced(monkeypatch, capsys):
    import geodl.datasets

    monkeypatch.setattr(geodl.datasets, "write_room_scenes", lambda *a, **k: [])
    assert main(["render-lightfield", "unused", "--seed", "9003", "--size", "16"]) == 0
    assert "9003 is a benchmark room" in capsys.readouterr().err
    assert main(["render-lightfield", "unused", "--seed", "3", "--size", "16"]) == 0
    assert "benchmark" not in capsys.readouterr().err


def test_depth_of_a_scene_too_small_to_score_writes_the_disparity(tmp_path, capsys):
    assert main(["render-lightfield", str(tmp_path / "lf"), "--size", "16", "--grid", "3",
                 "--supersample", "1"]) == 0
    out = tmp_path / "d.pfm"
    assert main(["depth", str(tmp_path / "lf" / "geodl_room_0000"), "--method",
                 "structure_tensor", "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".png").is_file()
    assert "not scored" in capsys.readouterr().out
