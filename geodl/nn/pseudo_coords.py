r"""Pseudo-coordinates :math:`\mathbf{u}(i, j)` of edges ``j -> i`` for MoNet-style
convolutions (Monti et al., 2017): where the neighbour sits relative to the centre.

All return (E, D) tensors aligned with ``edge_index`` (``edge_index[0]`` = j,
``edge_index[1]`` = i).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.ops.validation import check_edge_index


def cartesian(pos: Tensor, edge_index: Tensor, normalize: bool = False,
              max_value: float | None = None) -> Tensor:
    """:math:`\\mathbf{p}_j - \\mathbf{p}_i`; with ``normalize`` mapped to
    :math:`[0, 1]^D` as PyG's ``Cartesian`` transform does (divide by twice the
    largest absolute offset, or ``max_value``, and add 0.5)."""
    ei = check_edge_index(edge_index, pos.shape[0])
    d = pos[ei[0]] - pos[ei[1]]
    if normalize:
        m = float(d.abs().max()) if max_value is None else max_value
        d = d / (2 * m) + 0.5 if m > 0 else d + 0.5
    return d


def polar(pos: Tensor, edge_index: Tensor, normalize: bool = True) -> Tensor:
    """2D polar :math:`(\\rho, \\theta)` of :math:`\\mathbf{p}_j - \\mathbf{p}_i`; with
    ``normalize``, :math:`\\rho / \\max\\rho` and :math:`\\theta / 2\\pi \\in [0, 1)`."""
    if pos.shape[1] != 2:
        raise ValueError(f"pos: polar coordinates need 2D positions, got {tuple(pos.shape)}")
    d = cartesian(pos, edge_index)
    rho = d.norm(dim=1)
    theta = torch.atan2(d[:, 1], d[:, 0])
    if normalize:
        rho = rho / rho.max().clamp_min(torch.finfo(rho.dtype).tiny)
        theta = torch.remainder(theta, 2 * math.pi) / (2 * math.pi)
    return torch.stack([rho, theta], 1)


def degree(edge_index: Tensor, num_nodes: int) -> Tensor:
    """:math:`(1/\\sqrt{d_i},\\, 1/\\sqrt{d_j})`, MoNet's pseudo-coordinates for
    graphs without geometry (in-degrees; isolated nodes would divide by 0 and
    have no edges anyway)."""
    ei = check_edge_index(edge_index, num_nodes)
    deg = torch.bincount(ei[1], minlength=num_nodes).clamp_min(1).double()
    return torch.stack([deg[ei[1]].rsqrt(), deg[ei[0]].rsqrt()], 1).float()
