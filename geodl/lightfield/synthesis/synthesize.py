"""One interface to every view-synthesis method.

``synthesize_views(lf, sources, targets, method=..., disparity=None, **options)``
renders the views at ``targets`` (grid positions, fractional allowed) from
the views of ``lf`` at ``sources`` only. Methods register themselves in
:data:`METHODS` with the signature::

    fn(images, positions, targets, *, disp_range, disparity, progress, **options)
        -> (images (T, C, H, W), valid (T, H, W) bool)

``images`` (N, C, H, W) are the source views, ``positions`` (N, 2) and
``targets`` (T, 2) float64 grid positions (u, v) = (row, column),
``disp_range`` the scene's disparity range (``parameters.cfg``'s
``disp_min``/``disp_max`` widened by 0.25 px) and ``disparity`` either
None (estimate it from the sources) or a function ``(u, v) -> (H, W)``
giving the disparity of the view at a position (e.g. the ground truth).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor

from geodl.lightfield.depth.estimate import scene_disparity_range
from geodl.lightfield.synthesis.blend import blend_views
from geodl.lightfield.synthesis.mpi import build_mpi
from geodl.lightfield.synthesis.sources import DisparityAt, disparity_source, parse_positions
from geodl.structures import LightField

#: name -> ``fn(images, positions, targets, *, disp_range, disparity, progress, **options)``
METHODS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {}


def register_method(name: str, fn: Callable[..., tuple[Tensor, Tensor]]) -> None:
    """Make ``fn`` (signature in the module docstring) available as ``method=name``."""
    METHODS[name] = fn


def _bar(items, progress: bool | None, desc: str):
    from tqdm import tqdm
    return tqdm(items, desc=desc, disable=None if progress is None else not progress)


def nearest_views(images: Tensor, positions: Tensor, targets: Tensor, *, disp_range=None,
                  disparity: DisparityAt | None = None, progress: bool | None = None
                  ) -> tuple[Tensor, Tensor]:
    """Each target gets a copy of the nearest source view (grid distance;
    ties: the first source). The baseline every method must beat."""
    dist = torch.cdist(targets, positions)
    pick = dist.argmin(1)
    out = images[pick].clone()
    return out, torch.ones(out.shape[0], *out.shape[-2:], dtype=torch.bool, device=out.device)


def warp_views(images: Tensor, positions: Tensor, targets: Tensor, *, disp_range,
               disparity: DisparityAt | None = None, progress: bool | None = None,
               estimate: str = "reference", sweep: dict | None = None, **blend_options
               ) -> tuple[Tensor, Tensor]:
    """Per target: its disparity, then every source backward-warped with it and
    blended (:func:`~geodl.lightfield.synthesis.blend.blend_views`).

    The target's disparity: given (``disparity``), or estimated from the
    sources by a plane sweep
    (:func:`~geodl.lightfield.synthesis.sparse_disparity.plane_sweep_disparity`
    with the options ``sweep``): with ``estimate="reference"`` (default) once
    at the mean source position and carried to each target by z-buffered
    forward warping (:func:`~geodl.lightfield.synthesis.propagate.propagate_disparity`;
    one sweep per light field), with ``estimate="target"`` at every target
    afresh (slower: a sweep per view; sees what the reference does not).
    """
    from geodl.lightfield.synthesis.propagate import propagate_disparity
    from geodl.lightfield.synthesis.sparse_disparity import plane_sweep_disparity
    if estimate not in ("reference", "target"):
        raise ValueError(f"estimate: expected 'reference' or 'target', got {estimate!r}")
    ref_disp = None
    if disparity is None and estimate == "reference":
        ref = positions.mean(0)
        ref_disp, _ = plane_sweep_disparity(images, positions, ref, disp_range, **(sweep or {}))
    out, valid = [], []
    for t in _bar(targets, progress, "warping views"):
        u, v = (float(x) for x in t)
        if disparity is not None:
            d = disparity(u, v)
        elif ref_disp is not None:
            d = propagate_disparity(ref_disp, positions.mean(0), t)
        else:
            d, _ = plane_sweep_disparity(images, positions, t, disp_range, **(sweep or {}))
        img, ok = blend_views(images, positions, t, d.to(images.dtype), **blend_options)
        out.append(img)
        valid.append(ok)
    return torch.stack(out), torch.stack(valid)


def mpi_views(images: Tensor, positions: Tensor, targets: Tensor, *, disp_range,
              disparity: DisparityAt | None = None, progress: bool | None = None,
              reference: Sequence[float] | None = None, planes: int = 32,
              sweep: dict | None = None, **mpi_options) -> tuple[Tensor, Tensor]:
    """One MPI at ``reference`` (default: the mean source position), from the
    disparity there (given, or a plane sweep from the sources), rendered at
    every target (:mod:`geodl.lightfield.synthesis.mpi`)."""
    from geodl.lightfield.synthesis.sparse_disparity import plane_sweep_disparity
    ref = positions.mean(0) if reference is None else torch.as_tensor(reference, dtype=torch.float64)
    u, v = (float(x) for x in ref)
    if disparity is not None:
        d = disparity(u, v)
    else:
        d, _ = plane_sweep_disparity(images, positions, ref, disp_range, **(sweep or {}))
    lo, hi = disp_range
    a, b = max(lo, float(d.min())), min(hi, float(d.max()))
    if b - a < 1.0:  # a (nearly) flat scene: still planes 1/planes px apart around it
        a, b = (a + b) / 2 - 0.5, (a + b) / 2 + 0.5
    levels = torch.linspace(a, b, planes, dtype=torch.float64, device=images.device)
    mpi = build_mpi(images, positions, d.to(images.dtype), ref, levels, **mpi_options)
    out, valid = zip(*(mpi.render(t) for t in _bar(targets, progress, "rendering the MPI")))
    return torch.stack(out), torch.stack(valid)


register_method("nearest", nearest_views)
register_method("warp", warp_views)
register_method("mpi", mpi_views)


def synthesize_views(lf: LightField, sources, targets=None, method: str = "warp",
                     disparity=None, disp_range: tuple[float, float] | None = None,
                     progress: bool | None = None, **options) -> tuple[Tensor, Tensor, Tensor]:
    """Render the views of ``lf`` at ``targets`` from its views at ``sources``.

    Args:
        lf: the light field; only the source views' pixels are read.
        sources: the views to use: a spec string (``corners``, ``cross``,
            ``all-but-centre``, ``inner-corners``, ``all`` or
            ``"U,V;U,V;..."``) or a list of integer (u, v) grid positions
            (:func:`~geodl.lightfield.synthesis.sources.parse_positions`).
        targets: (u, v) positions to render (real numbers allowed, also a spec
            string); default: every grid view not among the sources.
        method: a name in :data:`METHODS` (``nearest``, ``warp``, ``mpi``,
            and ``learned`` once registered).
        disparity: None (each method estimates what it needs from the
            sources), ``"gt"`` (the ground truth of every view: needs
            ``lf.ground_truth.view_depth``; integer positions only), a
            (U, V, H, W) tensor of every grid view's disparity, or a function
            ``(u, v) -> (H, W)``.
        disp_range: (min, max) px; default the scene's (``parameters.cfg``).
        progress: a progress bar (None: only on a terminal).
        options: passed to the method.

    Returns:
        images (T, C, H, W), valid (T, H, W) bool (pixels some source saw),
        targets (T, 2) float64, in the order rendered.
    """
    if not isinstance(lf, LightField):
        raise TypeError(f"lf: expected a LightField, got {type(lf).__name__}")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {sorted(METHODS)}, got {method!r}")
    U, V = lf.grid_shape
    src = parse_positions(sources, (U, V), integer=True, name="sources")
    if targets is None:
        chosen = set(src)
        tgt = [(float(r), float(c)) for r in range(U) for c in range(V) if (r, c) not in chosen]
    else:
        tgt = parse_positions(targets, (U, V), integer=False, name="targets")
    if not tgt:
        raise ValueError("targets: nothing to render (the sources are every view)")
    images = torch.stack([lf.view(r, c) for r, c in src])
    # grid positions: numbers the methods read, on the CPU (the images stay on their device)
    positions = torch.tensor(src, dtype=torch.float64, device="cpu")
    t = torch.tensor(tgt, dtype=torch.float64, device="cpu")
    rng = scene_disparity_range(lf, disp_range)
    out, valid = METHODS[method](images, positions, t, disp_range=rng,
                                 disparity=disparity_source(lf, disparity),
                                 progress=progress, **options)
    return out, valid, t
