"""``GroundTruth``: what a light-field scene knows about its centre view.

One typed record travels from the renderer and the scene-folder reader to the
writer and the benchmark metrics: disparity and z-depth of the centre view
(NaN where nothing is hit), the benchmark's evaluation masks (the HCI
toolkit's names: ``discontinuities``, ``planes``, ``smooth_surfaces``,
``fine``, ``fine_surrounding``), optionally the same at a higher resolution
(``highres``, ``factor`` x; disparity there is still in low-resolution
pixels, so an estimate repeated ``factor`` x ``factor`` times compares
directly), and optionally every view's depth (rendered scenes; the room
reconstruction uses it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from geodl.ops.validation import as_tensor


def _map(value: Any, name: str, shape: tuple[int, ...] | None) -> Tensor:
    t = as_tensor(value, name)
    if not t.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point map, got dtype {t.dtype}")
    if t.dim() != 2:
        raise ValueError(f"{name}: expected an (H, W) map, got shape {tuple(t.shape)}")
    if shape is not None and tuple(t.shape) != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {tuple(t.shape)}")
    return t


@dataclass
class GroundTruth:
    """Ground truth of a light field's centre view.

    Attributes:
        disparity: (H, W) disparity in pixels per view step (HCI sign), NaN
            where nothing is hit; or None.
        depth: (H, W) z-depth in metres, NaN where nothing is hit; or None.
        masks: region name -> (H, W) bool.
        factor: resolution of these maps relative to the views (1, or the
            high-resolution factor for ``highres``).
        highres: the same at ``highres.factor`` x resolution, or None.
        view_depth: (U, V, H, W) z-depth of every view, or None.
    """

    disparity: Tensor | None = None
    depth: Tensor | None = None
    masks: dict[str, Tensor] = field(default_factory=dict)
    factor: int = 1
    highres: GroundTruth | None = None
    view_depth: Tensor | None = None

    def __post_init__(self) -> None:
        shape = None
        for name in ("disparity", "depth"):
            value = getattr(self, name)
            if value is not None:
                t = _map(value, name, shape)
                shape = tuple(t.shape)
                setattr(self, name, t)
        if isinstance(self.factor, bool) or not isinstance(self.factor, int) or self.factor < 1:
            raise ValueError(f"factor: expected an int >= 1, got {self.factor!r}")
        masks = {}
        for key, mask in dict(self.masks).items():
            m = as_tensor(mask, f"masks[{key!r}]")
            if m.dtype != torch.bool:
                m = m != 0
            if m.dim() != 2 or (shape is not None and tuple(m.shape) != shape):
                raise ValueError(f"masks[{key!r}]: expected shape {shape or '(H, W)'}, "
                                 f"got {tuple(m.shape)}")
            masks[str(key)] = m
        self.masks = masks
        if self.highres is not None:
            if not isinstance(self.highres, GroundTruth):
                raise TypeError("highres: expected a GroundTruth")
            if self.highres.factor <= 1 or self.highres.highres is not None:
                raise ValueError("highres: expected factor > 1 and no nested highres")
            hs = self.highres.shape
            if shape is not None and hs is not None and \
                    hs != (shape[0] * self.highres.factor, shape[1] * self.highres.factor):
                raise ValueError(f"highres: shape {hs} is not factor {self.highres.factor} x "
                                 f"{shape}")
        if self.view_depth is not None:
            v = as_tensor(self.view_depth, "view_depth")
            if v.dim() != 4 or (shape is not None and tuple(v.shape[2:]) != shape):
                raise ValueError(f"view_depth: expected (U, V, H, W) with (H, W) = {shape}, "
                                 f"got {tuple(v.shape)}")
            self.view_depth = v

    @property
    def shape(self) -> tuple[int, int] | None:
        """(H, W) of the maps, or None when the record holds only masks."""
        for t in (self.disparity, self.depth, *self.masks.values()):
            if t is not None:
                return tuple(t.shape)
        return None

    def __repr__(self) -> str:
        have = [n for n in ("disparity", "depth", "view_depth") if getattr(self, n) is not None]
        hr = f", highres x{self.highres.factor}" if self.highres is not None else ""
        return (f"GroundTruth({self.shape}, {', '.join(have) or 'no maps'}, "
                f"masks={sorted(self.masks)}{hr})")
