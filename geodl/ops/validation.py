"""Input checks shared by the operators, the structures and the layers: the
one place where geodl validates its inputs. Each raises ``ValueError`` (or
``TypeError``) naming the argument, what was expected and what came.

Checks that read tensor values (index ranges, finiteness) are skipped while
``torch.compile`` traces (reading a value would break the graph); eager runs
make them.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence, TypeVar, Union

import numpy as np
import torch
from torch import Tensor

C = TypeVar("C")


def _compiling() -> bool:
    return torch.compiler.is_compiling()


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


def check_edge_index(edge_index, size: Union[int, Sequence[int]],
                     name: str = "edge_index") -> Tensor:
    """(2, E) integer edge index, row 0 the sources and row 1 the targets.

    ``size`` is the number of nodes N, or ``(N_src, N_dst)`` for a bipartite
    graph: sources must lie in ``[0, N_src)`` and targets in ``[0, N_dst)``.
    Arrays and lists are converted; floating, boolean or complex indices are
    refused (an index stored as a float is almost always a mix-up of
    arguments). Returns the index as ``torch.long``.
    """
    if not isinstance(edge_index, Tensor):
        edge_index = as_tensor(edge_index, name)
    if edge_index.is_floating_point() or edge_index.is_complex() or edge_index.dtype == torch.bool:
        raise ValueError(f"{name}: expected integer indices (torch.long), got {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"{name}: expected shape (2, E), got {tuple(edge_index.shape)}")
    n_src, n_dst = (size, size) if isinstance(size, (int, np.integer)) else (int(size[0]),
                                                                          int(size[1]))
    if not _compiling() and edge_index.numel():
        lo = edge_index.amin(1).tolist()
        hi = edge_index.amax(1).tolist()
        if min(lo) < 0 or hi[0] >= n_src or hi[1] >= n_dst:
            raise ValueError(f"{name}: sources must lie in [0, {n_src}) and targets in "
                             f"[0, {n_dst}), got ranges [{lo[0]}, {hi[0]}] and "
                             f"[{lo[1]}, {hi[1]}]")
    return edge_index.long()


def check_edge_weight(edge_weight: Optional[Tensor], num_edges: int,
                      nonnegative: bool = False, name: str = "edge_weight") -> None:
    """(E,) finite floating weights (and >= 0 where a degree normalisation
    takes their roots); None passes."""
    if edge_weight is None:
        return
    if not isinstance(edge_weight, Tensor) or not edge_weight.is_floating_point():
        got = edge_weight.dtype if isinstance(edge_weight, Tensor) else type(edge_weight).__name__
        raise ValueError(f"{name}: expected a floating tensor of shape ({num_edges},), got {got}")
    if edge_weight.dim() != 1 or edge_weight.shape[0] != num_edges:
        raise ValueError(f"{name}: expected shape ({num_edges},), got {tuple(edge_weight.shape)}")
    if _compiling():
        return
    if not bool(torch.isfinite(edge_weight).all()):
        raise ValueError(f"{name}: contains NaN or inf")
    if nonnegative and edge_weight.numel() and bool((edge_weight < 0).any()):
        raise ValueError(f"{name}: expected non-negative weights (the degree normalisation "
                         f"takes their square root), got minimum {float(edge_weight.min())}")


def check_edge_attr(edge_attr: Optional[Tensor], num_edges: int,
                    name: str = "edge_attr") -> None:
    """(E,) or (E, D) floating edge features; None passes."""
    if edge_attr is None:
        return
    if not isinstance(edge_attr, Tensor) or edge_attr.dim() not in (1, 2) or \
            edge_attr.shape[0] != num_edges:
        got = tuple(edge_attr.shape) if isinstance(edge_attr, Tensor) else type(edge_attr).__name__
        raise ValueError(f"{name}: expected shape ({num_edges}, D), got {got}")
    if not edge_attr.is_floating_point():
        raise ValueError(f"{name}: expected floating edge features, got {edge_attr.dtype}")


def check_features(x, channels: int = -1, num_nodes: Optional[int] = None, *,
                   batched: bool = False, name: str = "x") -> None:
    """Node features (N, channels), or also (B, N, channels) with ``batched``
    (one graph, B feature sets). ``channels <= 0`` (lazy) and ``num_nodes``
    None check nothing of that size."""
    ranks = (2, 3) if batched else (2,)
    c = str(channels) if channels > 0 else "F"
    rows = "N" if num_nodes is None else str(num_nodes)
    want = f"({rows}, {c})" + (f" or (B, {rows}, {c})" if batched else "")
    if not isinstance(x, Tensor) or x.dim() not in ranks or (
            channels > 0 and x.shape[-1] != channels) or (
            num_nodes is not None and x.shape[-2] != num_nodes):
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name}: expected shape {want}, got {got}")


def check_channels(value, name: str, lazy: bool = False) -> None:
    """A positive number of channels (or -1 for lazy ones, where allowed)."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and (
        value >= 1 or (lazy and value == -1))
    if not ok:
        want = "a positive int" + (" or -1 (inferred on the first call)" if lazy else "")
        raise ValueError(f"{name}: expected {want}, got {value!r}")


def check_dtype(x: Tensor, dtype: Optional[torch.dtype], owner: str, name: str = "x") -> None:
    """``x`` must have the dtype of the parameters it meets (``dtype``; None:
    none to meet). Under autocast the layer casts itself, so anything passes."""
    if dtype is None or x.dtype == dtype or torch.is_autocast_enabled(x.device.type):
        return
    fix = f"pass {name}.to({dtype})"
    if x.is_floating_point():
        fix += f" or convert the layer with .to({x.dtype})"
    raise ValueError(f"{name}: dtype {x.dtype} does not match {owner}'s parameters ({dtype}); "
                     f"{fix}")


#: PyG's aggregation names and the reduction each one is ('add' is 'sum').
AGGR = {"add": "sum", "sum": "sum", "mean": "mean", "max": "max", "min": "min"}


def check_aggr(aggr: str, allowed: tuple[str, ...]) -> str:
    """PyG's aggregation names ('add' is 'sum'); returns the canonical one."""
    canon = AGGR.get(aggr) if isinstance(aggr, str) else None
    if canon is None or canon not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"aggr: expected one of {names} (or 'add' for 'sum'), got {aggr!r}")
    return canon


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


def finite_range(t: Tensor) -> tuple[float, float] | None:
    """(min, max) of ``t`` when every value is finite, else None; ``(0.0,
    0.0)`` for an empty tensor. One min and max (NaN propagates into both),
    through NumPy on the CPU: its single thread checks an image in a fraction
    of a millisecond where torch's thread pool, on a busy machine, took
    25-90 ms per frame."""
    if t.numel() == 0:
        return 0.0, 0.0
    if t.device.type == "cpu":
        a = t.detach().numpy()
        lo, hi = float(a.min()), float(a.max())
    else:
        lo, hi = (float(v) for v in torch.aminmax(t.detach()))
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None


def with_options(config_type: type[C], config: C | None, options: dict,
                 owner: str) -> C:
    """The settings a function runs with: ``config`` (a frozen dataclass of
    type ``config_type``; None: its defaults) with the keyword ``options``
    (field name -> value) replacing its fields. A keyword that is no field
    raises ``TypeError`` naming it and ``owner`` (the function), as an
    unexpected keyword argument would."""
    if config is None:
        config = config_type()
    elif not isinstance(config, config_type):
        raise TypeError(f"config: expected a {config_type.__name__}, got {type(config).__name__}")
    names = [f.name for f in dataclasses.fields(config_type)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise TypeError(f"{owner}: unknown option(s) {', '.join(map(repr, unknown))}; "
                        f"expected fields of {config_type.__name__}: {', '.join(names)}")
    return dataclasses.replace(config, **options) if options else config
