"""``geodl demo --quick`` end to end (tiny captures), and ``geodl reconstruct``
on the captures folder it writes."""
import re

import pytest

from geodl.cli import main
from geodl.recon import load_room_ground_truth
from geodl.structures import Mesh


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["demo", "--quick", "--out", str(out)]) == 0
    return out, buffer.getvalue()


def test_demo_quick_writes_the_pipeline_outputs(demo_run):
    out, printed = demo_run
    for name in ("room.ply", "points.ply", "disparity.png", "novel_view.png", "room.png",
                 "report.html", "captures/room_gt.ply", "captures/captures.json"):
        assert (out / name).is_file(), name
    mesh = Mesh.load(out / "room.ply")
    assert mesh.num_faces > 100 and mesh.colors is not None
    html = (out / "report.html").read_text()
    for text in ("F-score", "reconstruction (estimated disparity)", "ground truth", "capture_00"):
        assert text in html, text
    # the ceiling row: fusing ground-truth depth must reproduce the room even at 64 px
    # (0.95 measured); the estimated row only has to be a number at this size
    f_gt = float(re.search(r"ground-truth depth \(ceiling\)\s+F ([0-9.]+)", printed).group(1))
    assert f_gt > 0.85, printed
    assert re.search(r"estimated disparity \(refine_net\)\s+F [0-9.]+", printed)
    assert "Summary" in printed


def test_demo_reruns_into_its_own_folder(demo_run, capsys):
    out, _ = demo_run
    assert main(["demo", "--quick", "--out", str(out)]) == 0


def test_reconstruct_command_on_the_demo_captures(demo_run, tmp_path, capsys):
    out, _ = demo_run
    mesh_path = tmp_path / "room.ply"
    args = ["reconstruct", str(out / "captures"), "--out", str(mesh_path), "--method",
            "ground_truth", "--voxel", "0.05", "--points", str(tmp_path / "points.ply")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    f = float(re.search(r"F ([0-9.]+), precision", printed).group(1))
    assert f > 0.85, printed
    gt, ids, names = load_room_ground_truth(out / "captures")
    assert Mesh.load(mesh_path).num_faces > 100 and (tmp_path / "points.ply").is_file()
    with pytest.raises(SystemExit):  # the mesh exists now
        main(args)
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0


def test_reconstruct_command_defaults_to_the_library_default():
    """The CLI leaves the method to reconstruct_room (which picks it by the
    kind of capture), and spells out the method names and capture kinds
    (importing geodl.recon for them would cost every command seconds): they
    must be the library's."""
    from geodl.cli import CAPTURE_KINDS, POSED_METHODS, build_parser
    from geodl.recon.captures import CAPTURE_KINDS as LIBRARY_KINDS
    from geodl.recon.reconstruct import MVS, SENSOR
    args = build_parser().parse_args(["reconstruct", "captures", "--out", "room.ply"])
    assert args.method is None and args.voxel is None and not args.no_planes
    assert CAPTURE_KINDS == LIBRARY_KINDS and POSED_METHODS == (SENSOR, MVS)
