"""Input checks shared by the layers (``ValueError`` naming the argument)."""
from __future__ import annotations

from torch import Tensor


def check_features(x: Tensor, channels: int, num_nodes: int | None = None) -> None:
    """``x`` must be (N, channels), with N = ``num_nodes`` when given."""
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != channels or (
            num_nodes is not None and x.shape[0] != num_nodes):
        rows = "N" if num_nodes is None else str(num_nodes)
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x: expected shape ({rows}, {channels}), got {got}")
