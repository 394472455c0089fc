"""On-disk cache of expensive derived data (eigenbases), keyed by content hash.

Each file stores the hash of the data it was computed from; a load whose
stored hash differs (a collision of the short file name, a stale or tampered
file) is treated as a miss. Files are read with ``weights_only=True``.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from geodl.io.atomic import atomic_path


def default_cache_dir() -> Path:
    """``$GEODL_CACHE_DIR``, else ``~/.cache/geodl``."""
    env = os.environ.get("GEODL_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "geodl"


def content_hash(*parts: object) -> str:
    """SHA-256 over tensors/arrays (dtype, shape and bytes) and plain values."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, torch.Tensor):
            p = p.detach().cpu().contiguous().numpy()
        if isinstance(p, np.ndarray):
            h.update(f"{p.dtype.str}{p.shape}".encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
        h.update(b"|")
    return h.hexdigest()


def load_cached(directory: Path, name: str, digest: str) -> dict | None:
    """The cached payload for ``digest``, or ``None`` on a miss or a bad file."""
    path = directory / f"{name}-{digest[:20]}.pt"
    if not path.exists():
        return None
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as err:  # truncated or foreign file: recompute
        warnings.warn(f"ignoring unreadable cache file {path}: {err}", RuntimeWarning,
                      stacklevel=2)
        return None
    if not isinstance(payload, dict) or payload.get("hash") != digest:
        warnings.warn(f"ignoring cache file {path}: content hash does not match",
                      RuntimeWarning, stacklevel=2)
        return None
    return payload


def save_cached(directory: Path, name: str, digest: str, payload: dict) -> Path:
    """Write ``payload`` (tensors and plain values) atomically; return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{digest[:20]}.pt"
    with atomic_path(path) as tmp:
        torch.save({**payload, "hash": digest}, tmp)
    return path


class VersionedCache:
    """In-memory cache of data derived from some tensors, emptied when they change.

    A container (``Mesh``, ``PointCloud``) owns private copies of its tensors
    and passes them to :meth:`store`. Every in-place torch operation on a
    tensor (``mesh.verts += 1``, ``mesh.verts[0] = p``, ``.add_()``) bumps
    its version counter (``Tensor._version``), so comparing the counters
    recorded when the cache was filled with the current ones is an O(1)
    test that catches every edit made through torch. Writes that bypass torch
    (through ``tensor.numpy()`` or ``tensor.data``) are not seen; reassign the
    attribute instead (``mesh.verts = new``), which empties the cache.
    """

    def __init__(self) -> None:
        self._data: dict = {}
        self._token: tuple | None = None

    def store(self, *sources: torch.Tensor) -> dict:
        """The cache dict, emptied first if any of ``sources`` changed since it was filled."""
        token = tuple((id(t), t._version) for t in sources)
        if token != self._token:
            self._data.clear()
            self._token = token
        return self._data

    def clear(self) -> None:
        self._data.clear()
        self._token = None
