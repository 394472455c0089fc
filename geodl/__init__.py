"""geodl: geometric deep learning on graphs, meshes, point clouds and light fields.

Sub-packages are imported on first use so that ``import geodl`` stays fast
(open3d and trimesh are loaded only by the routines that need them).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBPACKAGES = ("ops", "structures", "nn", "lightfield", "render", "recon",
                "datasets", "viz", "testing", "cli")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"geodl.{name}")
    raise AttributeError(f"module 'geodl' has no attribute {name!r}")
