r"""What the learned disparity methods share: the model lookup with its grid
check, the 'star' views (centre row, column and both diagonals) they use, and their
weight files.

A learned model ships as two files in ``geodl/lightfield/depth/weights/``:
``<name>.pt`` (a state dict, loaded with ``torch.load(..., weights_only=True)``
so a file cannot run code) and ``<name>.json`` (the constructor's keyword
arguments under ``"config"`` plus how the weights were trained). A training
checkpoint directory holds the same pair (``model.pt``, ``model.json``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from geodl.structures import LightField

#: folder of the shipped weights (package data)
WEIGHTS_DIR = Path(__file__).parent / "weights"

#: model name -> class; filled by the model modules
MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str, cls: Callable[..., nn.Module]) -> None:
    MODELS[name] = cls


def star_stacks(n: int) -> list[list[tuple[int, int]]]:
    """The four EPI view stacks of an n x n grid (n odd), each ordered so the
    view offset (dr, dc) from the centre grows along the stack:
    0 deg (centre row, left to right), 90 deg (centre column, top to bottom),
    45 deg (anti-diagonal, bottom-left to top-right... ordered by dc), 135 deg
    (main diagonal, top-left to bottom-right)."""
    if n < 3 or n % 2 == 0:
        raise ValueError(f"grid: expected an odd size >= 3, got {n}")
    m = n // 2
    return [[(m, i) for i in range(n)], [(i, m) for i in range(n)],
            [(n - 1 - i, i) for i in range(n)], [(i, i) for i in range(n)]]


def star_views(n: int) -> list[tuple[int, int]]:
    """The distinct views of :func:`star_stacks`, sorted (4n - 3 views)."""
    return sorted({rc for stack in star_stacks(n) for rc in stack})


def model_for(lf: LightField, name: str, checkpoint: str | Path | None) -> nn.Module:
    """The (cached) model ``name`` on the light field's device, after checking
    that ``lf`` has the square odd view grid its weights were trained on."""
    U, V = lf.grid_shape
    if U != V or U % 2 == 0 or U < 3:
        raise ValueError(f"lf: learned methods need a square odd grid (e.g. 9x9), got {U}x{V}")
    model = cached_model(name, checkpoint, lf.views.device)
    if model.n_views != U:
        raise ValueError(f"lf: the {name} weights expect a {model.n_views}x{model.n_views} "
                         f"grid, got {U}x{V}")
    return model


def save_model(model: nn.Module, name: str, config: dict[str, Any], directory: str | Path,
               info: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``directory/<name>.pt`` (state dict) and ``<name>.json`` (``{"model",
    "config", "info"}``); returns both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pt, js = directory / f"{name}.pt", directory / f"{name}.json"
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save(state, pt)
    js.write_text(json.dumps({"model": model_name(model), "config": config,
                              "info": info or {}}, indent=2))
    return pt, js


def model_name(model: nn.Module) -> str:
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ValueError(f"model: {type(model).__name__} is not a registered learned model")


def load_model(name: str, checkpoint: str | Path | None = None,
               device: torch.device | str | None = None) -> nn.Module:
    """The model ``name`` (``"epinet"``/``"cost_net"``) in eval mode with the
    shipped weights, or those of ``checkpoint``: a ``.pt`` file with its
    ``.json`` beside it, or a directory holding ``<name>.pt`` or ``model.pt``."""
    if name not in MODELS:
        raise ValueError(f"name: expected one of {sorted(MODELS)}, got {name!r}")
    if checkpoint is None:
        pt = WEIGHTS_DIR / f"{name}.pt"
    else:
        p = Path(checkpoint)
        if p.is_dir():
            pt = next((q for q in (p / f"{name}.pt", p / "model.pt") if q.exists()), p / "model.pt")
        else:
            pt = p
    js = pt.with_suffix(".json")
    if not pt.exists() or not js.exists():
        raise FileNotFoundError(f"checkpoint: {pt} and {js} are both needed "
                                f"({'shipped weights missing' if checkpoint is None else 'not found'})")
    meta = json.loads(js.read_text())
    if meta.get("model") != name:
        raise ValueError(f"checkpoint: {js} holds a {meta.get('model')!r} model, not {name!r}")
    model = MODELS[name](**meta["config"])
    model.load_state_dict(torch.load(pt, map_location="cpu", weights_only=True))
    return model.to(device or "cpu").eval()


_CACHE: dict[tuple, nn.Module] = {}


def cached_model(name: str, checkpoint: str | Path | None, device: torch.device) -> nn.Module:
    """:func:`load_model`, memoised per (name, checkpoint and its modification
    time, device) so repeated estimates do not reread the files."""
    path = None if checkpoint is None else Path(checkpoint).resolve()
    stamp = path.stat().st_mtime_ns if path is not None and path.exists() else None
    key = (name, str(path), stamp, str(device))  # a rewritten file is reread
    if key not in _CACHE:
        _CACHE[key] = load_model(name, checkpoint, device)
    return _CACHE[key]
