r"""Geodesic polar patches for the geodesic CNN (Masci et al., 2015).

Around every vertex :math:`i`, each vertex :math:`j` with geodesic distance
:math:`\rho_{ij} < \rho_0` gets local polar coordinates
:math:`(\rho_{ij}, \theta_{ij})`: the radius is the heat-method distance and
the angle that of :math:`x_j - x_i` projected to the tangent plane at
:math:`i` (an approximation of the exponential map's angle, good for small
:math:`\rho_0`). The patch operator interpolates a signal onto
``n_rho x n_theta`` bins with Gaussian weights

.. math::
    v_{k\ell}(i, j) = \exp\!\big(-(\rho_{ij} - \rho_k)^2 / 2\sigma_\rho^2 -
    d_{S^1}(\theta_{ij}, \theta_\ell)^2 / 2\sigma_\theta^2\big),

normalised over :math:`j` per bin, so
:math:`D(x)(i)_{k\ell} = \sum_j \bar v_{k\ell}(i, j)\, x_j`.
The angular origin of each patch is arbitrary (the tangent frame's
:math:`e_1`); the convolution takes a max over rotations to cope with it.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.ops.geodesics import HeatMethod
from geodl.ops.mesh_geometry import vertex_normals
from geodl.ops.tangent_gradient import tangent_frames


def geodesic_patches(verts: Tensor, faces: Tensor, radius: float, n_rho: int = 3,
                     n_theta: int = 8) -> tuple[Tensor, Tensor]:
    """Patch operator entries.

    Returns:
        edge_index: (2, P) pairs ``(j, i)`` (neighbour, centre) with
        :math:`\\rho_{ij} < \\rho_0` (including ``j = i``);
        weights: (P, n_rho * n_theta) normalised interpolation weights, bin
        index ``k * n_theta + l``.
    """
    if not radius > 0 or n_rho < 1 or n_theta < 1:
        raise ValueError(f"radius > 0, n_rho >= 1 and n_theta >= 1 expected, got "
                         f"{radius}, {n_rho}, {n_theta}")
    v = verts.double()
    heat = HeatMethod(v, faces)
    frames = tangent_frames(vertex_normals(v, faces))
    src, dst, rho, theta = [], [], [], []
    for i in range(v.shape[0]):
        d = heat(i)
        near = torch.nonzero(d < radius).flatten()
        off = v[near] - v[i]
        src.append(near)
        dst.append(torch.full_like(near, i))
        rho.append(d[near])
        theta.append(torch.atan2(off @ frames[i, 1], off @ frames[i, 0]))
    src, dst = torch.cat(src), torch.cat(dst)
    rho, theta = torch.cat(rho), torch.cat(theta)
    rho_k = (torch.arange(n_rho, dtype=torch.float64, device=rho.device) + 0.5) * radius / n_rho
    theta_l = torch.arange(n_theta, dtype=torch.float64, device=rho.device) * 2 * math.pi / n_theta
    s_rho, s_theta = radius / n_rho / 2, math.pi / n_theta
    dth = torch.remainder(theta[:, None] - theta_l[None] + math.pi, 2 * math.pi) - math.pi
    w = torch.exp(-(rho[:, None, None] - rho_k[None, :, None]) ** 2 / (2 * s_rho ** 2)
                  - dth[:, None, :] ** 2 / (2 * s_theta ** 2)).reshape(len(rho), -1)
    total = torch.zeros(v.shape[0], w.shape[1], dtype=torch.float64, device=v.device).index_add_(0, dst, w)
    w = w / total[dst].clamp_min(1e-300)
    return torch.stack([src, dst]), w
