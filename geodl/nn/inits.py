"""Weight initialisations matching PyG's (so fresh layers are comparable)."""
from __future__ import annotations

import math

import torch
from torch import Tensor


def glorot(p: Tensor) -> None:
    r"""Glorot-uniform in place, :math:`U(-a, a)` with
    :math:`a = \sqrt{6 / (\text{fan}_{in} + \text{fan}_{out})}` over the last
    two dimensions (PyG's ``inits.glorot``: attention vectors (1, H, C) and
    stacked kernels included)."""
    a = math.sqrt(6.0 / (p.shape[-2] + p.shape[-1]))
    with torch.no_grad():
        p.uniform_(-a, a)


def glorot_linear(lin: torch.nn.Linear) -> None:
    """Glorot-uniform weight, as PyG's ``Linear(weight_initializer='glorot')``."""
    a = math.sqrt(6.0 / (lin.in_features + lin.out_features))
    torch.nn.init.uniform_(lin.weight, -a, a)
    if lin.bias is not None:
        torch.nn.init.zeros_(lin.bias)


def reset_module(nn: torch.nn.Module) -> None:
    """Re-initialise every sub-module of ``nn`` that can be (as PyG's ``reset``,
    but all the way down, not only the direct children)."""
    for m in nn.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
