r"""What every training command shares (``geodl train-depth``,
``geodl train-synthesis``): the DistributedDataParallel set-up, the run folder,
the sharding of training rooms over ranks, and the loop itself (Adam with a
cosine schedule down to a tenth of the rate, an exponential moving average of
the weights, progress bar, validation log, resumable checkpoints).

A run folder holds ``config.json``, ``log.jsonl`` (one line per validation:
step, loss, the validation metrics, seconds since the start of this process),
``checkpoint.pt`` (model, weight average, optimiser, scheduler, step; written
atomically by :func:`geodl.io.atomic.atomic_path`, as are the cached training rooms) and the
loadable weights the caller writes (``model.pt`` + ``model.json``, see
:class:`geodl.nn.weights.WeightStore`).

Under ``torchrun --nproc_per_node=N`` the loop runs as DistributedDataParallel
(gloo on CPU, nccl on CUDA): every rank builds the same initial weights (one
seed), draws its own batches with its own generator, and rank 0 alone shows
the bar, validates, logs and writes files. A resumed run continues from
``checkpoint.pt``; the batch generators are re-seeded from (seed, rank, step),
so a resumed run is deterministic but not bit-identical to an uninterrupted one.
"""
from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor, nn

from geodl.io.atomic import atomic_path

T = TypeVar("T")
R = TypeVar("R")


def dist_setup() -> tuple[int, int, torch.device]:
    """(rank, world size, device); joins the process group when launched by
    torchrun (``WORLD_SIZE`` > 1) and it is not joined yet."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    return rank, world, device


def prepare_out(out: str | Path, resume: bool, rank: int) -> Path:
    """The run folder, created by rank 0; a non-empty one is refused unless
    ``resume``."""
    out = Path(out)
    if rank == 0:
        if out.exists() and any(out.iterdir()) and not resume:
            raise FileExistsError(f"out: {out} is not empty; pass resume=True (--resume) "
                                  "to continue a run, or choose another folder")
        out.mkdir(parents=True, exist_ok=True)
    return out


def shard(items: Sequence[T], rank: int, world: int) -> list[T]:
    """This rank's share of ``items`` (all of them when there are fewer than ranks)."""
    return list(items[rank::world]) if len(items) >= world else list(items)


def load_rooms(n_train: int, n_val: int, cache: Callable[[int], Path],
               load: Callable[[Path], R], rank: int, world: int,
               given: tuple[Sequence[R], Sequence[R]] | None = None
               ) -> tuple[list[R], list[R]]:
    """(this rank's training rooms, the validation rooms): the first
    ``n_train`` of ``training_seeds`` and the ``n_val`` after them, rendered
    (``cache(seed)`` -> file, reused when present) and read by ``load``; the
    training rooms sharded by rank, the validation rooms on every rank
    (rendered by rank 0; the others wait at a barrier). ``given`` (train,
    validation) rooms replace the rendered ones (tests)."""
    if given is not None:
        return shard(given[0], rank, world), list(given[1])
    from geodl.datasets import training_seeds

    seeds = training_seeds(n_train + n_val)
    mine, val_seeds = shard(seeds[:n_train], rank, world), seeds[n_train:]
    for s in mine + (list(val_seeds) if rank == 0 else []):
        cache(s)
    if world > 1:
        dist.barrier()
    return [load(cache(s)) for s in mine], [load(cache(s)) for s in val_seeds]


@dataclass(frozen=True)
class LoopConfig:
    """The optimisation of :func:`run_loop` (each training command's
    configuration holds these fields too: ``TrainConfig.loop``,
    ``SynthTrainConfig.loop``)."""

    #: optimiser steps
    steps: int
    #: Adam's learning rate at the start of the cosine schedule (it ends at a tenth)
    lr: float = 1e-3
    #: seed of the initial weights and of the batch generators
    seed: int = 0
    #: the largest decay of the weight average
    ema: float = 0.999
    #: validate (rank 0) every this many steps, and at the end
    val_every: int = 250
    #: write the checkpoint and the weights every this many steps, and at the end
    ckpt_every: int = 250

    def __post_init__(self) -> None:
        for name in ("steps", "val_every", "ckpt_every"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr: expected a positive learning rate, got {self.lr!r}")
        if not 0 <= self.ema <= 1:
            raise ValueError(f"ema: expected a decay in [0, 1], got {self.ema!r}")


def run_loop(build: Callable[[], nn.Module], loop: LoopConfig, *, out: Path,
             config: dict[str, Any], sample: Callable[[torch.Generator], Any],
             loss: Callable[[nn.Module, Any], Tensor],
             validate: Callable[[nn.Module], dict[str, float]],
             save_weights: Callable[[nn.Module, int, dict[str, float]], None],
             rank: int, world: int, device: torch.device, resume: bool = False,
             progress: bool | None = None, desc: str = "train") -> nn.Module:
    """Optimise ``build()``'s model for ``loop.steps`` steps; returns the
    exponential moving average of its weights (decay ``min(loop.ema, (1 + t) /
    (10 + t))`` at step t), which is what is validated and saved.

    Args:
        build: makes the model; called after ``torch.manual_seed(loop.seed)`` so
            every rank starts from the same weights.
        loop: steps, learning rate, seed, weight average, validation and
            checkpoint intervals.
        config: the whole run's configuration, written to ``out/config.json``.
        sample: one batch from a generator (this rank's own).
        loss: scalar loss of a batch under the (possibly DDP-wrapped) model.
        validate: metrics of the weight average, run by rank 0 every
            ``loop.val_every`` steps and at the end ({} for none).
        save_weights: writes the loadable weights of the average (rank 0,
            every ``loop.ckpt_every`` steps and at the end); gets the step and
            the last validation metrics.
        resume: continue from ``out/checkpoint.pt`` when it exists.
        progress: tqdm bar on rank 0 (None: only on a terminal).
    """
    from tqdm.auto import tqdm

    if not isinstance(loop, LoopConfig):
        raise TypeError(f"loop: expected a LoopConfig, got {type(loop).__name__}")
    steps, lr, seed, ema = loop.steps, loop.lr, loop.seed, loop.ema
    val_every, ckpt_every = loop.val_every, loop.ckpt_every
    torch.manual_seed(seed)  # identical initial weights on every rank
    model = build().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / max(steps, 1))))
    # the weight average smooths the last steps' jitter (e.g. an output offset)
    avg = copy.deepcopy(model).eval()
    for p in avg.parameters():
        p.requires_grad_(False)
    step = 0
    if resume and (out / "checkpoint.pt").exists():
        ck = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"])
        avg.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        step = int(ck["step"])
    if rank == 0:
        (out / "config.json").write_text(json.dumps(config, indent=2))
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    g = torch.Generator().manual_seed(seed * 100003 + rank * 7919 + step)
    bar = tqdm(total=steps, initial=step, desc=desc,
               disable=(rank != 0) or (None if progress is None else not progress))
    t0, last = time.perf_counter(), {}
    model.train()
    while step < steps:
        value = loss(net, sample(g))
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        sched.step()
        step += 1
        decay = min(ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, p in zip(avg.parameters(), model.parameters()):
                e.lerp_(p, 1 - decay)
        bar.update(1)
        bar.set_postfix(loss=f"{value.item():.3f}", **{k: f"{v:.2f}" for k, v in last.items()})
        if rank == 0 and (step % val_every == 0 or step == steps):
            last = validate(avg)
            with open(out / "log.jsonl", "a") as fh:
                fh.write(json.dumps({"step": step, "loss": value.item(), **last,
                                     "seconds": time.perf_counter() - t0}) + "\n")
        if rank == 0 and (step % ckpt_every == 0 or step == steps):
            state = {"model": model.state_dict(), "ema": avg.state_dict(),
                     "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": step}
            with atomic_path(out / "checkpoint.pt") as tmp:
                torch.save(state, tmp)
            save_weights(avg, step, last)
    bar.close()
    if world > 1:
        dist.barrier()
    return avg
