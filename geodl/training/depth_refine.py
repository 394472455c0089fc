r"""Training of ``refine_net`` (the learned correction of ``cost_volume``),
``geodl train-depth --model refine_net``.

Data: rooms from :func:`geodl.datasets.training_seeds` (never the benchmark
seeds), each rendered, written as an HCI scene folder and read back (so the
views are the 8-bit PNGs any user's scene has), then ``cost_volume`` run
with the scene's disparity range, and the network input of
:func:`~geodl.lightfield.depth.refine_net.refine_features` stored with the
ground-truth disparity (``<cache>/refine_<seed>_<size>_ss<n>_<hash>.npz``, float16
features; the classical disparity is the one before ``cost_volume``'s own
smoothing, which is what the learned confidence replaces). Building a room
takes about 30 s on the 2-core CPU; the classical estimate is computed once,
not per step, which is what makes training on a CPU practical.

Crops of ``patch`` px get the augmentations of the depth recipes that apply
to a single-view input: the 8 rotations and transposes of the image axes
(disparity values unchanged; the features are built to be invariant, see
refine_net), photometric changes of the RGB channels, and a constant
disparity offset added to the input and the truth alike (the focus plane,
where disparity is 0, is arbitrary, so the confidence must not depend on
it). Loss: binary cross-entropy of the logit against "the classical
disparity is within 0.07 px of the truth" over pixels with ground truth, 4
px from the crop's border. Validation: BadPix 0.07 and MAE of the refined
disparity on the whole held-out rooms (15 px border, the benchmark's),
beside those of ``cost_volume`` (its WLS with its own confidence).

The loop, checkpoints, resumption and DistributedDataParallel behaviour are
:func:`geodl.training.loop.run_loop`'s.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geodl.io.npz import read_npz
from geodl.lightfield.depth.cost_volume import CostVolumeConfig
from geodl.training.loop import dist_setup, load_rooms, prepare_out, run_loop
from geodl.training.rooms import (
    check_training_seed,
    dihedral,
    photometric,
    render_training_scene,
    room_path,
    save_room_file,
    training_scenes,
)

#: pixels never scored at the image border (the benchmark's)
BORDER = 15


def refine_room_path(cache: Path, seed: int, size: int, matching: CostVolumeConfig,
                     family: str = "room") -> Path:
    """Cache file of one training scene's features; its name carries a hash
    of the ``cost_volume`` matching settings (``matching.matching()``, as JSON
    with sorted keys), so that features built with other matching settings
    are never reused, and the family of an objects scene."""
    tag = hashlib.sha1(json.dumps(matching.matching(), sort_keys=True).encode()).hexdigest()[:8]
    kind = "refine" if family == "room" else f"refine_{family}"
    return room_path(cache, seed, size, kind=kind, tag=tag)


def cache_refine_room(seed: int, size: int, cache: str | Path, family: str = "room") -> Path:
    """Build (or reuse) training scene ``seed``'s features and ground truth
    (a room, or an objects scene: :func:`~geodl.training.rooms.render_training_scene`)."""
    from geodl.lightfield import load_hci, write_hci_scene
    from geodl.lightfield.depth import estimate_disparity
    from geodl.lightfield.depth.refine_net import MATCHING, refine_features

    path = refine_room_path(Path(cache), check_training_seed(seed) if family == "room" else seed,
                            size, MATCHING, family)
    if path.exists():
        return path
    lf = render_training_scene(family, seed, size)
    with tempfile.TemporaryDirectory() as tmp:
        lf = load_hci(write_hci_scene(Path(tmp) / "scene", lf, scene=f"room_{seed}"))
    disp, conf = estimate_disparity(lf, "cost_volume", planes=False, config=MATCHING,
                                    smooth=0)  # before its WLS and the planes
    x = refine_features(lf, disp, conf)
    return save_room_file(path, features=x.numpy().astype(np.float16),
                          disparity=lf.disparity.float().numpy())


class RefineRoom:
    """Features (10, H, W) float32 and disparity (H, W), NaN where undefined."""

    def __init__(self, features: Tensor, disparity: Tensor) -> None:
        self.features, self.disparity = features, disparity

    @classmethod
    def load(cls, path: str | Path) -> "RefineRoom":
        z = read_npz(path, required=("features", "disparity"))
        return cls(torch.from_numpy(z["features"].astype(np.float32)),
                   torch.from_numpy(z["disparity"]).float())


def sample_crop(room: RefineRoom, patch: int, g: torch.Generator, offset: float = 1.0
                ) -> tuple[Tensor, Tensor]:
    """One augmented crop: features (10, P, P) and disparity (P, P)."""
    _, H, W = room.features.shape
    p = min(patch, H, W)
    y = int(torch.randint(0, H - p + 1, (1,), generator=g))
    x = int(torch.randint(0, W - p + 1, (1,), generator=g))
    f = room.features[:, y:y + p, x:x + p].clone()
    d = room.disparity[y:y + p, x:x + p].clone()
    f[:3] = photometric(f[:3], g)
    shift = offset * (2 * float(torch.rand(1, generator=g)) - 1)
    f[3] += shift
    d += shift
    k = int(torch.randint(0, 4, (1,), generator=g))
    t = bool(torch.randint(0, 2, (1,), generator=g))
    return dihedral(f, k, t, (1, 2)), dihedral(d, k, t, (0, 1))


def sample_batch(rooms: Sequence[RefineRoom], batch: int, patch: int, g: torch.Generator
                 ) -> tuple[Tensor, Tensor]:
    crops = [sample_crop(rooms[int(torch.randint(0, len(rooms), (1,), generator=g))], patch, g)
             for _ in range(batch)]
    return torch.stack([c[0] for c in crops]), torch.stack([c[1] for c in crops])


def scores(pred: Tensor, gt: Tensor, border: int = BORDER) -> tuple[float, float, int]:
    """(bad pixels at 0.07, summed absolute error, counted pixels) inside the border."""
    p, g = pred[border:-border, border:-border], gt[border:-border, border:-border]
    ok = torch.isfinite(g)
    e = (p - g)[ok].abs()
    return float((e > 0.07).sum()), float(e.sum()), int(ok.sum())


def confidence_loss(logits: Tensor, features: Tensor, disparity: Tensor, margin: int = 4,
                    thresh: float = 0.07) -> Tensor:
    """Binary cross-entropy of ``logits`` (B, H, W) against ``|classical - truth| <
    thresh`` over finite truths, ``margin`` px from the border."""
    sl = (..., slice(margin, -margin or None), slice(margin, -margin or None))
    logits, d, gt = logits[sl], features[:, 3][sl], disparity[sl]
    ok = torch.isfinite(gt)
    target = ((d - torch.nan_to_num(gt)).abs() < thresh).float()
    return F.binary_cross_entropy_with_logits(logits[ok], target[ok])


@torch.no_grad()
def validate(model: nn.Module, rooms: Sequence[RefineRoom], device: torch.device
             ) -> dict[str, float]:
    """BadPix 0.07 (%) and MAE of the refined disparity and of ``cost_volume``'s
    (its WLS with its own confidence) over the whole held-out rooms."""
    from geodl.lightfield.depth.cost_volume import confidence_smoothing
    from geodl.lightfield.depth.refine_net import refine_with_confidence
    was_training = model.training
    model.eval()
    tot = np.zeros((2, 3))
    for room in rooms:
        f = room.features
        p = torch.sigmoid(model(f[None].to(device))[0]).cpu()
        tot[0] += scores(refine_with_confidence(f[3], p, f[:3], confidence=f[4]), room.disparity)
        tot[1] += scores(confidence_smoothing(f[3], f[4], f[:3]), room.disparity)
    model.train(was_training)
    n = np.maximum(tot[:, 2], 1)
    return {"badpix_0.07": 100 * tot[0, 0] / n[0], "mae": tot[0, 1] / n[0],
            "cost_volume_badpix_0.07": 100 * tot[1, 0] / n[1]}


def train_refine(config, out: str | Path, cache: str | Path, resume: bool = False,
                 progress: bool | None = None,
                 rooms: tuple[list[RefineRoom], list[RefineRoom]] | None = None,
                 device: torch.device | None = None) -> nn.Module:
    """Train ``refine_net`` with a :class:`~geodl.training.depth.TrainConfig`
    (model ``"refine_net"``; ``patch`` is the crop size); returns the weight
    average that is validated and saved (``out/model.pt`` + ``model.json``)."""
    from geodl.lightfield.depth.learned import MODELS, save_model

    rank, world, dev = dist_setup()
    device = device or dev
    out = prepare_out(out, resume, rank)
    train_rooms, val_rooms = load_rooms(config.rooms, config.val_rooms,
                                        lambda s: cache_refine_room(s, config.size, cache),
                                        RefineRoom.load, rank, world, given=rooms)
    if config.objects and rooms is not None:
        raise ValueError("objects: the given rooms replace every rendered scene; set objects=0")
    if config.objects:
        train_rooms += load_rooms(config.objects, 0,
                                  lambda s: cache_refine_room(s, config.size, cache, "objects"),
                                  RefineRoom.load, rank, world)[0]

    def save(avg: nn.Module, step: int, last: dict[str, float]) -> None:
        info = {"steps": step, "train_seeds": training_scenes(config.rooms, config.objects),
                "size": config.size, **{f"val_{k}": v for k, v in last.items()}}
        save_model(avg, "model", config.arch, out, info)

    def loss(net: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        x = batch[0].to(device)
        return confidence_loss(net(x), x, batch[1].to(device))

    return run_loop(
        lambda: MODELS["refine_net"](**config.arch), config.loop, out=out,
        config=asdict(config),
        sample=lambda g: sample_batch(train_rooms, config.batch, config.patch, g),
        loss=loss, validate=lambda avg: validate(avg, val_rooms, device) if val_rooms else {},
        save_weights=save, rank=rank, world=world, device=device, resume=resume,
        progress=progress, desc="train refine_net")
