"""The import rules of docs/architecture.md: lower layers never import higher ones."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "geodl"
ALLOWED = {  # package -> the geodl packages its modules may import (besides itself)
    "_optional": set(),
    "io": set(),
    "ops": {"io", "_optional"},
    "structures": {"io", "ops", "_optional"},
    "nn": {"io", "ops", "structures", "_optional"},
    "render": {"io", "structures", "_optional"},
    "lightfield": {"io", "nn", "ops", "structures", "_optional"},
    "mvs": {"io", "lightfield", "structures", "ops", "_optional"},
    "recon": {"io", "mvs", "lightfield", "render", "structures", "ops", "nn", "_optional"},
    "datasets": {"io", "mvs", "recon", "lightfield", "render", "nn", "ops", "structures", "_optional"},
    "viz": {"io", "structures", "render", "lightfield", "ops", "_optional"},
    "testing": {"io", "nn", "structures", "ops"},
    "training": {"io", "mvs", "datasets", "recon", "lightfield", "render", "nn", "ops", "structures",
                 "_optional"},
}


def _package(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "geodl":
                names = [f"geodl.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "geodl" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("path", sorted(p for p in ROOT.rglob("*.py")
                                        if _package(p) in ALLOWED), ids=str)
def test_layers_import_only_what_they_may(path):
    own = _package(path)
    wrong = _imports(path) - ALLOWED[own] - {own}
    assert not wrong, f"{path.relative_to(ROOT)} ({own}) imports {sorted(wrong)}"
