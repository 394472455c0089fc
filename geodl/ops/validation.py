"""Input checks shared by the operators. Each raises ``ValueError`` (or
``TypeError``) naming the argument, what was expected and what came."""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def as_tensor(value, name: str, dtype: torch.dtype | None = None) -> Tensor:
    """Convert arrays and nested lists to a tensor, rejecting anything else."""
    if isinstance(value, Tensor):
        t = value
    elif isinstance(value, (np.ndarray, list, tuple)):
        try:
            t = torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name}: cannot convert to a tensor ({err})") from None
    else:
        raise TypeError(f"{name}: expected a tensor or array, got {type(value).__name__}")
    if dtype is not None:
        t = t.to(dtype)
    return t


def check_points(x, name: str = "verts", dim: int | None = 3,
                 dtype: torch.dtype | None = None) -> Tensor:
    """A finite floating (N, dim) tensor."""
    t = as_tensor(x, name)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name}: expected real coordinates, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    if t.dim() != 2 or (dim is not None and t.shape[1] != dim):
        want = f"(N, {dim})" if dim is not None else "(N, D)"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        bad = (~torch.isfinite(t)).any(dim=1).nonzero().flatten()[:5].tolist()
        raise ValueError(f"{name}: contains NaN or inf (first rows: {bad})")
    return t.to(dtype) if dtype is not None else t


def check_index(idx, name: str, num_nodes: int, width: int | None = None,
                rows: int | None = None) -> Tensor:
    """An integer index tensor with entries in ``[0, num_nodes)``.

    ``width`` fixes the second dimension (faces: 3), ``rows`` the first
    (edge_index: 2).
    """
    t = as_tensor(idx, name)
    if t.is_floating_point():
        if t.numel() and not torch.equal(t, t.round()):
            raise TypeError(f"{name}: expected integer indices, got non-integral {t.dtype}")
        t = t.long()
    elif t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name}: expected integer indices, got dtype {t.dtype}")
    t = t.long()
    if t.dim() != 2 or (width is not None and t.shape[1] != width) or (
            rows is not None and t.shape[0] != rows):
        shape = f"({rows if rows else 'R'}, {width if width else 'N'})"
        raise ValueError(f"{name}: expected shape {shape}, got {tuple(t.shape)}")
    if t.numel():
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(
                f"{name}: indices must lie in [0, {num_nodes}), got range [{lo}, {hi}]")
    return t


def check_faces(faces, num_verts: int) -> Tensor:
    """(F, 3) long faces indexing ``num_verts`` vertices."""
    return check_index(faces, "faces", num_verts, width=3)


def check_edge_index(edge_index, num_nodes: int) -> Tensor:
    """(2, E) long edge index indexing ``num_nodes`` nodes."""
    return check_index(edge_index, "edge_index", num_nodes, rows=2)


def check_positive(value, name: str) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return v


def check_batch(batch, num_nodes: int, name: str = "batch") -> Tensor:
    """(N,) long graph ids, non-decreasing like PyG's ``batch`` vector."""
    t = as_tensor(batch, name).long()
    if t.dim() != 1 or t.numel() != num_nodes:
        raise ValueError(f"{name}: expected shape ({num_nodes},), got {tuple(t.shape)}")
    if num_nodes and int(t.min()) < 0:
        raise ValueError(f"{name}: graph ids must be >= 0")
    return t
