"""The regular grid as a graph: the domain on which a graph CNN must reduce
to the classical CNN."""
from __future__ import annotations

import torch
from torch import Tensor


def grid_graph(height: int, width: int, diagonals: bool = False) -> Tensor:
    """Edge index (2, E), both directions, of the ``height x width`` pixel grid.

    Node ``r * width + c`` is pixel (row r, column c); edges join 4-neighbours
    (and diagonal neighbours with ``diagonals=True``).
    """
    if height < 1 or width < 1:
        raise ValueError(f"height, width: expected >= 1, got {height}, {width}")
    idx = torch.arange(height * width).reshape(height, width)
    pairs = [(idx[:, :-1], idx[:, 1:]), (idx[:-1, :], idx[1:, :])]
    if diagonals:
        pairs += [(idx[:-1, :-1], idx[1:, 1:]), (idx[:-1, 1:], idx[1:, :-1])]
    e = torch.cat([torch.stack([a.reshape(-1), b.reshape(-1)]) for a, b in pairs], 1)
    return torch.cat([e, e.flip(0)], 1)
