"""Random rigid motions (seeded)."""
from __future__ import annotations

import torch
from torch import Tensor


def random_rotation(seed: int = 0, dtype: torch.dtype = torch.float64) -> Tensor:
    """A uniformly random proper rotation (3, 3): QR of a Gaussian matrix with
    the sign fix that makes the distribution uniform (Haar), det forced to +1."""
    gen = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    if torch.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q.to(dtype)
