"""What the 2-process gloo tests of the training loops share: a free port and
the environment torchrun would set for one rank."""
from __future__ import annotations

import os
import socket

import torch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_torchrun_rank(rank: int, world: int, port: int) -> None:
    """Set the variables torchrun gives rank ``rank`` of ``world`` (one CPU
    thread each, so two ranks share two cores)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world),
                      RANK=str(rank), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
