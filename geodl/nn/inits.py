"""Weight initialisations matching PyG's (so fresh layers are comparable)."""
from __future__ import annotations

import math

import torch


def glorot_linear(lin: torch.nn.Linear) -> None:
    """Glorot-uniform weight, as PyG's ``Linear(weight_initializer='glorot')``."""
    a = math.sqrt(6.0 / (lin.in_features + lin.out_features))
    torch.nn.init.uniform_(lin.weight, -a, a)
    if lin.bias is not None:
        torch.nn.init.zeros_(lin.bias)
