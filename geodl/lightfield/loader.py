r"""One reader for the light fields that cameras and benchmarks give.

:func:`load_lightfield` reads a folder of sub-aperture views and detects its
layout from the file names:

- ``hci``: ``input_Cam000.png`` ... with ``parameters.cfg`` (the HCI 4D light
  field benchmark; without the ``parameters.cfg`` a square grid, or ``grid``),
  view index ``row * V + col``;
- ``stanford``: ``out_RR_CC_<y>_<x>[_].png`` (the Stanford light field
  archive; ``y``, ``x`` the gantry position), 0-based;
- ``rowcol``: ``<name>_RR_CC.png`` (Lytro toolboxes, the EPINet authors'
  decoded captures, most light-field data sets), 1-based when the smallest
  index is 1.

Views may be 8- or 16-bit PNG, JPEG or TIFF, grey, RGB or RGBA (read by
:func:`geodl.io.read_image`, values in [0, 1]); any U x V grid, odd or even,
with views of any H x W. ``RR`` is the view row (top to bottom) and ``CC``
the view column (left to right) unless ``flip_rows`` / ``flip_cols`` /
``transpose`` say otherwise: names cannot tell the direction the camera moved.
A flipped axis shows itself in the disparity: near objects with a smaller
disparity than far ones (both axes), or matching that fails along one axis.

Only an HCI folder with its ``parameters.cfg`` gives a camera; the others
give a :class:`LightField` without one (disparity in pixels needs none).

Views that carry no signal (black frames, the vignetted corner views of a
raw Lytro decode, constant frames, missing files) are left out: the light
field is cropped to the largest sub-grid of usable views that keeps the
centre view where it was. Cropping, rather than a per-view mask, keeps the
regular grid every estimator, warp and writer assumes, keeps the centre view
(the one the ground truth and the disparity belong to) and its camera, and
is what the field does with Lytro captures (the central 9 x 9 of 15 x 15).
``meta["dropped_views"]`` says which views went and why,
``meta["view_validity"]`` is the (U0, V0) validity of the whole grid and
``meta["grid_offset"]`` the (row, column) of the kept sub-grid's first view.
"""
from __future__ import annotations

import dataclasses
import math
import re
import warnings
from pathlib import Path

import numpy as np
import torch

from geodl.io import IMAGE_SUFFIXES, read_image
from geodl.lightfield.hci_io import load_ground_truth, load_hci
from geodl.structures import GroundTruth, LightField

#: the layouts :func:`load_lightfield` reads (``layout=`` forces one)
LAYOUTS = ("hci", "stanford", "rowcol")

_SUFFIX = "|".join(s.lstrip(".") for s in IMAGE_SUFFIXES)
_HCI = re.compile(r"^input_Cam(\d+)\.png$", re.IGNORECASE)
_NUMBER = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"
_STANFORD = re.compile(rf"^out_(\d+)_(\d+)_({_NUMBER})_({_NUMBER})_?\.({_SUFFIX})$",
                       re.IGNORECASE)
_ROWCOL = re.compile(rf"^(.*?)[_-]?(\d+)_(\d+)\.({_SUFFIX})$", re.IGNORECASE)

#: a view is unusable when its mean brightness is below this fraction of the
#: median view's (black frames; a raw Lytro decode's corner views keep a few
#: per cent of the light)
DEAD_BRIGHTNESS = 0.3
#: ... or its contrast (standard deviation) below this fraction of the median
#: view's (constant frames). Contrast varies more than brightness between real
#: views; a 32 px 3 x 3 render of a room (tests/test_synthesis_cli.py) has a
#: view of a bare wall at 0.1 times the median view's contrast.
DEAD_CONTRAST = 0.05


@dataclasses.dataclass
class _Grid:
    """Files of a light field by grid position (row, column), 0-based."""

    layout: str
    files: dict[tuple[int, int], Path]
    shape: tuple[int, int]
    scene: str


def load_lightfield(path: str | Path, *, layout: str = "auto",
                    grid: tuple[int, int] | None = None, index_base: int | None = None,
                    flip_rows: bool = False, flip_cols: bool = False, transpose: bool = False,
                    drop_dead_views: bool = True, highres: bool = False) -> LightField:
    """A light field from a folder of sub-aperture views (module docstring).

    Args:
        path: the folder.
        layout: ``"auto"`` (detect from the names) or one of :data:`LAYOUTS`.
        grid: (U, V) views per column and per row, where the names cannot
            say it (numbered HCI views without ``parameters.cfg`` that are not
            a square grid; a row/column grid whose last rows or columns are
            missing).
        index_base: 0 or 1, the index of the first row and column in the
            names (default: 0 for Stanford, else the smallest index found
            when it is 0 or 1).
        flip_rows, flip_cols: reverse the order of the rows (columns): for
            cameras whose first row is the bottom one (first column the
            right one).
        transpose: the names give the column first, then the row.
        drop_dead_views: leave out views without signal (module docstring).
        highres: read the 10x ground truth of an HCI folder too.

    Returns:
        A :class:`LightField` with ``views`` (U, V, 3, H, W) in [0, 1];
        ``meta`` holds ``"scene"``, ``"layout"``, ``"path"``,
        ``"view_files"`` (U x V names), ``"dropped_views"``,
        ``"view_validity"`` and ``"grid_offset"``, and for HCI folders
        ``"parameters"``.

    Raises:
        FileNotFoundError: no such folder, or no views in it.
        ValueError: an ambiguous or inconsistent layout, an unreadable or
            mis-sized view (naming the file), or no usable views.
    """
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such light-field folder")
    if not folder.is_dir():
        raise ValueError(f"{folder}: expected a folder of sub-aperture views, got a file")
    if layout not in ("auto", *LAYOUTS):
        raise ValueError(f"layout: expected 'auto' or one of {LAYOUTS}, got {layout!r}")
    if index_base not in (None, 0, 1):
        raise ValueError(f"index_base: expected 0 or 1, got {index_base!r}")
    if grid is not None:
        grid = _check_grid(grid)
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    if layout == "auto":
        layout = _detect(folder, names)
    if layout == "hci" and (folder / "parameters.cfg").exists():
        if flip_rows or flip_cols or transpose or grid is not None or index_base is not None:
            raise ValueError(f"{folder}: an HCI folder's parameters.cfg fixes the view grid "
                             "and order; grid, index_base and flips do not apply")
        lf = load_hci(folder, highres=highres)
        U, V = lf.grid_shape
        files = [[f"input_Cam{r * V + c:03d}.png" for c in range(V)] for r in range(U)]
        lf.meta.update(layout="hci", path=str(folder), view_files=files)
        return _drop_dead(lf, folder) if drop_dead_views else _no_drop(lf)
    if layout == "hci":
        g = _hci_grid(folder, names, grid)
    elif layout == "stanford":
        g = _indexed_grid(folder, names, _STANFORD, "stanford", grid,
                          0 if index_base is None else index_base)
    else:
        g = _indexed_grid(folder, names, _ROWCOL, "rowcol", grid, index_base)
    g = _orient(g, flip_rows, flip_cols, transpose)
    lf = _read_views(folder, g)
    if layout == "hci" and not (flip_rows or flip_cols or transpose):
        # (a flipped grid's disparity has the other sign: its ground truth is not this)
        lf.ground_truth = _centre_ground_truth(folder, (lf.height, lf.width))
    return _drop_dead(lf, folder) if drop_dead_views else _no_drop(lf)


def _centre_ground_truth(folder: Path, size: tuple[int, int]) -> GroundTruth | None:
    """The centre-view ground truth of an HCI folder without ``parameters.cfg``
    (:func:`~geodl.lightfield.hci_io.load_ground_truth`), checked against the
    views' size."""
    gt = load_ground_truth(folder)
    for name in ("disparity", "depth"):
        m = getattr(gt, name, None)
        if m is not None and tuple(m.shape) != size:
            raise ValueError(f"{folder}: gt_{'disp' if name == 'disparity' else name}_lowres.pfm "
                             f"is {tuple(m.shape)}, the views are {size}")
    return gt


def holds_views(folder: str | Path) -> bool:
    """Whether ``folder`` holds views named as one of :data:`LAYOUTS` names
    them (a light field, as opposed to a folder of light-field folders)."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    return any(_HCI.match(p.name) or _STANFORD.match(p.name) or _ROWCOL.match(p.name)
               for p in folder.iterdir() if p.is_file())


def write_views(folder: str | Path, lf: LightField, name: str) -> Path:
    """Write the views of ``lf`` as 8-bit PNGs ``<name>_RR_CC.png`` (1-based
    row and column, the ``rowcol`` layout :func:`load_lightfield` reads back)
    into ``folder`` (created; existing files of those names are replaced, each
    written whole through :func:`geodl.io.atomic.atomic_path`)."""
    from PIL import Image

    from geodl.io.atomic import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    U, V = lf.grid_shape
    for r in range(U):
        for c in range(V):
            img = (lf.views[r, c].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round()
            img = img.astype(np.uint8)
            with atomic_path(folder / f"{name}_{r + 1:02d}_{c + 1:02d}.png") as tmp:
                Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(tmp)
    return folder


def _check_grid(grid) -> tuple[int, int]:
    try:
        U, V = (int(g) for g in grid)
        ok = all(float(g) == int(g) for g in grid)
    except (TypeError, ValueError):
        ok = False
    if not ok or U < 1 or V < 1:
        raise ValueError(f"grid: expected two positive integers (U, V), got {grid!r}")
    return U, V


def _detect(folder: Path, names: list[str]) -> str:
    """The layout the file names follow; ValueError when none or several fit."""
    found = {"hci": [n for n in names if _HCI.match(n)],
             "stanford": [n for n in names if _STANFORD.match(n)]}
    found["rowcol"] = [n for n in names if _ROWCOL.match(n) and not _STANFORD.match(n)]
    fitting = [k for k, v in found.items() if v]
    if not fitting:
        images = [n for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES]
        hint = f" (found {len(images)} images, e.g. {images[0]})" if images else ""
        raise FileNotFoundError(
            f"{folder}: no light-field views found{hint}; expected an HCI scene "
            "(input_Cam000.png ..., parameters.cfg), views named <name>_RR_CC.png (row, "
            "column) or the Stanford archive's out_RR_CC_<y>_<x>.png")
    if len(fitting) > 1:
        raise ValueError(f"{folder}: ambiguous layout, views of several layouts ("
                         + ", ".join(f"{k}: {found[k][0]}" for k in fitting)
                         + "); pass layout= (--layout) to choose one")
    return fitting[0]


def _hci_grid(folder: Path, names: list[str], grid) -> _Grid:
    """Numbered HCI views without ``parameters.cfg``: index = row * V + col."""
    index = {int(_HCI.match(n).group(1)): folder / n for n in names if _HCI.match(n)}
    n = max(index) + 1
    if grid is None:
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(f"{folder}: {n} numbered views (input_Cam000 ... "
                             f"input_Cam{n - 1:03d}) and no parameters.cfg: not a square grid, "
                             "so the grid is ambiguous; pass grid=(U, V) (--grid U V)")
        grid = (side, side)
    U, V = grid
    if n > U * V:
        raise ValueError(f"{folder}: input_Cam{n - 1:03d}.png lies outside the {U} x {V} grid")
    files = {(k // V, k % V): p for k, p in index.items()}
    return _Grid("hci", files, (U, V), folder.name)


def _indexed_grid(folder: Path, names: list[str], pattern: re.Pattern, layout: str,
                  grid, index_base: int | None) -> _Grid:
    """Views named by (row, column) indices."""
    entries = []
    for n in names:
        m = pattern.match(n)
        if m is None or (layout == "rowcol" and _STANFORD.match(n)):
            continue
        if layout == "rowcol":
            prefix, r, c = m.group(1), int(m.group(2)), int(m.group(3))
        else:
            prefix, r, c = "out", int(m.group(1)), int(m.group(2))
        entries.append((prefix, r, c, folder / n))
    if not entries:
        raise FileNotFoundError(f"{folder}: no views named as the {layout} layout expects")
    prefixes = sorted({e[0] for e in entries})
    if len(prefixes) > 1:
        raise ValueError(f"{folder}: ambiguous layout, views of {len(prefixes)} light fields "
                         f"({', '.join(repr(p) for p in prefixes[:4])}); give each its own "
                         "folder")
    files: dict[tuple[int, int], Path] = {}
    for _, r, c, p in entries:
        if (r, c) in files:
            raise ValueError(f"{folder}: ambiguous layout, two views at row {r}, column {c} "
                             f"({files[(r, c)].name}, {p.name})")
        files[(r, c)] = p
    rows, cols = [k[0] for k in files], [k[1] for k in files]
    if index_base is None:
        low = (min(rows), min(cols))
        if low in ((0, 0), (1, 1)):
            index_base = low[0]
        elif 0 in low:  # one axis starts at 0: the names are 0-based
            index_base = 0
        else:
            raise ValueError(f"{folder}: the smallest row and column indices are {low}, so "
                             "the names do not say where the grid starts (missing first rows "
                             "or columns?); pass index_base= (--index-base 0 or 1) and grid= "
                             "(--grid U V)")
    if min(min(rows), min(cols)) < index_base:
        raise ValueError(f"{folder}: index 0 in the names, but index_base=1")
    files = {(r - index_base, c - index_base): p for (r, c), p in files.items()}
    found = (max(r for r, _ in files) + 1, max(c for _, c in files) + 1)
    if grid is None:
        grid = found
    elif found[0] > grid[0] or found[1] > grid[1]:
        raise ValueError(f"{folder}: views up to row {found[0]}, column {found[1]} "
                         f"({index_base}-based) lie outside grid={grid}")
    return _Grid(layout, files, grid, prefixes[0] if layout == "rowcol" and prefixes[0]
                 else folder.name)


def _orient(g: _Grid, flip_rows: bool, flip_cols: bool, transpose: bool) -> _Grid:
    U, V = g.shape
    files = g.files
    if transpose:
        files = {(c, r): p for (r, c), p in files.items()}
        U, V = V, U
    if flip_rows:
        files = {(U - 1 - r, c): p for (r, c), p in files.items()}
    if flip_cols:
        files = {(r, V - 1 - c): p for (r, c), p in files.items()}
    return _Grid(g.layout, files, (U, V), g.scene)


def _read_views(folder: Path, g: _Grid) -> LightField:
    """Read every view of the grid; missing files become black views (left
    out later as unusable)."""
    U, V = g.shape
    first = g.files[min(g.files)]
    size = read_image(first).shape[:2]
    views = torch.zeros(U, V, 3, *size)
    missing = torch.zeros(U, V, dtype=torch.bool)
    names = [["" for _ in range(V)] for _ in range(U)]
    for r in range(U):
        for c in range(V):
            p = g.files.get((r, c))
            if p is None:
                missing[r, c] = True
                continue
            img = read_image(p)
            if img.shape[:2] != size:
                raise ValueError(f"{p}: size {img.shape[1]}x{img.shape[0]}, the other views "
                                 f"are {size[1]}x{size[0]} ({first.name})")
            views[r, c] = torch.from_numpy(img).permute(2, 0, 1)
            names[r][c] = p.name
    return LightField(views, meta={"scene": g.scene, "layout": g.layout, "path": str(folder),
                                   "view_files": names, "missing_views": missing})


def dead_views(views: torch.Tensor) -> list[tuple[int, int, str]]:
    """Views without usable signal: ``(row, column, reason)`` for each.

    A view is unusable when its mean brightness is below
    :data:`DEAD_BRIGHTNESS` times the median view's, or its contrast (the
    standard deviation of its grey values) below :data:`DEAD_CONTRAST` times
    the median view's.

    Args:
        views: (U, V, C, H, W) in [0, 1].
    """
    grey = views.float().mean(dim=2)
    mean = grey.mean(dim=(-2, -1))
    std = grey.flatten(2).std(dim=-1)
    ref_mean, ref_std = float(mean.median()), float(std.median())
    dead = []
    for r in range(views.shape[0]):
        for c in range(views.shape[1]):
            m, s = float(mean[r, c]), float(std[r, c])
            if m < DEAD_BRIGHTNESS * ref_mean or m < 1e-3:
                dead.append((r, c, f"dark (mean {m:.3f}, median view {ref_mean:.3f})"))
            elif s < DEAD_CONTRAST * ref_std or s < 1e-3:
                dead.append((r, c, f"no contrast (std {s:.4f}, median view {ref_std:.4f})"))
    return dead


def largest_centered_subgrid(valid: np.ndarray) -> tuple[int, int, int, int]:
    """``(r0, r1, c0, c1)``: the rows ``r0:r1`` and columns ``c0:c1`` of the
    largest all-valid sub-grid whose centre view ``((r1 - r0) // 2 + r0, ...)``
    is the whole grid's centre ``(U // 2, V // 2)``; ties go to the squarer one.

    Args:
        valid: (U, V) bool, the centre view valid.
    """
    U, V = valid.shape
    rc, cc = U // 2, V // 2
    best, best_key = None, None
    # prefix sums: the number of invalid views in any rectangle in O(1)
    bad = np.pad(np.cumsum(np.cumsum(~valid, 0), 1), ((1, 0), (1, 0)))
    for r0 in range(rc + 1):
        for r1 in range(rc + 1, U + 1):
            if (r1 - r0) // 2 + r0 != rc:
                continue
            for c0 in range(cc + 1):
                for c1 in range(cc + 1, V + 1):
                    if (c1 - c0) // 2 + c0 != cc:
                        continue
                    if bad[r1, c1] - bad[r0, c1] - bad[r1, c0] + bad[r0, c0]:
                        continue
                    h, w = r1 - r0, c1 - c0
                    key = (h * w, -abs(h - w))
                    if best_key is None or key > best_key:
                        best, best_key = (r0, r1, c0, c1), key
    return best


def _no_drop(lf: LightField) -> LightField:
    U, V = lf.grid_shape
    lf.meta.pop("missing_views", None)
    lf.meta.update(dropped_views=[], view_validity=torch.ones(U, V, dtype=torch.bool),
                   grid_offset=(0, 0))
    return lf


def _drop_dead(lf: LightField, folder: Path) -> LightField:
    """Crop ``lf`` to the largest usable sub-grid around its centre view."""
    U, V = lf.grid_shape
    missing = lf.meta.pop("missing_views", torch.zeros(U, V, dtype=torch.bool))
    dead = [(r, c, "missing file") for r, c in zip(*np.nonzero(missing.numpy()))]
    present = ~missing
    if present.any():
        # judged against the views that exist: (N, 1, C, H, W), one grid column
        where = list(zip(*np.nonzero(present.numpy())))
        for k, _, why in dead_views(lf.views[present][:, None]):
            dead.append((*where[k], why))
    dead = sorted((int(r), int(c), why) for r, c, why in dead)
    valid = torch.ones(U, V, dtype=torch.bool)
    for r, c, _ in dead:
        valid[r, c] = False
    names = lf.meta.get("view_files")
    rc, cc = lf.center_index
    if not valid[rc, cc]:
        name = names[rc][cc] if names and names[rc][cc] else f"view ({rc}, {cc})"
        why = next(w for r, c, w in dead if (r, c) == (rc, cc))
        raise ValueError(f"{folder}: the centre view {name} carries no usable signal ({why})")
    r0, r1, c0, c1 = largest_centered_subgrid(valid.numpy())
    if (r1 - r0) * (c1 - c0) < 2:
        raise ValueError(f"{folder}: no two usable neighbouring views around the centre "
                         f"({len(dead)} of {U * V} views unusable)")
    lf.meta.update(dropped_views=dead, view_validity=valid, grid_offset=(r0, c0))
    if (r0, r1, c0, c1) == (0, U, 0, V):
        return lf
    gt = lf.ground_truth
    if gt is not None and gt.view_depth is not None:
        gt = dataclasses.replace(gt, view_depth=gt.view_depth[r0:r1, c0:c1])
    meta = dict(lf.meta)
    if names:
        meta["view_files"] = [row[c0:c1] for row in names[r0:r1]]
    p = meta.get("parameters")
    if p is not None:
        meta["parameters"] = dataclasses.replace(p, num_cams_y=r1 - r0, num_cams_x=c1 - c0)
    return LightField(lf.views[r0:r1, c0:c1].clone(), lf.camera, lf.baseline, lf.focus_distance,
                      ground_truth=gt, meta=meta)


def largest_centred_subgrid(valid: np.ndarray) -> tuple[int, int, int, int]:
    """Deprecated alias of :func:`largest_centered_subgrid`."""
    warnings.warn("largest_centred_subgrid is deprecated; use largest_centered_subgrid",
                  DeprecationWarning, stacklevel=2)
    return largest_centered_subgrid(valid)


__all__ = ["DEAD_BRIGHTNESS", "DEAD_CONTRAST", "LAYOUTS", "dead_views", "holds_views",
           "largest_centered_subgrid", "largest_centred_subgrid", "load_lightfield", "write_views"]
