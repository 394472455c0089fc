"""Sphinx configuration: the API reference from the docstrings (autodoc,
napoleon) and the topic pages in ``notes/`` (Markdown, MyST). ``make docs``
builds it with warnings as errors, so every cross-reference must resolve."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.abspath(".."))

project = "geodl"
author = "geodl contributors"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon",
              "sphinx.ext.mathjax", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "learned_depth.md", "learned_synthesis.md", "viewer", "*.jsonl"]
templates_path = ["_templates"]
html_theme = "alabaster"
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

autosummary_generate = True


def _alias_modules() -> list[str]:
    """Deprecated module paths (a module that replaces itself in
    ``sys.modules`` by the module it names): documented where they lead, so
    the API reference lists them under no page of their own."""
    root = Path(__file__).resolve().parents[1]
    return sorted(".".join(p.relative_to(root).with_suffix("").parts)
                  for p in (root / "geodl").rglob("*.py")
                  if "sys.modules[__name__] = " in p.read_text())


autosummary_context = {"alias_modules": _alias_modules()}
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True,
                           "ignore-module-all": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_typehints_format = "fully-qualified"  # "~typing.Any" splits signatures in Sphinx 9
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# Every reference into geodl must resolve; references to other libraries cannot
# without their inventories (the build reads nothing from the network).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(torch|torch_geometric|numpy|np|scipy|networkx|nx|trimesh|open3d|o3d|PIL|skimage"
               r"|matplotlib|pycolmap|tqdm|pathlib|typing|collections|dataclasses|enum|abc|argparse|os|types"
               r")(\..*)?"),
    (r"py:class", r"(.*\.)?[A-Z]"),  # type variables (T, R)
    (r"py:.*", r"(Tensor|nn\.Module|Module|Parameter|ndarray|Path|Data|Batch|SparseTensor|Generator"
               r"|device|dtype|Figure|Axes|Callable|Sequence|Iterable|Iterator|Mapping|Any|Literal)"),
]
napoleon_use_ivar = True  # "Attributes:" as fields: a dataclass's fields are documented once


def _canonical(target: str, module: str | None, cls: str | None) -> str | None:
    """The documented name of ``target``, looked up in Python as written in the
    docstring (absolute, or relative to the current module or class): a name a
    package re-exports, or one a module imports, is documented where it is defined."""
    candidates = [target]
    if module:
        candidates += [f"{module}.{cls}.{target}" if cls else None, f"{module}.{target}"]
    for name in filter(None, candidates):
        parts = name.split(".")
        for k in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:k]))
            except ImportError:
                continue
            try:
                for attr in parts[k:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            if isinstance(obj, type(sys)):
                return obj.__name__
            if isinstance(obj, property):
                obj = obj.fget
            home, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
            if home and qual and home.startswith("geodl"):
                return f"{home}.{qual}"
            return _documented_as(obj, parts[-1])
    return None


_DOCUMENTED: dict[str, list[str]] = {}  # last name -> documented full names


def _documented_as(obj, name: str) -> str | None:
    """The documented full name of a constant (no ``__module__`` to follow):
    the documented object of the same last name that is the same object."""
    for full in _DOCUMENTED.get(name, []):
        module, _, attr = full.rpartition(".")
        try:
            if getattr(importlib.import_module(module), attr) is obj:
                return full
        except (ImportError, AttributeError):
            continue
    return None


def _resolve_reexports(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    if not _DOCUMENTED:
        for full in env.get_domain("py").objects:
            _DOCUMENTED.setdefault(full.rpartition(".")[2], []).append(full)
    target = _canonical(node["reftarget"], node.get("py:module"), node.get("py:class"))
    if target is None and not node["reftarget"].startswith("geodl."):
        # a short name (``ChebConv``, ``LightFieldRig.depth_to_disparity``) that
        # names exactly one documented object
        suffix = "." + node["reftarget"]
        found = {full for names in _DOCUMENTED.values() for full in names if full.endswith(suffix)}
        target = found.pop() if len(found) == 1 else None
    if target is None or target == node["reftarget"]:
        return None
    domain = env.get_domain("py")
    for role in (node["reftype"], "obj"):
        found = domain.resolve_xref(env, node["refdoc"], app.builder, role, target,
                                    node.copy(), contnode)
        if found is not None:
            return found
    return None


def _factory_defaults(app, what, name, obj, options, signature, return_annotation):
    """A dataclass field with a ``default_factory`` shows the default
    ``<factory>``, which is no Python expression: Sphinx would then split the
    signature at every comma (``dict[str, Any]`` into two parameters)."""
    if signature and "<factory>" in signature:
        signature = signature.replace("<factory>", "...")
    return signature, return_annotation


def setup(app):
    app.connect("missing-reference", _resolve_reexports)
    app.connect("autodoc-process-signature", _factory_defaults)
