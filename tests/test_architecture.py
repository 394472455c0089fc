"""The import rules of docs/architecture.md: lower layers never import higher
ones, no module imports itself through a circle, and no package reaches into
another package's private names."""
import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "geodl"
ALLOWED = {  # package -> the geodl packages its modules may import (besides itself)
    "_optional": set(),
    "io": set(),
    "ops": {"io", "_optional"},
    "structures": {"io", "ops", "_optional"},
    "nn": {"io", "ops", "structures", "_optional"},
    "render": {"io", "ops", "structures", "_optional"},
    "lightfield": {"io", "nn", "ops", "structures", "_optional"},
    "mvs": {"io", "lightfield", "nn", "structures", "ops", "_optional"},
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


# ------------------------------------------------- the module graph of geodl
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _imported(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported dotted name, line) of every import in the file, at any depth
    (function-level imports included): a module, or ``module.name`` for each
    name of ``from module import name``; relative imports resolved."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            out += [(f"{base}.{a.name}", node.lineno) for a in node.names]
    return [(name, line) for name, line in out if name.split(".")[0] == "geodl"]


def _target(name: str) -> str | None:
    """The geodl module an imported name lives in (the longest module prefix)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in MODULES:
            return ".".join(parts[:k])
    return None


GRAPH = {m: {t for name, _ in _imported(m, p) if (t := _target(name)) not in (None, m)}
         for m, p in MODULES.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    """No module imports itself through others, at module level or inside a
    function (a function-level import hides a circle, it does not remove it)."""
    circles = _circles(GRAPH)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_the_circle_finder_finds_circles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def _private_owner(name: str) -> str | None:
    """The package a private name belongs to, or None for a public name: a
    private module ``geodl.x._m`` belongs to ``geodl.x``; a private name
    ``_f`` of module ``geodl.x.m`` to the module's package ``geodl.x``."""
    parts = name.split(".")
    first = next((k for k, part in enumerate(parts) if _is_private(part)), None)
    if first is None:
        return None
    owner = ".".join(parts[:first])
    if owner in MODULES and MODULES[owner].name != "__init__.py":
        owner = owner.rpartition(".")[0]
    return owner


def _foreign_private_imports(module: str, path: Path) -> list[str]:
    wrong = []
    for name, line in _imported(module, path):
        if name.startswith("geodl._optional."):  # the layer that loads open3d, for everyone
            continue
        owner = _private_owner(name)
        if owner is not None and module != owner and not module.startswith(owner + "."):
            wrong.append(f"{path.relative_to(REPO)}:{line} imports {name} (private to {owner})")
    return wrong


def test_no_package_imports_another_packages_private_names():
    """``geodl.x._module`` and ``_name`` of ``geodl.x.y`` are for ``geodl.x``
    (and its sub-packages) alone; scripts outside the package use public names.
    ``geodl._optional`` (open3d after its libusb preload, trimesh) is for every
    layer and script."""
    scripts = [p for folder in ("benchmarks", "experiments", "datasets")
               for p in sorted((REPO / folder).rglob("*.py"))
               # not the caches beside them (a peer's virtual environment lives there)
               if "cache" not in p.relative_to(REPO).parts]
    wrong = [w for m, p in MODULES.items() for w in _foreign_private_imports(m, p)]
    wrong += [w for p in scripts for w in _foreign_private_imports("__main__", p)]
    assert not wrong, "\n".join(wrong)


def test_the_private_import_rule():
    assert _private_owner("geodl.nn.conv.propagation._glorot") == "geodl.nn.conv"
    assert _private_owner("geodl.nn._checks.check_features") == "geodl.nn"
    assert _private_owner("geodl._optional.open3d") == "geodl"
    assert _private_owner("geodl.nn.conv.propagation.prepare") is None


# ------------------------------------------------------ the tests' layout
def test_the_tests_mirror_the_package():
    """Every folder below tests/ mirrors a geodl package (tests/nn/conv for
    geodl/nn/conv) and is a package itself (an ``__init__.py``), so two test
    files of the same name in different folders never collide."""
    tests = REPO / "tests"
    folders = [d for d in sorted(tests.rglob("*")) if d.is_dir()
               and not any(p == "__pycache__" or p.startswith(".") for p in d.relative_to(tests).parts)]
    strays = [str(d.relative_to(REPO)) for d in folders if not (ROOT / d.relative_to(tests)).is_dir()]
    assert not strays, f"test folders without a geodl package of that name: {strays}"
    bare = [str(d.relative_to(REPO)) for d in [tests, *folders] if not (d / "__init__.py").is_file()]
    assert not bare, f"test folders without __init__.py: {bare}"
