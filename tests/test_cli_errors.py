"""Every subcommand, given bad arguments, ends with one line ``geodl: error:``
on stderr and exit code 2, before doing any work; ``--debug`` keeps the
traceback."""
import pytest

from geodl.cli import main

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
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_arguments_give_one_line_and_exit_2(name, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("do not overwrite")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in BAD[name]]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geodl: error: "), err
    assert "Traceback" not in err
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
