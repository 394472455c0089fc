r"""Training the learned view-synthesis network (``geodl train-synthesis``).

Data: rooms rendered from :func:`geodl.datasets.training_seeds` (never the
benchmark seeds), cached on disk as all 9 x 9 RGB uint8 views plus the centre
view's ground-truth disparity and its range (``<cache>/room_<seed>_<size>_ss<n>.npz``,
``n`` the rays per pixel side); the last ``val_rooms`` seeds after the training ones
are held out for validation.

A training example (:func:`sample_example`):

* sources: the 4 corners of a random k x k sub-grid of the 9 x 9 views
  (k drawn from ``subgrids``), with probability ``centre_prob`` (drawn per
  batch) also the sub-grid's centre; the target: a random other view of the
  sub-grid (integer positions: only rendered views can supervise);
* a crop of ``patch + 2 margin`` px of every view (the margin holds what the
  sources shift into the loss region, ``|d| * offset`` px), the loss on the
  central ``patch`` x ``patch``;
* scale: with probability 0.3 the crop is averaged down by 2 and the disparity
  range halved;
* the 8 rotations / transposes applied to the view grid and the image axes
  together (the HCI disparity relation is kept, see
  :mod:`geodl.training.rooms`); positions are re-indexed by the same map;
* photometric: gamma, per-channel gain and brightness, one draw per example,
  the same for every view;
* the target's true disparity: the centre's, carried to the target
  (:func:`~geodl.lightfield.synthesis.propagate.propagate_disparity`).

Loss: L1 on the colour, plus ``grad_weight`` times L1 on its horizontal and
vertical differences, plus ``disp_weight`` times L1 on the disparity.
Validation: mean PSNR (dB, data range 1, RGB, a ``margin`` px border
excluded) of a few targets synthesised from the 4 corners of the 9 x 9 grid
and of the inner 7 x 7 grid, on the central ``val_crop`` px of each held-out
room; logged as ``psnr_9x9``, ``psnr_7x7`` and their mean
``psnr``.

The loop, checkpoints, resumption and DistributedDataParallel behaviour are
:mod:`geodl.training.loop`'s, the same as ``geodl train-depth``.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.io.npz import read_npz
from geodl.lightfield.synthesis.learned import STORE, SynthesisNet
from geodl.lightfield.synthesis.metrics import psnr
from geodl.lightfield.synthesis.propagate import propagate_disparity
from geodl.training.loop import LoopConfig, dist_setup, load_rooms, prepare_out, run_loop
from geodl.training.rooms import check_training_seed, dihedral, room_path, save_room_file

#: the shipped CPU-sized architecture
DEFAULT_ARCH: dict[str, Any] = {"levels": 32, "width": 24, "dilations": [1, 2, 4, 8, 16, 1],
                                "colour_width": 12, "decoder_width": 16, "disp_scale": 2}
#: a larger architecture for a GPU (``--large``)
LARGE_ARCH: dict[str, Any] = {"levels": 64, "width": 64, "dilations": [1, 2, 4, 8, 16, 32, 1, 1],
                              "colour_width": 32, "decoder_width": 64, "disp_scale": 1}
#: validation targets, (sources, targets) on the 9 x 9 grid
VAL_SETS: dict[str, tuple[list[tuple[int, int]], list[tuple[int, int]]]] = {
    "9x9": ([(0, 0), (0, 8), (8, 0), (8, 8)], [(4, 4), (2, 6), (1, 3)]),
    "7x7": ([(1, 1), (1, 7), (7, 1), (7, 7)], [(4, 4), (3, 5), (2, 2)]),
}
GRID = 9


@dataclass
class SynthTrainConfig:
    """Everything that defines a synthesis training run (written to ``config.json``)."""

    rooms: int = 16
    val_rooms: int = 1
    size: int = 512
    steps: int = 1500
    batch: int = 8
    patch: int = 48
    margin: int = 24
    lr: float = 1e-3
    seed: int = 0
    subgrids: list[int] = field(default_factory=lambda: [9, 9, 7, 7, 5, 3])
    centre_prob: float = 0.25
    grad_weight: float = 0.5
    disp_weight: float = 0.05
    val_every: int = 250
    ckpt_every: int = 250
    val_crop: int = 192
    ema: float = 0.999
    arch: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("rooms", "size", "steps", "batch", "patch", "val_every", "ckpt_every",
                     "val_crop"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected a positive integer, got {getattr(self, name)}")
        for name in ("val_rooms", "margin"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: expected >= 0, got {getattr(self, name)}")
        if not self.subgrids or any(k < 2 or k > GRID for k in self.subgrids):
            raise ValueError(f"subgrids: expected sizes in 2..{GRID}, got {self.subgrids}")
        if not 0 <= self.centre_prob <= 1:
            raise ValueError(f"centre_prob: expected a probability, got {self.centre_prob}")
        if self.val_crop <= 2 * self.margin:
            raise ValueError(f"val_crop: must exceed 2 * margin = {2 * self.margin}")
        if not self.arch:
            self.arch = dict(DEFAULT_ARCH)

    @property
    def loop(self) -> LoopConfig:
        """The optimisation settings, as :func:`~geodl.training.loop.run_loop` takes them."""
        return LoopConfig(steps=self.steps, lr=self.lr, seed=self.seed, ema=self.ema,
                          val_every=self.val_every, ckpt_every=self.ckpt_every)


# ----------------------------------------------------------------- rooms
def cache_room(seed: int, size: int, cache: str | Path) -> Path:
    """Render training room ``seed`` (9 x 9 views, ``size`` px) and store its
    RGB uint8 views, the centre view's ground-truth disparity (NaN where no
    surface) and its finite range; returns the file (reused when it exists
    and holds the disparity)."""
    from geodl.datasets import render_hci_scene

    path = room_path(Path(cache), check_training_seed(seed), size)
    if path.exists() and "disparity" in read_npz(path):
        return path
    lf = render_hci_scene(seed, size=size, grid=GRID, gt_factor=1, progress=False)
    u8 = (lf.views.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    d = lf.disparity[torch.isfinite(lf.disparity)]
    save_room_file(path, views=u8, disp_range=np.array([float(d.min()), float(d.max())]),
                   disparity=lf.disparity.float().numpy())
    return path


@dataclass
class SynthRoom:
    """All views (U, V, 3, H, W) uint8, the disparity range (min, max) px,
    widened by 0.25 px on each side as the scene's range is for depth search,
    and the centre view's ground-truth disparity (H, W) (NaN-free: pixels
    without a surface take the farthest value; None when unknown)."""

    views: Tensor
    disp_range: tuple[float, float]
    disparity: Tensor | None = None

    @classmethod
    def load(cls, path: str | Path) -> "SynthRoom":
        z = read_npz(path, required=("views", "disp_range"))
        lo, hi = (float(v) for v in z["disp_range"])
        disp = None
        if "disparity" in z:
            disp = torch.from_numpy(z["disparity"]).float()
            disp = torch.where(torch.isfinite(disp), disp, torch.full_like(disp, lo))
        return cls(torch.from_numpy(z["views"]), (lo - 0.25, hi + 0.25), disp)


# ------------------------------------------------------------ examples
@dataclass
class Example:
    views: Tensor  # (N, 3, S, S) float
    positions: Tensor  # (N, 2)
    target: Tensor  # (2,)
    truth: Tensor  # (3, S, S)
    disp_range: Tensor  # (2,)
    truth_disp: Tensor  # (S, S) the target's true disparity (NaN: unknown)


def grid_map(k: int, transpose: bool, n: int = GRID) -> Tensor:
    """(n, n) original flat view index at each position of the view grid
    after :func:`~geodl.training.rooms.dihedral` (``k`` quarter turns, then an
    optional transpose)."""
    return dihedral(torch.arange(n * n).reshape(n, n), k, transpose, (0, 1))


def photometric_rgb(x: Tensor, g: torch.Generator) -> Tensor:
    """Gamma in [0.7, 1.4] (log-uniform), per-channel gain in [0.8, 1.2],
    brightness in [-0.05, 0.05]; x (..., 3, H, W), one draw for all of it."""
    u = torch.rand(5, generator=g)
    gamma = math.exp(math.log(0.7) + float(u[0]) * (math.log(1.4) - math.log(0.7)))
    gain = (0.8 + 0.4 * u[1:4]).to(x.dtype)[:, None, None]
    bright = -0.05 + 0.1 * float(u[4])
    return (x.clamp_min(0).pow(gamma) * gain + bright).clamp(0, 1)


def _randint(lo: int, hi: int, g: torch.Generator) -> int:
    """Uniform integer in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def sample_example(room: SynthRoom, patch: int, margin: int, g: torch.Generator,
                   subgrids: Sequence[int], centre: bool) -> Example:
    """One augmented example (see the module docstring); ``centre`` adds the
    sub-grid's centre view as a fifth source (odd sub-grids only)."""
    U, V, _, H, W = room.views.shape
    s = 2 if float(torch.rand(1, generator=g)) < 0.3 else 1
    size = (patch + 2 * margin) * s
    if size > min(H, W):
        s, size = 1, patch + 2 * margin
    if size > min(H, W):
        raise ValueError(f"patch: patch + 2 margin = {size} px exceeds the room's {H}x{W}")
    k = subgrids[_randint(0, len(subgrids) - 1, g)]
    r0, c0 = _randint(0, GRID - k, g), _randint(0, GRID - k, g)
    e = k - 1
    pos = [(r0, c0), (r0, c0 + e), (r0 + e, c0), (r0 + e, c0 + e)]
    if centre and k % 2 == 1 and k >= 3:
        pos.append((r0 + e // 2, c0 + e // 2))
    others = [(r, c) for r in range(r0, r0 + k) for c in range(c0, c0 + k) if (r, c) not in pos]
    target = others[_randint(0, len(others) - 1, g)]
    rot, tr = _randint(0, 3, g), bool(_randint(0, 1, g))
    index = grid_map(rot, tr)  # positions are drawn on the transformed grid
    y, x = _randint(0, H - size, g), _randint(0, W - size, g)
    flat = room.views.reshape(U * V, *room.views.shape[2:])
    picks = [int(index[r, c]) for r, c in pos + [target]]
    crop = flat[picks, :, y:y + size, x:x + size].float() / 255
    if s > 1:
        crop = F.avg_pool2d(crop, s)
    crop = dihedral(crop, rot, tr, (2, 3))
    crop = photometric_rgb(crop, g)
    lo, hi = room.disp_range
    positions = torch.tensor(pos, dtype=torch.float32)
    tgt = torch.tensor(target, dtype=torch.float32)
    truth_disp = torch.full(crop.shape[-2:], torch.nan)
    if room.disparity is not None:  # the centre's, carried to the target
        d = room.disparity[None, y:y + size, x:x + size]
        d = dihedral(F.avg_pool2d(d, s) / s if s > 1 else d, rot, tr, (1, 2))[0]
        c = (GRID - 1) / 2  # the grid's centre is fixed by every dihedral map
        truth_disp = propagate_disparity(d, (c, c), tuple(target))
    return Example(crop[:-1], positions, tgt, crop[-1], torch.tensor([lo / s, hi / s]),
                   truth_disp)


def sample_batch(rooms: Sequence[SynthRoom], batch: int, patch: int, margin: int,
                 g: torch.Generator, subgrids: Sequence[int], centre_prob: float
                 ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """(views (B, N, 3, S, S), positions (B, N, 2), targets (B, 2), truth
    (B, 3, S, S), disp_range (B, 2), truth_disp (B, S, S));
    N is 4, or 5 for the whole batch with probability ``centre_prob`` (then
    only odd sub-grids are drawn)."""
    centre = float(torch.rand(1, generator=g)) < centre_prob
    grids = [k for k in subgrids if k % 2 == 1 and k >= 3] if centre else list(subgrids)
    if not grids:
        centre, grids = False, list(subgrids)
    ex = [sample_example(rooms[_randint(0, len(rooms) - 1, g)], patch, margin, g, grids, centre)
          for _ in range(batch)]
    return (torch.stack([e.views for e in ex]), torch.stack([e.positions for e in ex]),
            torch.stack([e.target for e in ex]), torch.stack([e.truth for e in ex]),
            torch.stack([e.disp_range for e in ex]), torch.stack([e.truth_disp for e in ex]))


# ----------------------------------------------------------------- loss
def synthesis_loss(pred: Tensor, truth: Tensor, margin: int, grad_weight: float,
                   disp: Tensor | None = None, truth_disp: Tensor | None = None,
                   disp_weight: float = 0.0) -> Tensor:
    """L1 colour loss on the central region (``margin`` px border dropped),
    plus ``grad_weight`` times L1 on the horizontal and vertical differences,
    plus ``disp_weight`` times L1 between the (B, H, W) disparities ``disp``
    and ``truth_disp`` where the latter is known (finite)."""
    def inner(x: Tensor) -> Tensor:
        return x[..., margin:-margin, margin:-margin] if margin else x
    pred, truth = inner(pred), inner(truth)
    loss = (pred - truth).abs().mean()
    if grad_weight:
        for dim in (-1, -2):
            loss = loss + grad_weight * (pred.diff(dim=dim) - truth.diff(dim=dim)).abs().mean()
    if disp_weight and disp is not None and truth_disp is not None:
        d, t = inner(disp), inner(truth_disp)
        known = torch.isfinite(t)
        if bool(known.any()):
            loss = loss + disp_weight * (d - torch.nan_to_num(t)).abs()[known].mean()
    return loss


@torch.no_grad()
def validate(model: nn.Module, rooms: Sequence[SynthRoom], crop: int, margin: int,
             device: torch.device) -> dict[str, float]:
    """Mean PSNR per validation set of :data:`VAL_SETS` on the central ``crop``
    px of each room (``margin`` px border excluded), and their mean ``psnr``."""
    was_training = model.training
    model.eval()
    out: dict[str, float] = {}
    for name, (sources, targets) in VAL_SETS.items():
        vals = []
        for room in rooms:
            _, _, _, H, W = room.views.shape
            c = min(crop, H, W)
            y, x = (H - c) // 2, (W - c) // 2
            v = room.views[..., y:y + c, x:x + c].float() / 255
            src = torch.stack([v[r, cc] for r, cc in sources])[None].to(device)
            pos = torch.tensor(sources, dtype=torch.float32)[None].to(device)
            rng = torch.tensor([room.disp_range], device=device)
            for t in targets:
                pred, _ = model(src, pos, torch.tensor([t], dtype=torch.float32, device=device),
                                rng)
                m = margin
                # scored as synthesize_learned returns it: clamped to [0, 1]
                vals.append(psnr(pred[0].clamp(0, 1).cpu(), v[t[0], t[1]], border=m))
        out[f"psnr_{name}"] = sum(vals) / max(len(vals), 1)
    out["psnr"] = sum(out.values()) / len(out)
    model.train(was_training)
    return out


# ---------------------------------------------------------------- loop
def train_synthesis(config: SynthTrainConfig, out: str | Path, cache: str | Path,
                    resume: bool = False, progress: bool | None = None,
                    rooms: tuple[list[SynthRoom], list[SynthRoom]] | None = None,
                    device: torch.device | None = None) -> nn.Module:
    """Train the learned synthesis network; returns the weight average, which
    is also what is validated and saved (``out/model.pt`` + ``model.json``,
    loadable by :func:`~geodl.lightfield.synthesis.learned.load_synthesis_model`).

    Args:
        out: run folder; must be empty or absent unless ``resume``.
        cache: folder of the rendered rooms.
        resume: continue from ``out/checkpoint.pt``.
        rooms: (train, validation) rooms to use instead of rendered ones (tests).
    """
    rank, world, dev = dist_setup()
    device = device or dev
    out = prepare_out(out, resume, rank)
    train_rooms, val_rooms = load_rooms(config.rooms, config.val_rooms,
                                        lambda s: cache_room(s, config.size, cache),
                                        SynthRoom.load, rank, world, given=rooms)

    def loss(net: nn.Module, b: tuple[Tensor, ...]) -> Tensor:
        views, pos, tgt, truth, rng, truth_disp = (t.to(device) for t in b)
        pred, disp = net(views, pos, tgt, rng)
        return synthesis_loss(pred, truth, config.margin, config.grad_weight, disp, truth_disp,
                              config.disp_weight)

    def save(avg: nn.Module, step: int, last: dict[str, float]) -> None:
        info = {"steps": step, "train_seeds": f"training_seeds({config.rooms})",
                "size": config.size, **{f"val_{k}": v for k, v in last.items()}}
        STORE.save(avg, "model", config.arch, out, info)
        # the colour loss alone can let the disparity stage drift late in a run:
        # also keep the weights of the best validation PSNR (best.pt + best.json)
        best = out / "best.json"
        if "psnr" in last and (not best.exists() or last["psnr"] >
                               json.loads(best.read_text())["info"].get("val_psnr", -math.inf)):
            STORE.save(avg, "best", config.arch, out, info)

    return run_loop(
        lambda: SynthesisNet(**config.arch), config.loop, out=out, config=asdict(config),
        sample=lambda g: sample_batch(train_rooms, config.batch, config.patch, config.margin,
                                      g, config.subgrids, config.centre_prob),
        loss=loss,
        validate=lambda avg: validate(avg, val_rooms, config.val_crop, config.margin, device)
        if val_rooms else {},
        save_weights=save, rank=rank, world=world, device=device, resume=resume,
        progress=progress, desc="train synthesis")
