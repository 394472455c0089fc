"""Which views: source-set specs, target positions, and where disparity comes from.

A spec names grid positions (u, v) = (view row, view column) of a U x V grid:

* ``corners``: the four corner views; ``inner-corners``: the corners of the
  grid one view in from each side (the (U-2) x (V-2) inner grid);
* ``cross``: the centre row and column ends and the centre
  ((0, c0), (r0, 0), (r0, c0), (r0, V-1), (U-1, c0));
* ``all-but-centre``, ``all``;
* ``"U,V;U,V;..."``: explicit positions (integers for sources; targets may
  be fractional, e.g. ``"4,4.5"``).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from geodl.structures import LightField

#: (u, v) -> (H, W) disparity of the view at that grid position
DisparityAt = Callable[[float, float], Tensor]

SPECS = ("corners", "inner-corners", "cross", "all-but-centre", "all")


def named_positions(spec: str, grid: tuple[int, int]) -> list[tuple[int, int]]:
    """The positions of a named spec (see the module docstring)."""
    U, V = grid
    r0, c0 = U // 2, V // 2
    if spec == "corners":
        pos = [(0, 0), (0, V - 1), (U - 1, 0), (U - 1, V - 1)]
    elif spec == "inner-corners":
        if U < 3 or V < 3:
            raise ValueError(f"sources: 'inner-corners' needs a grid of at least 3 x 3, got {U} x {V}")
        pos = [(1, 1), (1, V - 2), (U - 2, 1), (U - 2, V - 2)]
    elif spec == "cross":
        pos = [(0, c0), (r0, 0), (r0, c0), (r0, V - 1), (U - 1, c0)]
    elif spec == "all-but-centre":
        pos = [(r, c) for r in range(U) for c in range(V) if (r, c) != (r0, c0)]
    elif spec == "all":
        pos = [(r, c) for r in range(U) for c in range(V)]
    else:
        raise ValueError(f"sources: expected one of {', '.join(SPECS)} or 'U,V;U,V;...', got {spec!r}")
    return list(dict.fromkeys(pos))  # small grids repeat corners


def parse_positions(spec, grid: tuple[int, int], integer: bool = True, name: str = "sources"
                    ) -> list[tuple]:
    """Grid positions from a spec string or a sequence of (u, v) pairs.

    ``integer``: positions must be grid views (ints); otherwise any real
    position inside the grid's extent [0, U-1] x [0, V-1]. Duplicates are
    dropped (first kept). Raises ``ValueError`` naming ``name``."""
    U, V = grid
    if isinstance(spec, str):
        s = spec.strip()
        if s in SPECS:
            return named_positions(s, grid)
        pairs = []
        for part in filter(None, (p.strip() for p in s.split(";"))):
            bits = part.split(",")
            try:
                if len(bits) != 2:
                    raise ValueError
                pairs.append((float(bits[0]), float(bits[1])))
            except ValueError:
                raise ValueError(f"{name}: expected one of {', '.join(SPECS)} or 'U,V;U,V;...', "
                                 f"got {spec!r} (bad part {part!r})") from None
    else:
        try:
            pairs = [(float(p[0]), float(p[1])) for p in spec]
            if any(len(p) != 2 for p in spec):
                raise ValueError
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"{name}: expected a spec string or (u, v) pairs, got {spec!r}") from None
    if not pairs:
        raise ValueError(f"{name}: no positions in {spec!r}")
    out = []
    for u, v in pairs:
        if not (math.isfinite(u) and math.isfinite(v) and 0 <= u <= U - 1 and 0 <= v <= V - 1):
            raise ValueError(f"{name}: position ({u:g}, {v:g}) lies outside the {U} x {V} grid "
                             f"[0, {U - 1}] x [0, {V - 1}]")
        if integer:
            if not (u.is_integer() and v.is_integer()):
                raise ValueError(f"{name}: expected grid views (integer positions), got ({u:g}, {v:g})")
            out.append((int(u), int(v)))
        else:
            out.append((u, v))
    return list(dict.fromkeys(out))


def disparity_source(lf: LightField, disparity) -> DisparityAt | None:
    """Normalise ``synthesize_views``'s ``disparity`` argument to a function
    ``(u, v) -> (H, W)`` (or None: estimate)."""
    if disparity is None or callable(disparity):
        return disparity
    U, V = lf.grid_shape
    if isinstance(disparity, str):
        if disparity != "gt":
            raise ValueError(f"disparity: expected None, 'gt', a (U, V, H, W) tensor or a "
                             f"function, got {disparity!r}")
        gt = lf.ground_truth
        if gt is None or gt.view_depth is None:
            raise ValueError("disparity: 'gt' needs every view's ground-truth depth "
                             "(lf.ground_truth.view_depth; render with view_depth=True)")
        maps = lf.rig.depth_to_disparity(gt.view_depth).float()
        # nothing hit (NaN): the farthest disparity of the view, like a distant backdrop
        far = torch.nan_to_num(maps, nan=float("inf")).amin((-2, -1), keepdim=True)
        maps = torch.where(torch.isnan(maps), far.expand_as(maps), maps)
    elif isinstance(disparity, Tensor):
        maps = disparity
    else:
        raise ValueError(f"disparity: expected None, 'gt', a (U, V, H, W) tensor or a function, "
                         f"got {type(disparity).__name__}")
    if tuple(maps.shape) != (U, V, lf.height, lf.width):
        raise ValueError(f"disparity: expected ({U}, {V}, {lf.height}, {lf.width}), got "
                         f"{tuple(maps.shape)}")
    if not torch.isfinite(maps).all():
        raise ValueError("disparity: contains NaN or inf")

    def at(u: float, v: float) -> Tensor:
        if not (float(u).is_integer() and float(v).is_integer()):
            raise ValueError(f"disparity: per-view maps give no disparity at the fractional "
                             f"position ({u:g}, {v:g}); pass a function or None")
        return maps[int(u), int(v)]
    return at
