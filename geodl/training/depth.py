r"""One training loop for the learned disparity methods (``epinet``, ``cost_net``;
``refine_net`` in :mod:`geodl.training.depth_refine`).

Data: rooms rendered from :func:`geodl.datasets.training_seeds` (never the
benchmark seeds), cached on disk as grey uint8 star views plus the centre
view's disparity (``<cache>/room_<seed>_<size>_ss<n>.npz``, ``n`` the rays per
pixel side). The last ``val_rooms`` seeds after the training ones are held out for validation.

Patches follow the EPINet / LFattNet recipes:

* scale: a patch of ``s * P`` px is averaged down by ``s`` in {1, 2} and its
  disparity divided by ``s`` (a point moving ``d`` px per view moves ``d / s``
  after the reduction);
* the 8 rotations and transposes, applied to the image axes and the view-grid
  axes together, which keeps the HCI disparity's sign (see
  :mod:`geodl.training.rooms`);
* photometric: random gamma, contrast and brightness;
* optional camera degradations (off in the shipped recipe): a plenoptic
  camera's vignetting, darkest in the corner views
  (:func:`~geodl.training.rooms.vignette`, ``vignetting``), and sensor noise
  growing with the signal (:func:`~geodl.training.rooms.sensor_noise`,
  ``noise``);
* rejection of textureless patches (centre view standard deviation below
  ``min_texture``) and of patches with undefined disparity.

Training runs in one process or, launched by ``torchrun --nproc_per_node=N``,
as DistributedDataParallel (gloo on CPU, nccl on CUDA), each rank drawing
patches from its own shard of the rooms with its own generator; the loop,
checkpoints and resumption are :mod:`geodl.training.loop`'s (shared with
``geodl train-synthesis``). Rank 0 logs validation BadPix 0.07 to ``log.jsonl``
and writes ``model.pt`` + ``model.json`` (the loadable weights: the
exponential moving average of the weights, see
:func:`~geodl.lightfield.depth.learned.load_model`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.io.npz import read_npz
from geodl.lightfield.depth.cost_net import CostNet, cost_net_input
from geodl.lightfield.depth.epinet import EPINet, epinet_input
from geodl.lightfield.depth.filters import to_grey
from geodl.lightfield.depth.learned import MODELS, save_model, star_views
from geodl.training.depth_refine import train_refine
from geodl.training.loop import LoopConfig, dist_setup, load_rooms, prepare_out, run_loop
from geodl.training.rooms import (
    check_training_seed,
    dihedral,
    photometric,
    render_training_scene,
    room_path,
    save_room_file,
    sensor_noise,
    training_scenes,
    vignette,
)

#: default architecture per model (the shipped CPU-sized configurations)
DEFAULT_CONFIGS: dict[str, dict[str, Any]] = {
    "epinet": {"n_views": 9, "width": 12, "stream_blocks": 3, "merge_blocks": 4,
               "normalize": True},
    "cost_net": {"n_views": 9, "features": 8, "width": 8, "depth3d": 3, "label_step": 0.5},
    "refine_net": {"widths": [16, 24, 32, 48, 64]},
}
#: default patches per step, patch size and steps (about an hour on a 2-core CPU)
DEFAULT_BATCH = {"epinet": 16, "cost_net": 8, "refine_net": 8}
DEFAULT_PATCH = {"epinet": 32, "cost_net": 24, "refine_net": 128}
DEFAULT_STEPS = {"epinet": 11000, "cost_net": 5000, "refine_net": 2000}
#: larger configurations for a GPU (``--large``)
LARGE_CONFIGS: dict[str, dict[str, Any]] = {
    "epinet": {"n_views": 9, "width": 48, "stream_blocks": 3, "merge_blocks": 7,
               "normalize": True},
    "cost_net": {"n_views": 9, "features": 16, "width": 32, "depth3d": 5, "label_step": 0.25},
    "refine_net": {"widths": [32, 48, 64, 96, 128, 160]},
}
#: disparity labels searched by cost_net during training (px)
TRAIN_RANGE = (-4.0, 4.0)


@dataclass
class TrainConfig:
    """Everything that defines a training run (written to ``config.json``)."""

    model: str = "epinet"
    rooms: int = 8
    val_rooms: int = 1
    #: objects scenes (geodl.datasets.objects, seeds 0 ..) trained on beside the rooms
    objects: int = 0
    size: int = 512
    steps: int = 0  # 0: DEFAULT_STEPS of the model
    batch: int = 0  # 0: DEFAULT_BATCH of the model
    patch: int = 0  # 0: DEFAULT_PATCH of the model
    lr: float = 1e-3
    seed: int = 0
    min_texture: float = 0.03
    #: the largest sensor-noise level of ``rooms.sensor_noise``, 0 for none
    noise: float = 0.0
    #: the largest vignetting strength of ``rooms.vignette``, 0 for none
    vignetting: float = 0.0
    val_every: int = 250
    ckpt_every: int = 250
    val_crop: int = 160
    #: light-field folders with ground truth (e.g. an HCI additional scene)
    #: validated whole, beside the held-out rooms; epinet and cost_net
    val_scenes: list[str] = field(default_factory=list)
    ema: float = 0.999
    arch: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model: expected one of {sorted(MODELS)}, got {self.model!r}")
        for name in ("rooms", "val_rooms", "objects", "size", "val_every",
                     "ckpt_every", "val_crop"):
            if getattr(self, name) < (0 if name in ("val_rooms", "objects", "steps") else 1):
                raise ValueError(f"{name}: expected a positive integer, got {getattr(self, name)}")
        for name in ("noise", "vignetting"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise ValueError(f"{name}: expected a level in [0, 1], got {value!r}")
            if value and self.model == "refine_net":
                raise ValueError(f"{name}: refine_net trains on precomputed estimates of clean "
                                 f"views; the camera degradations apply to epinet and cost_net")
        if self.val_scenes and self.model == "refine_net":
            raise ValueError("val_scenes: refine_net validates on held-out rooms only")
        if not self.arch:
            self.arch = dict(DEFAULT_CONFIGS[self.model])
        for name, table in (("batch", DEFAULT_BATCH), ("patch", DEFAULT_PATCH),
                            ("steps", DEFAULT_STEPS)):
            if getattr(self, name) == 0:
                setattr(self, name, table[self.model])
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected a positive integer, got {getattr(self, name)}")

    @property
    def loop(self) -> LoopConfig:
        """The optimisation settings, as :func:`~geodl.training.loop.run_loop` takes them."""
        return LoopConfig(steps=self.steps, lr=self.lr, seed=self.seed, ema=self.ema,
                          val_every=self.val_every, ckpt_every=self.ckpt_every)


# ----------------------------------------------------------------- rooms
def cache_room(seed: int, size: int, cache: str | Path, family: str = "room") -> Path:
    """Render training scene ``seed`` of ``family`` (a room or an objects
    scene: :func:`~geodl.training.rooms.render_training_scene`) and store its
    grey uint8 star views and disparity; returns the file (reused when it
    exists)."""
    path = room_path(Path(cache), check_training_seed(seed) if family == "room" else seed,
                     size, kind=family)
    if path.exists():
        return path
    lf = render_training_scene(family, seed, size)
    g = to_grey(lf.views)
    views = torch.stack([g[r, c] for r, c in star_views(9)])
    u8 = (views.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return save_room_file(path, views=u8, disparity=lf.disparity.float().numpy())


@dataclass
class Room:
    """Grey star views (S, H, W) float in [0, 1] and disparity (H, W), NaN where undefined."""

    views: Tensor
    disparity: Tensor

    @classmethod
    def load(cls, path: str | Path) -> "Room":
        z = read_npz(path, required=("views", "disparity"))
        return cls(torch.from_numpy(z["views"]).float() / 255,
                   torch.from_numpy(z["disparity"]).float())

    @classmethod
    def from_scene(cls, path: str | Path) -> "Room":
        """A light-field folder with ground-truth disparity
        (:func:`~geodl.lightfield.load_lightfield`: an HCI scene), as grey star views."""
        from geodl.lightfield import load_lightfield

        lf = load_lightfield(path)
        gt = lf.ground_truth.disparity if lf.ground_truth is not None else None
        if gt is None:
            raise ValueError(f"val_scenes: {path} has no ground-truth disparity "
                             f"(gt_disp_lowres.pfm)")
        U, V = lf.grid_shape
        if (U, V) != (9, 9):
            raise ValueError(f"val_scenes: {path} is a {U}x{V} grid; the networks read 9x9")
        grey = to_grey(lf.views.float())  # as the methods read a light field
        return cls(torch.stack([grey[r, c] for r, c in star_views(9)]), gt.float())


# ------------------------------------------------------------- patches
def augment_grid(grid: Tensor, disp: Tensor, k: int, transpose: bool) -> tuple[Tensor, Tensor]:
    """Apply one dihedral map to the view grid (dims 0, 1) and the image axes
    (dims 2, 3) of ``grid`` (n, n, h, w), and to ``disp`` (h, w). Disparity
    values are unchanged (see the module docstring)."""
    return dihedral(dihedral(grid, k, transpose, (0, 1)), k, transpose, (2, 3)), \
        dihedral(disp, k, transpose, (0, 1))


def sample_patch(room: Room, patch: int, g: torch.Generator, min_texture: float,
                 n: int = 9, tries: int = 50, noise: float = 0.0, vignetting: float = 0.0
                 ) -> tuple[Tensor, Tensor] | None:
    """One augmented patch: (n, n, P, P) grey grid (star views filled, the rest
    zero) and (P, P) disparity; None if ``tries`` draws were all rejected.
    ``noise`` and ``vignetting``: the camera degradations' largest levels."""
    star = star_views(n)
    m = n // 2
    offsets = (torch.tensor(star, dtype=torch.float32) - m) / max(m, 1)
    centre = star.index((m, m))
    S, H, W = room.views.shape
    for _ in range(tries):
        s = 2 if float(torch.rand(1, generator=g)) < 0.3 else 1
        size = patch * s
        if size > min(H, W):
            s, size = 1, patch
        y = int(torch.randint(0, H - size + 1, (1,), generator=g))
        x = int(torch.randint(0, W - size + 1, (1,), generator=g))
        d = room.disparity[y:y + size, x:x + size]
        if not torch.isfinite(d).all():
            continue
        v = room.views[:, y:y + size, x:x + size]
        if s > 1:
            v = F.avg_pool2d(v[None], s)[0]
            d = F.avg_pool2d(d[None, None], s)[0, 0] / s
        if float(v[centre].std()) < min_texture:
            continue
        v = photometric(v, g)
        k = int(torch.randint(0, 4, (1,), generator=g))
        t = bool(torch.randint(0, 2, (1,), generator=g))
        # last of the draws, so that the degradations change nothing else of
        # the patch; after the texture test, so a degraded patch is kept
        # whenever its clean one is
        v = sensor_noise(vignette(v, offsets, g, vignetting), g, noise)
        grid = torch.zeros(n, n, patch, patch)
        for i, (r, c) in enumerate(star):
            grid[r, c] = v[i]
        return augment_grid(grid, d, k, t)
    return None


def sample_batch(rooms: Sequence[Room], batch: int, patch: int, g: torch.Generator,
                 min_texture: float, noise: float = 0.0, vignetting: float = 0.0
                 ) -> tuple[Tensor, Tensor]:
    """(B, n, n, P, P) grids and (B, P, P) disparities from random rooms."""
    grids, disps = [], []
    while len(grids) < batch:
        room = rooms[int(torch.randint(0, len(rooms), (1,), generator=g))]
        out = sample_patch(room, patch, g, min_texture, noise=noise, vignetting=vignetting)
        if out is not None:
            grids.append(out[0])
            disps.append(out[1])
    return torch.stack(grids), torch.stack(disps)


# --------------------------------------------------------------- models
def build_model(name: str, arch: dict[str, Any]) -> nn.Module:
    return MODELS[name](**arch)


def predict(model: nn.Module, grids: Tensor) -> Tensor:
    """Disparity (B, H, W) of either model from (B, n, n, H, W) grey grids."""
    core = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    if isinstance(core, EPINet):
        return model(epinet_input(grids))
    if isinstance(core, CostNet):
        labels = core.labels(TRAIN_RANGE, grids.device)
        return model(cost_net_input(grids), labels)[0]
    raise TypeError(f"model: unknown type {type(core).__name__}")


def masked_l1(pred: Tensor, target: Tensor, margin: int) -> Tensor:
    """Mean ``|pred - target|`` over finite targets, ``margin`` px from the border."""
    if margin:
        pred = pred[..., margin:-margin, margin:-margin]
        target = target[..., margin:-margin, margin:-margin]
    ok = torch.isfinite(target)
    return (pred - torch.nan_to_num(target)).abs()[ok].mean()


@torch.no_grad()
def validate(model: nn.Module, rooms: Sequence[Room], crop: int | None, device: torch.device,
             border: int = 8) -> dict[str, float]:
    """BadPix 0.07 (%) and MAE over the central ``crop`` x ``crop`` of each
    held-out room (the whole room for ``crop`` None), on finite ground truth
    ``border`` px from the crop's edge (the HCI toolkit leaves 15 px)."""
    was_training = model.training
    model.eval()
    bad, err, count = 0.0, 0.0, 0
    n = 9
    inner = slice(border, -border) if border else slice(None)
    for room in rooms:
        S, H, W = room.views.shape
        ch, cw = (H, W) if crop is None else (min(crop, H), min(crop, W))
        y, x = (H - ch) // 2, (W - cw) // 2
        grid = torch.zeros(1, n, n, ch, cw)
        for i, (r, cc) in enumerate(star_views(n)):
            grid[0, r, cc] = room.views[i, y:y + ch, x:x + cw]
        pred = predict(model, grid.to(device))[0].cpu()[inner, inner]
        gt = room.disparity[y:y + ch, x:x + cw][inner, inner]
        ok = torch.isfinite(gt)
        e = (pred - gt)[ok].abs()
        bad += float((e > 0.07).sum())
        err += float(e.sum())
        count += int(ok.sum())
    model.train(was_training)
    return {"badpix_0.07": 100 * bad / max(count, 1), "mae": err / max(count, 1)}


# ---------------------------------------------------------------- loop
def train(config: TrainConfig, out: str | Path, cache: str | Path, resume: bool = False,
          progress: bool | None = None, rooms: tuple[list[Room], list[Room]] | None = None,
          device: torch.device | None = None) -> nn.Module:
    """Train ``config.model``; returns the trained model's weight average
    (exponential, ``config.ema``), which is also what is validated and saved.
    The loop, checkpoints and DDP behaviour are :func:`geodl.training.loop.run_loop`'s.

    Args:
        out: run folder (``config.json``, ``log.jsonl``, ``checkpoint.pt``,
            ``model.pt``, ``model.json``); must be empty or absent unless ``resume``.
        cache: folder of the rendered rooms.
        resume: continue from ``out/checkpoint.pt``.
        rooms: (train, validation) rooms to use instead of rendered ones (tests).

    ``refine_net`` trains on precomputed classical estimates:
    :func:`geodl.training.depth_refine.train_refine`.
    """
    if config.model == "refine_net":
        return train_refine(config, out, cache, resume, progress, rooms, device)
    rank, world, dev = dist_setup()
    device = device or dev
    out = prepare_out(out, resume, rank)
    train_rooms, val_rooms = load_rooms(config.rooms, config.val_rooms,
                                        lambda s: cache_room(s, config.size, cache),
                                        Room.load, rank, world, given=rooms)
    if config.objects and rooms is not None:
        raise ValueError("objects: the given rooms replace every rendered scene; set objects=0")
    if config.objects:
        train_rooms += load_rooms(config.objects, 0,
                                  lambda s: cache_room(s, config.size, cache, "objects"),
                                  Room.load, rank, world)[0]
    scenes = {Path(p).name: Room.from_scene(p) for p in config.val_scenes} if rank == 0 else {}
    margin = 4

    def validate_all(avg: nn.Module) -> dict[str, float]:
        metrics = validate(avg, val_rooms, config.val_crop, device) if val_rooms else {}
        for name, scene in scenes.items():
            # the whole scene with the benchmark's 15 px border
            for key, value in validate(avg, [scene], None, device, border=15).items():
                metrics[f"{name}_{key}"] = value
        return metrics

    def save(avg: nn.Module, step: int, last: dict[str, float]) -> None:
        info = {"steps": step, "train_seeds": training_scenes(config.rooms, config.objects),
                "size": config.size, **{f"val_{k}": v for k, v in last.items()}}
        save_model(avg, "model", config.arch, out, info)

    return run_loop(
        lambda: build_model(config.model, config.arch), config.loop, out=out,
        config=asdict(config),
        sample=lambda g: sample_batch(train_rooms, config.batch, config.patch, g,
                                      config.min_texture, config.noise, config.vignetting),
        loss=lambda net, b: masked_l1(predict(net, b[0].to(device)), b[1].to(device), margin),
        validate=validate_all,
        save_weights=save, rank=rank, world=world, device=device, resume=resume,
        progress=progress, desc=f"train {config.model}")
