r"""Training the learned per-pixel filter of multi-view stereo
(:class:`geodl.mvs.learned_filter.ConsistencyNet`): ``geodl train-photo-filter``.

Each training room (``training_seeds``, never a benchmark room) is
photographed as ``geodl render-captures --kind photos`` does (24 photos at
640 x 480 with known cameras), its depth estimated with
:func:`~geodl.mvs.multi_view_stereo`'s defaults (the sweep, the filter, the
textureless fill), and every view's pixels described by
:func:`~geodl.mvs.learned_filter.pixel_features`; a pixel's label is
whether its depth lies within ``tolerance`` (relative) of the rendered
z-depth (the nearest surface in its block at the working resolution). A
room's cache holds ``samples`` pixels drawn at random among those that see
a surface (``<cache>/photo_filter_<seed>.pt``).

The loop is :func:`geodl.training.loop.run_loop` (seeded, resumable, the
weight average validated and saved); the loss is binary cross-entropy on
batches drawn from every training room; validation reports the held-out
rooms' pixel accuracy, precision and recall at the filter's threshold
(the fused F-score is measured by ``experiments/room_reconstruction.py``).
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.io.atomic import atomic_path
from geodl.training.loop import LoopConfig, dist_setup, load_rooms, prepare_out, run_loop

#: pixels kept per room in the cache (of about 1.8 million that see a surface)
SAMPLES = 200_000


@dataclass(frozen=True)
class FilterTrainConfig:
    """Every setting of :func:`train_photo_filter`."""

    #: training rooms (the first of ``training_seeds``) and held-out rooms after them
    rooms: int = 6
    val_rooms: int = 1
    #: a pixel is right when its depth is within this share of the true depth
    #: (the filter's tolerance once the maps are filled)
    tolerance: float = 0.02
    #: hidden width and layers of the perceptron
    hidden: int = 32
    layers: int = 2
    #: pixels per step
    batch: int = 8192
    #: pixels cached per room
    samples: int = SAMPLES
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(steps=1500, lr=3e-3,
                                                                val_every=500, ckpt_every=500))

    def __post_init__(self) -> None:
        for name in ("rooms", "hidden", "layers", "batch", "samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if isinstance(self.val_rooms, bool) or not isinstance(self.val_rooms, int) \
                or self.val_rooms < 0:
            raise ValueError(f"val_rooms: expected an integer >= 0, got {self.val_rooms!r}")
        if not (isinstance(self.tolerance, (int, float)) and 0 < self.tolerance < 1):
            raise ValueError(f"tolerance: expected a share in (0, 1), got {self.tolerance!r}")


def true_depth_at(depth: Tensor, width: int) -> Tensor:
    """(N, h, w) rendered z-depth (N, H, W) at a working ``width``: the nearest
    surface of each block (0 where nothing is hit)."""
    factor = depth.shape[-1] // width
    if factor < 1 or depth.shape[-1] != factor * width:
        raise ValueError(f"depth: width {depth.shape[-1]} is not a multiple of {width}")
    g = -F.max_pool2d(-depth[:, None].float(), factor)[:, 0]
    return torch.where(torch.isfinite(g), g, torch.zeros_like(g))


def filter_room_path(cache: Path, seed: int, tolerance: float, samples: int) -> Path:
    """The cache file of room ``seed`` (named by the label tolerance and size)."""
    return Path(cache) / f"photo_filter_{seed:04d}_t{tolerance:g}_n{samples}.pt"


def cache_filter_room(seed: int, cache: str | Path, tolerance: float = 0.02,
                      samples: int = SAMPLES, progress: bool | None = None) -> Path:
    """Render, estimate and describe room ``seed`` (module docstring); the
    cached file, reused when present."""
    from geodl.datasets.rooms.photos import write_room_photos
    from geodl.mvs import load_posed_photos, multi_view_stereo
    from geodl.mvs.learned_filter import pixel_features, support_views
    from geodl.mvs.stereo import NEIGHBOUR_ANGLE
    from geodl.training.rooms import check_training_seed

    check_training_seed(seed)
    path = filter_room_path(Path(cache), seed, tolerance, samples)
    if path.exists():
        return path
    with tempfile.TemporaryDirectory() as tmp:
        folder, photos = write_room_photos(Path(tmp) / "photos", seed, progress=progress)
        frames = load_posed_photos(folder)
        stereo = multi_view_stereo(frames, progress=progress)
    truth = true_depth_at(photos.depth, stereo.depth[0].shape[-1])
    support = support_views(frames, stereo.scene.ranges, NEIGHBOUR_ANGLE)
    xs, ys = [], []
    for k in range(len(frames)):
        x = pixel_features(stereo.depth, stereo.cameras, k, stereo.images[k],
                           stereo.confidence[k], stereo.filled[k], stereo.neighbours[k],
                           support[k])
        g, d = truth[k], stereo.depth[k]
        seen = (g > 0) & (d > 0)
        xs.append(x[seen])
        ys.append(((d - g).abs() <= tolerance * g)[seen])
    x, y = torch.cat(xs), torch.cat(ys)
    pick = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:samples]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp_path:
        torch.save({"features": x[pick].float(), "right": y[pick]}, tmp_path)
    return path


def load_filter_room(path: Path) -> tuple[Tensor, Tensor]:
    """(features (P, F) float32, right (P,) bool) of a cached room."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    return data["features"], data["right"]


def pixel_scores(prob: Tensor, right: Tensor, threshold: float) -> dict[str, float]:
    """Accuracy, precision and recall of ``prob > threshold`` against ``right``."""
    keep = prob > threshold
    tp = float((keep & right).sum())
    return {"accuracy": float((keep == right).float().mean()),
            "precision": tp / max(1.0, float(keep.sum())),
            "recall": tp / max(1.0, float(right.sum()))}


def train_photo_filter(config: FilterTrainConfig, out: str | Path, cache: str | Path,
                       resume: bool = False, progress: bool | None = None,
                       rooms: tuple[list, list] | None = None) -> nn.Module:
    """Train a :class:`~geodl.mvs.learned_filter.ConsistencyNet` (module
    docstring); writes ``out/model.pt`` + ``model.json``. ``rooms`` (train,
    validation) lists of (features, right) replace the rendered rooms (tests)."""
    from geodl.mvs.learned_filter import FEATURES, FILTER_WEIGHTS, THRESHOLD, ConsistencyNet

    if not isinstance(config, FilterTrainConfig):
        raise TypeError(f"config: expected a FilterTrainConfig, got {type(config).__name__}")
    rank, world, device = dist_setup()
    out = prepare_out(out, resume, rank)
    train, val = load_rooms(
        config.rooms, config.val_rooms,
        lambda s: cache_filter_room(s, cache, config.tolerance, config.samples, progress),
        load_filter_room, rank, world, given=rooms)
    x = torch.cat([r[0] for r in train])
    y = torch.cat([r[1] for r in train]).float()
    arch = {"features": len(FEATURES), "hidden": config.hidden, "layers": config.layers}
    if x.shape[1] != len(FEATURES):
        raise ValueError(f"rooms: expected {len(FEATURES)} features per pixel, got {x.shape[1]}")

    def build() -> nn.Module:
        net = ConsistencyNet(**arch)
        net.set_standardisation(x)
        return net

    def sample(g: torch.Generator) -> tuple[Tensor, Tensor]:
        idx = torch.randint(len(y), (config.batch,), generator=g)
        return x[idx], y[idx]

    def loss(net: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        return F.binary_cross_entropy_with_logits(net(batch[0].to(device)), batch[1].to(device))

    def validate(net: nn.Module) -> dict[str, float]:
        if not val:
            return {}
        with torch.no_grad():
            prob = torch.cat([torch.sigmoid(net(r[0].to(device))).cpu() for r in val])
        return pixel_scores(prob, torch.cat([r[1] for r in val]), THRESHOLD)

    def save(avg: nn.Module, step: int, last: dict[str, float]) -> None:
        from geodl.datasets import training_seeds

        info = {"steps": step, "train_seeds": training_seeds(config.rooms),
                "tolerance": config.tolerance, **{f"val_{k}": v for k, v in last.items()}}
        FILTER_WEIGHTS.save(avg, "model", arch, out, info)

    return run_loop(build, config.loop, out=out, config=asdict(config), sample=sample, loss=loss,
                    validate=validate, save_weights=save, rank=rank, world=world, device=device,
                    resume=resume, progress=progress, desc="train photo filter")
