"""The README's Python quick start runs as pasted."""
import re
from pathlib import Path


def test_readme_python_snippet_runs(capsys):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README has no python block"
    scope: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    assert scope["out"].shape == (2562, 4) and scope["edge_index"].shape == (2, 5000 * 16)


def _run_section(title: str, tmp_path, monkeypatch) -> dict:
    """Run the ``geodl`` lines of README section ``title``'s first bash block
    through geodl's main, in ``tmp_path``, then its Python block if it has one;
    returns the Python block's variables."""
    import shlex

    from geodl.cli import main
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    shell = re.findall(r"```bash\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(tmp_path)
    for line in shell.splitlines():
        argv = shlex.split(line.split("#", 1)[0])
        assert argv[0].endswith("geodl")
        assert main(argv[1:]) == 0, line
    scope: dict = {}
    for block in re.findall(r"```python\n(.*?)```", section, re.S)[:1]:
        exec(compile(block, "README.md", "exec"), scope)
    return scope


def test_readme_depth_quick_start_runs(tmp_path, monkeypatch, capsys):
    """The depth section's shell lines and Python block, in a fresh folder, as pasted."""
    scope = _run_section("Depth from a light field", tmp_path, monkeypatch)
    assert (tmp_path / "disp.pfm").exists() and (tmp_path / "sub" / "disp_maps").is_dir()
    assert scope["disparity"].shape == (256, 256) and scope["depth"].shape == (256, 256)


def test_readme_reconstruction_quick_start_runs(tmp_path, monkeypatch, capsys):
    """The room-reconstruction section's shell lines and Python block, as pasted."""
    scope = _run_section("From light-field captures to a room mesh", tmp_path, monkeypatch)
    assert "F " in capsys.readouterr().out  # scored against caps/room_gt.ply
    assert (tmp_path / "room.html").stat().st_size > 10_000
    cameras = [lf.camera for lf in scope["captures"]]
    assert 0 <= scope["evaluate_reconstruction"](scope["result"].mesh, scope["gt"],
                                                 cameras).fscore <= 1


def test_readme_rgbd_quick_start_runs(tmp_path, monkeypatch, capsys):
    """The RGB-D section's shell lines and Python block, as pasted."""
    scope = _run_section("Rooms from RGB-D scans", tmp_path, monkeypatch)
    assert "F " in capsys.readouterr().out  # scored against scan/room_gt.ply
    assert (tmp_path / "scan.ply").is_file() and len(scope["frames"]) == 16
    assert scope["evaluate_reconstruction"](scope["result"].mesh, scope["gt"],
                                            scope["cameras"]).fscore > 0.9


def test_readme_synthesis_lines_run(tmp_path, monkeypatch, capsys):
    """The view-synthesis section's shell lines, as pasted."""
    from geodl.lightfield import load_hci

    _run_section("New views from a few", tmp_path, monkeypatch)
    assert load_hci(tmp_path / "synth").views.shape[:2] == (5, 5)
    assert (tmp_path / "between.png").stat().st_size > 1000
