r"""What the training data of every learned model shares: the cache file of a
rendered training room, the guard that keeps benchmark rooms out of training,
the scene families a depth network trains on (rooms and objects scenes),
and the augmentations that act on both the image axes and the view grid.

The dihedral maps (rotations by quarter turns, then an optional transpose)
keep the HCI disparity's sign when they act on the pixel axes and the
view-grid axes together: a view at offset :math:`\delta` shows the centre
shifted by :math:`d\,\delta`, and one linear map acting on both pixel and
view offsets preserves that relation, so disparity values are unchanged.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from geodl.io.atomic import atomic_path

if TYPE_CHECKING:
    from geodl.structures import LightField


def room_path(cache: Path, seed: int, size: int, kind: str = "room", tag: str = "") -> Path:
    """Cache file of one rendered training room: ``<kind>_<seed>_<size>_ss<n>[_<tag>].npz``.
    ``n`` is the renders' rays per pixel side (``ROOM_SUPERSAMPLE``), so that
    rooms rendered another way are never reused."""
    from geodl.datasets import ROOM_SUPERSAMPLE

    suffix = f"_{tag}" if tag else ""
    return Path(cache) / f"{kind}_{seed:04d}_{size}_ss{ROOM_SUPERSAMPLE}{suffix}.npz"


#: the scene families a depth network trains on, the rooms and the objects
#: scenes (geodl.datasets.objects) nearer to the benchmark's
FAMILIES = ("room", "objects")


def render_training_scene(family: str, seed: int, size: int) -> "LightField":
    """Training scene ``seed`` of ``family`` (:data:`FAMILIES`): 9 x 9 views of
    ``size`` px with the plain rendered depth as ground truth; a room seed
    must be a training seed."""
    if family == "room":
        from geodl.datasets import render_hci_scene

        return render_hci_scene(check_training_seed(seed), size=size, grid=9, gt_factor=1,
                                progress=False)
    if family == "objects":
        from geodl.datasets.objects import render_objects_scene

        return render_objects_scene(seed, size=size, grid=9, gt_factor=1, progress=False)
    raise ValueError(f"family: expected one of {FAMILIES}, got {family!r}")


def training_scenes(rooms: int, objects: int = 0) -> str:
    """What a depth run trained on, as recorded with its weights."""
    extra = f" + objects scenes 0..{objects - 1}" if objects else ""
    return f"training_seeds({rooms}){extra}"


def check_training_seed(seed: int) -> int:
    """``seed``, or ``ValueError`` when it is a benchmark seed."""
    from geodl.datasets import BENCHMARK_SEEDS

    if seed in BENCHMARK_SEEDS:
        raise ValueError(f"seed: {seed} is a benchmark seed; train on training_seeds only")
    return seed


def save_room_file(path: Path, **arrays: np.ndarray) -> Path:
    """Write ``arrays`` to ``path`` (compressed .npz) atomically
    (:func:`~geodl.io.atomic.atomic_path`): ranks sharing a cache never
    read half a file."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)
    return path


def dihedral(x: Tensor, k: int, transpose: bool, dims: tuple[int, int]) -> Tensor:
    """Rotate by ``k`` quarter turns then optionally transpose, on ``dims``."""
    x = torch.rot90(x, k, dims)
    return x.transpose(*dims) if transpose else x


def photometric(x: Tensor, g: torch.Generator) -> Tensor:
    """Random gamma in [0.6, 1.6] (log-uniform), contrast in [0.6, 1.4],
    brightness in [-0.1, 0.1], one draw per patch, clipped to [0, 1]."""
    u = torch.rand(3, generator=g).tolist()
    gamma = math.exp(math.log(0.6) + u[0] * (math.log(1.6) - math.log(0.6)))
    contrast, bright = 0.6 + 0.8 * u[1], -0.1 + 0.2 * u[2]
    y = x.clamp_min(0).pow(gamma)
    m = y.mean()
    return ((y - m) * contrast + m + bright).clamp(0, 1)


def vignette(views: Tensor, offsets: Tensor, g: torch.Generator, strength: float) -> Tensor:
    r"""Darken each view as a plenoptic camera's aperture does, one draw per patch.

    A sub-aperture view at normalised grid offset :math:`o` (the centre view
    at 0, the grid's corners at :math:`|o_i| = 1`) of a patch centred at
    normalised image position :math:`q \in [-1, 1]^2` is scaled by
    :math:`1 - s\,\lVert o + q + x \rVert^2 / 9` (:math:`x \in [-1/8, 1/8]^2`
    the pixel's offset from the patch centre, a patch spanning an eighth of
    the image; :math:`s` uniform in ``[0, strength]``; 9 bounds the squared
    norm, so the gain stays in [0, 1] for ``strength`` <= 1): the light a
    microlens passes falls off with the ray's angle, which adds the view's
    and the pixel's, so a corner view is darkest where the patch lies in the
    image's corner on its own side (the dark corner views of a Lytro capture)
    and every view's gain varies smoothly across the patch. Clipped to [0, 1].

    Args:
        views: (S, P, P) grey views in [0, 1].
        offsets: (S, 2) each view's (row, column) grid offset, normalised.
        strength: the largest :math:`s` (0: unchanged).

    Returns:
        (S, P, P) the darkened views.
    """
    if strength <= 0:
        return views
    S, P, _ = views.shape
    dev = views.device
    s = strength * float(torch.rand(1, generator=g))
    q = (torch.rand(2, generator=g) * 2 - 1).to(dev)
    offsets = offsets.to(dev, views.dtype)
    # the patch spans an eighth of the image (a quarter of its half-width)
    x = 0.25 * ((torch.arange(P, dtype=views.dtype, device=dev) + 0.5) / P - 0.5)
    rows = offsets[:, 0, None, None] + q[0] + x[None, :, None]
    cols = offsets[:, 1, None, None] + q[1] + x[None, None, :]
    gain = (1 - s * (rows ** 2 + cols ** 2) / 9).clamp_min(0)
    return (views * gain).clamp(0, 1)


def sensor_noise(views: Tensor, g: torch.Generator, sigma: float) -> Tensor:
    r"""Add a camera sensor's noise, one level per patch: each pixel gains
    :math:`\mathcal{N}(0, \sigma_p^2 (0.25 + 0.75\,x))` (read noise plus shot
    noise that grows with the signal :math:`x`), :math:`\sigma_p` uniform in
    ``[0, sigma]``, independent per view and pixel. Clipped to [0, 1].

    Args:
        views: (S, P, P) grey views in [0, 1].
        sigma: the largest standard deviation at full signal (0: unchanged).
    """
    if sigma <= 0:
        return views
    level = sigma * float(torch.rand(1, generator=g))
    noise = torch.randn(views.shape, generator=g, dtype=views.dtype).to(views.device)
    return (views + noise * level * (0.25 + 0.75 * views.clamp(0, 1)).sqrt()).clamp(0, 1)
