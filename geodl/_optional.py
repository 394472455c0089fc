"""Lazy imports of heavy optional back-ends (open3d, trimesh).

open3d 0.20 links against ``libusb-1.0.so.0``, which many machines lack. The
``libusb-package`` wheel ships that library; we load it with RTLD_GLOBAL before
the first ``import open3d`` so that no manual system step is needed.
"""
from __future__ import annotations

import ctypes
import functools
from types import ModuleType


@functools.cache
def _preload_libusb() -> None:
    try:
        import libusb_package
    except ImportError:  # the system may provide libusb itself
        return
    path = libusb_package.get_library_path()
    if path is not None:
        ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)


@functools.cache
def open3d() -> ModuleType:
    """Return the ``open3d`` module, loading libusb first if needed."""
    _preload_libusb()
    import open3d as o3d

    return o3d


@functools.cache
def trimesh() -> ModuleType:
    """Return the ``trimesh`` module."""
    import trimesh as tm

    return tm
