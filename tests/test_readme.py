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


def test_readme_depth_quick_start_runs(tmp_path, monkeypatch, capsys):
    """The depth section's shell lines (through geodl's main) and its Python
    block, in a fresh folder, as pasted."""
    import shlex

    from geodl.cli import main
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Depth from a light field", 1)[1].split("\n## ", 1)[0]
    shell = re.findall(r"```bash\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(tmp_path)
    for line in shell.splitlines():
        argv = shlex.split(line.split("#", 1)[0])
        assert argv[0].endswith("geodl")
        assert main(argv[1:]) == 0, line
    assert (tmp_path / "disp.pfm").exists() and (tmp_path / "sub" / "disp_maps").is_dir()
    scope: dict = {}
    exec(compile(re.findall(r"```python\n(.*?)```", section, re.S)[0], "README.md", "exec"), scope)
    assert scope["disparity"].shape == (256, 256) and scope["depth"].shape == (256, 256)


def test_readme_reconstruction_quick_start_runs(tmp_path, monkeypatch, capsys):
    """The room-reconstruction section's shell lines and Python block, as pasted."""
    import shlex

    from geodl.cli import main
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## From light-field captures to a room mesh", 1)[1].split("\n## ", 1)[0]
    shell = re.findall(r"```bash\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(tmp_path)
    for line in shell.splitlines():
        argv = shlex.split(line.split("#", 1)[0])
        assert argv[0].endswith("geodl")
        assert main(argv[1:]) == 0, line
    assert "F " in capsys.readouterr().out  # scored against caps/room_gt.ply
    assert (tmp_path / "room.html").stat().st_size > 10_000
    scope: dict = {}
    exec(compile(re.findall(r"```python\n(.*?)```", section, re.S)[0], "README.md", "exec"), scope)
    assert 0 <= scope["evaluate_reconstruction"](scope["result"].mesh, scope["gt"], [
        lf.camera for lf in scope["captures"]]).fscore <= 1


def test_readme_synthesis_lines_run(tmp_path, monkeypatch, capsys):
    """The view-synthesis section's shell lines, as pasted."""
    import shlex

    from geodl.cli import main
    from geodl.lightfield import load_hci
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## New views from a few", 1)[1].split("\n## ", 1)[0]
    shell = re.findall(r"```bash\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(tmp_path)
    for line in shell.splitlines():
        argv = shlex.split(line.split("#", 1)[0])
        assert argv[0].endswith("geodl")
        assert main(argv[1:]) == 0, line
    assert load_hci(tmp_path / "synth").views.shape[:2] == (5, 5)
    assert (tmp_path / "between.png").stat().st_size > 1000
