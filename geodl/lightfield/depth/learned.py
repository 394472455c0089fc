r"""What the learned disparity methods share: the model lookup with its grid
check, the 'star' views (centre row, column and both diagonals) they use, and their
weight files.

A learned model ships as two files in ``geodl/lightfield/depth/weights/``
(``<name>.pt``, a state dict read with ``weights_only=True``, and ``<name>.json``);
the format and the loading code are :class:`geodl.nn.weights.WeightStore`'s,
shared with the learned view synthesis.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from geodl.nn.weights import WeightStore
from geodl.structures import LightField

#: folder of the shipped weights (package data)
WEIGHTS_DIR = Path(__file__).parent / "weights"

#: the disparity networks' registry, weight files and model cache
STORE = WeightStore(WEIGHTS_DIR, "learned disparity")

#: model name -> class; filled by the model modules
MODELS: dict[str, Callable[..., nn.Module]] = STORE.models


def register_model(name: str, cls: Callable[..., nn.Module]) -> None:
    STORE.register(name, cls)


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
    return STORE.save(model, name, config, directory, info)


def model_name(model: nn.Module) -> str:
    return STORE.name_of(model)


def load_model(name: str, checkpoint: str | Path | None = None,
               device: torch.device | str | None = None) -> nn.Module:
    """The model ``name`` (``"epinet"``/``"cost_net"``) in eval mode with the
    shipped weights, or those of ``checkpoint``: a ``.pt`` file with its
    ``.json`` beside it, or a directory holding ``<name>.pt`` or ``model.pt``."""
    return STORE.load(name, checkpoint, device)


def cached_model(name: str, checkpoint: str | Path | None, device: torch.device) -> nn.Module:
    """:func:`load_model`, memoised per (name, weight file and its modification
    time, device) so repeated estimates do not reread the files."""
    return STORE.cached(name, checkpoint, device)
