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
