r"""Shipping and loading the weights of learned models.

A model ships as two files in a package's ``weights/`` folder:
``<name>.pt`` (a state dict, loaded with ``torch.load(..., weights_only=True)``
so a file cannot run code) and ``<name>.json`` (``{"model": name, "config":
constructor keyword arguments, "info": how the weights were trained}``). A
training run folder holds the same pair as ``model.pt`` + ``model.json``.

One :class:`WeightStore` per family of models (the disparity networks of
``geodl.lightfield.depth``, the view-synthesis network of
``geodl.lightfield.synthesis``) keeps the name -> class registry, the folder
of shipped weights and a cache of loaded models.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn


class WeightStore:
    """Registry of model classes with save / load / cached load of their weights.

    Args:
        directory: folder of the shipped ``<name>.pt`` / ``<name>.json`` pairs.
        what: the family's name in error messages (e.g. "learned disparity").
    """

    def __init__(self, directory: str | Path, what: str = "learned") -> None:
        self.directory = Path(directory)
        self.what = what
        #: model name -> class (or factory); filled by the model modules
        self.models: dict[str, Callable[..., nn.Module]] = {}
        self._cache: dict[tuple, nn.Module] = {}

    def register(self, name: str, cls: Callable[..., nn.Module]) -> None:
        self.models[name] = cls

    def name_of(self, model: nn.Module) -> str:
        """The registered name of ``model``'s class."""
        for name, cls in self.models.items():
            if type(model) is cls:
                return name
        raise ValueError(f"model: {type(model).__name__} is not a registered {self.what} model")

    def save(self, model: nn.Module, name: str, config: dict[str, Any],
             directory: str | Path, info: dict[str, Any] | None = None) -> tuple[Path, Path]:
        """Write ``directory/<name>.pt`` (state dict, on the CPU) and
        ``<name>.json`` (``{"model", "config", "info"}``); returns both paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        pt, js = directory / f"{name}.pt", directory / f"{name}.json"
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        torch.save(state, pt)
        js.write_text(json.dumps({"model": self.name_of(model), "config": config,
                                  "info": info or {}}, indent=2))
        return pt, js

    def weight_file(self, name: str, checkpoint: str | Path | None) -> Path:
        """The ``.pt`` file :meth:`load` reads: the shipped one, ``checkpoint``
        itself, or ``<name>.pt`` / ``model.pt`` in a ``checkpoint`` folder."""
        if checkpoint is None:
            return self.directory / f"{name}.pt"
        p = Path(checkpoint)
        if p.is_dir():
            return next((q for q in (p / f"{name}.pt", p / "model.pt") if q.exists()),
                        p / "model.pt")
        return p

    def load(self, name: str, checkpoint: str | Path | None = None,
             device: torch.device | str | None = None) -> nn.Module:
        """The model ``name`` in eval mode with the shipped weights, or those of
        ``checkpoint``: a ``.pt`` file with its ``.json`` beside it, or a
        directory holding ``<name>.pt`` or ``model.pt``."""
        if name not in self.models:
            raise ValueError(f"name: expected one of {sorted(self.models)}, got {name!r}")
        pt = self.weight_file(name, checkpoint)
        js = pt.with_suffix(".json")
        if not pt.exists() or not js.exists():
            raise FileNotFoundError(
                f"checkpoint: {pt} and {js} are both needed "
                f"({'shipped weights missing' if checkpoint is None else 'not found'})")
        meta = json.loads(js.read_text())
        if meta.get("model") != name:
            raise ValueError(f"checkpoint: {js} holds a {meta.get('model')!r} model, not {name!r}")
        model = self.models[name](**meta["config"])
        model.load_state_dict(torch.load(pt, map_location="cpu", weights_only=True))
        return model.to(device or "cpu").eval()

    def cached(self, name: str, checkpoint: str | Path | None,
               device: torch.device | str) -> nn.Module:
        """:meth:`load`, memoised per (name, weight file and its modification
        time, device): repeated calls do not reread the files, a rewritten file
        is reread."""
        pt = self.weight_file(name, checkpoint).resolve()
        stamp = pt.stat().st_mtime_ns if pt.exists() else None
        key = (name, str(None if checkpoint is None else Path(checkpoint).resolve()),
               str(pt), stamp, str(device))
        if key not in self._cache:
            self._cache[key] = self.load(name, checkpoint, device)
        return self._cache[key]
