"""Results get the permissions a plain ``open`` / ``mkdir`` gives under the
user's umask, although every writer goes through a temporary sibling and a
rename (``tempfile.mkstemp`` / ``mkdtemp`` would leave them 0600 / 0700)."""
import os
import stat

import numpy as np
import pytest
import torch

from geodl.cli import main
from geodl.io.atomic import atomic_path, staging_folder, temporary_sibling, write_bytes_atomic
from geodl.lightfield import write_hci_scene
from geodl.lightfield.benchmark import write_submission
from geodl.structures import LightField, PinholeCamera


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _assert_plain_modes(root, umask):
    """Every folder under ``root`` is 0777 & ~umask, every file 0666 & ~umask
    (``root`` itself is pytest's, made private)."""
    found = 0
    for here, dirs, files in os.walk(root):
        for d in dirs:
            assert _mode(os.path.join(here, d)) == 0o777 & ~umask, os.path.join(here, d)
        for f in files:
            assert _mode(os.path.join(here, f)) == 0o666 & ~umask, os.path.join(here, f)
            found += 1
    assert found, f"nothing written under {root}"


def test_the_atomic_writers_give_plain_modes_and_leave_no_temporary(tmp_path, umask):
    write_bytes_atomic(tmp_path / "a.txt", b"x")
    with atomic_path(tmp_path / "sub" / "b.npz") as tmp:
        assert tmp.suffix == ".npz" and tmp.parent == tmp_path / "sub"
        np.savez(tmp, a=np.zeros(2))
    with staging_folder(tmp_path / "scene") as tmp:
        (tmp / "c.txt").write_text("c")
        os.rename(tmp, tmp_path / "scene")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "b.npz", "c.txt", "scene",
                                                          "sub"]
    _assert_plain_modes(tmp_path, umask)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(ZeroDivisionError), atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("half")
        raise ZeroDivisionError
    with pytest.raises(ZeroDivisionError), staging_folder(tmp_path / "s") as tmp:
        (tmp / "x").write_text("half")
        raise ZeroDivisionError
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old"


def test_temporary_names_are_fresh_hidden_siblings(tmp_path):
    a, b = temporary_sibling(tmp_path / "x.png"), temporary_sibling(tmp_path / "x.png")
    assert a != b and a.name.startswith(".x.png.") and a.suffix == ".png"


def _tiny_light_field() -> LightField:
    views = torch.rand(3, 3, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    camera = PinholeCamera.look_at([0.0, 0, 0], [0, 0, 1], up=[0, -1, 0], width=12, height=12)
    return LightField(views, camera, baseline=0.01, focus_distance=1.0)


def test_scene_folders_and_submissions_are_readable_by_others(tmp_path, umask):
    write_hci_scene(tmp_path / "scene", _tiny_light_field(), scene="s")
    write_hci_scene(tmp_path / "scene", _tiny_light_field(), scene="s", overwrite=True)
    write_submission(tmp_path / "sub", "s", torch.zeros(4, 5), 1.5)
    _assert_plain_modes(tmp_path, umask)


def test_the_commands_outputs_are_readable_by_others(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert main(["render-lightfield", str(tmp_path / "lf"), "--size", "16", "--grid", "3",
                     "--supersample", "1"]) == 0
        assert main(["render-captures", str(tmp_path / "cap"), "--size", "16", "--grid", "3",
                     "--captures", "1"]) == 0
        scene = tmp_path / "lf" / "geodl_room_0000"
        assert main(["synthesize", str(scene), "--method", "nearest",
                     "--out", str(tmp_path / "syn")]) == 0
        assert main(["depth", str(tmp_path / "lf"), "--method", "structure_tensor",
                     "--out", str(tmp_path / "sub")]) == 0
    finally:
        os.umask(old)
    _assert_plain_modes(tmp_path, 0o022)


def test_a_writer_fills_only_an_absent_or_empty_folder_unless_told(tmp_path):
    from geodl.io.atomic import check_output_folder

    assert check_output_folder(str(tmp_path / "new"), False, "x") == tmp_path / "new"
    assert check_output_folder(tmp_path, False, "x") == tmp_path  # empty
    (tmp_path / "kept.txt").write_text("data")
    with pytest.raises(FileExistsError, match="not empty.*replaces the scan in it"):
        check_output_folder(tmp_path, False, "the scan in it")
    assert check_output_folder(tmp_path, True, "x") == tmp_path
    with pytest.raises(NotADirectoryError, match="kept.txt: exists and is not a folder"):
        check_output_folder(tmp_path / "kept.txt", True, "x")
    assert (tmp_path / "kept.txt").read_text() == "data"
