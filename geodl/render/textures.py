r"""Surface textures for the procedural rooms.

A ``Texture`` maps hit points and their normals, both (N, 3) in the world
frame, to albedo (N, 3) RGB in [0, 1]. Two kinds:

* solid procedural patterns (``stripes``, ``noise``): functions of the 3D
  point only, so no UV maps are needed; ``checker``, whose colour jumps, is
  drawn on each surface in its box-projection coordinates (below);
* ``photo``: a photograph shipped with scikit-image, applied by box
  projection. Each point is projected onto the axis plane most facing its
  normal, :math:`a = \arg\max_i |n_i|`, and the two remaining coordinates,
  divided by the tile size, are the texture coordinates. On walls the vertical
  coordinate runs down the image so pictures stand upright. The image repeats
  mirrored (no seams) and is sampled bilinearly
  (:func:`~geodl.ops.sampling.sample_at_coordinates`).

Photographs give the depth-estimation benchmark the natural-image statistics
(edges at all orientations, fine grain) that procedural patterns lack.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from geodl.ops.sampling import sample_at_coordinates

Texture = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(points (N, 3), normals (N, 3)) -> albedo (N, 3) in [0, 1]."""

# scikit-image's bundled photographs (inside its wheel, nothing downloaded).
GRAYSCALE_PHOTOS = ("brick", "gravel", "grass")
COLOR_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")


def checker(c1, c2, size: float) -> Texture:
    r"""Checkerboard of squares of edge ``size`` metres on each surface, in its
    box-projection coordinates (:func:`box_projection`): square (i, j) with
    :math:`i = \lfloor s / size \rfloor`, :math:`j = \lfloor t / size \rfloor`
    has colour ``c1`` when i + j is even.

    A pattern of the surface, not of space: a 3-D lattice of cubes puts any
    surface lying on a lattice plane (a floor at z = 0, a wall at x = 3 m with
    0.3 m cubes) on a colour boundary, where the rounding of each ray's hit
    point picks the colour at random, so every view saw a different texture.
    """
    if not size > 0:
        raise ValueError(f"size: expected > 0, got {size!r}")
    a, b = np.asarray(c1, float), np.asarray(c2, float)

    def f(p: np.ndarray, n: np.ndarray) -> np.ndarray:
        s, t = box_projection(p, n)
        k = (np.floor(s / size) + np.floor(t / size)).astype(int) % 2
        return np.where(k[:, None] == 0, a, b)
    return f


def stripes(c1, c2, period: float, axis: int) -> Texture:
    """Sinusoidal blend of two colours along world ``axis``."""
    a, b = np.asarray(c1, float), np.asarray(c2, float)

    def f(p: np.ndarray, n: np.ndarray) -> np.ndarray:
        t = 0.5 + 0.5 * np.sin(2 * math.pi * p[:, axis] / period)
        return a * t[:, None] + b * (1 - t[:, None])
    return f


def noise(base, amplitude: float, scale: float, seed: int) -> Texture:
    """Smooth value noise: a sum of eight random 3D sinusoids around ``base``."""
    rng = np.random.default_rng(seed)
    k = (rng.normal(size=(8, 3)) / scale).astype(np.float32)
    ph = rng.uniform(0, 2 * math.pi, 8).astype(np.float32)
    col = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    base = np.asarray(base, np.float32)

    def f(p: np.ndarray, n: np.ndarray) -> np.ndarray:
        s = np.sin(p @ k.T + ph)  # (N, 8)
        return np.clip(base + amplitude * (s @ col) / 8, 0, 1)
    return f


@lru_cache(maxsize=None)
def load_photo(name: str) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1] of scikit-image's ``skimage.data.<name>()``."""
    if name not in GRAYSCALE_PHOTOS + COLOR_PHOTOS:
        raise ValueError(f"photo: unknown name {name!r}; expected one of "
                         f"{GRAYSCALE_PHOTOS + COLOR_PHOTOS}")
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)(), np.float32) / 255.0
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3])


def sample_bilinear(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Colours (N, C) of ``image`` (H, W, C) at continuous texel coordinates
    ``u`` (columns) and ``v`` (rows), texel centres at integer + 0.5, mirrored
    repetition outside the image."""
    chw = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), np.float32))
    return _sample_chw(chw, u, v)


def _sample_chw(image: torch.Tensor, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # reflection padding is exactly mirrored repetition (it folds any distance
    # back into the image), and 10x faster than NumPy gathers
    u_t, v_t = torch.from_numpy(np.asarray(u))[None, None], torch.from_numpy(np.asarray(v))[None, None]
    out = sample_at_coordinates(image[None], u_t, v_t, padding_mode="reflection")
    return out[0, :, 0].T.numpy()


def box_projection(points: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Texture coordinates (s, t) in metres by projection onto the axis plane
    most facing each normal; z up, so on walls t = -z (pictures upright)."""
    axis = np.abs(normals).argmax(1)
    s = np.where(axis == 0, points[:, 1], points[:, 0])
    t = np.where(axis == 2, points[:, 1], -points[:, 2])
    return s, t


def photo(name: str, tile_size: float, tint=(1.0, 1.0, 1.0), offset=(0.0, 0.0),
          mirror: bool = False) -> Texture:
    """The scikit-image photograph ``name`` box-projected with its longer side
    spanning ``tile_size`` metres, multiplied by ``tint``; texel (0, 0) (the
    image's top-left corner) at (s, t) = ``offset`` metres. ``mirror`` negates s,
    for surfaces seen from the side where s runs right to left."""
    if tile_size <= 0:
        raise ValueError(f"tile_size: expected > 0, got {tile_size}")
    image = load_photo(name) * np.asarray(tint, np.float32)
    texels_per_metre = max(image.shape[:2]) / tile_size
    chw = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))

    def f(p: np.ndarray, n: np.ndarray) -> np.ndarray:
        s, t = box_projection(p, n)
        if mirror:
            s = -s
        return np.clip(_sample_chw(chw, (s - offset[0]) * texels_per_metre,
                                   (t - offset[1]) * texels_per_metre), 0, 1)
    return f
