r"""Slanted-plane refinement of a depth map by PatchMatch-style propagation.

The plane sweep compares fronto-parallel windows, which holds for surfaces
facing the camera but not for a floor or a table top seen at a grazing angle
from sources a metre away: the window's footprint in the source is sheared
and ZNCC no longer finds the match. Here each reference pixel :math:`p`
carries its own plane, a unit normal :math:`n_p` (reference camera axes,
facing the camera) and the offset :math:`c_p = n_p^\top X` of its points
:math:`X`, as in PatchMatch stereo (Bleyer et al., BMVC 2011) and its
multi-view forms Gipuma and ACMH (Galliani et al., ICCV 2015; Xu and Tao,
CVPR 2019).

A window pixel :math:`q` lies on :math:`p`'s plane at inverse depth
:math:`\rho_q = n_p^\top K_r^{-1} \tilde q / c_p` and appears in source
:math:`s` at the homogeneous point

.. math::  h_s(q) = A_s \tilde q + \rho_q\, b_s,

with :math:`(A_s, b_s)` the plane sweep's ``source_homography``, so the
window is warped by the plane's own homography. The cost is the sweep's:
``1 - ZNCC`` per source over a ``(2r+1)^2`` window sampled every
``dilation`` pixels (Gipuma's sparse window: a wider footprint at the same
cost), the mean of the ``best_k`` lowest sources.

Each iteration proposes, for every pixel at once, the planes of pixels at a
few offsets (propagation: a plane right at one pixel is right along its
surface) and random perturbations of its own (depth within a shrinking
fraction, normal tilted by a shrinking angle), and keeps per pixel the
proposal of lowest cost. Updating all pixels at once (Jacobi) rather than in
a checkerboard halves the spread per iteration but is one batched tensor
operation per proposal.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from geodl.mvs.plane_sweep import WORST, best_k_mean, check_views, source_homography
from geodl.ops.sampling import grid_sample_matrix
from geodl.structures import PinholeCamera


@dataclass(frozen=True)
class SlantedConfig:
    """Settings of :func:`refine_slanted`.

    Attributes:
        iterations: propagation rounds.
        radius, dilation: the window, ``2 radius + 1`` samples per side,
            ``dilation`` px apart.
        offsets: pixel distances whose planes are proposed, along rows and
            columns in both directions.
        depth_step: the largest relative depth perturbation of the first
            round (halved each round).
        tilt: the largest normal perturbation of the first round (radians,
            halved each round).
        seed: of the perturbations (deterministic results).
        fixed_tolerance: how far (relative depth) a pixel given as fixed
            may move while its plane turns.
    """

    iterations: int = 3
    radius: int = 2
    dilation: int = 2
    offsets: tuple[int, ...] = (1, 4)
    depth_step: float = 0.02
    tilt: float = 0.3
    seed: int = 0
    fixed_tolerance: float = 0.005

    def __post_init__(self) -> None:
        for name in ("iterations", "radius", "dilation"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (
                    0 if name == "iterations" else 1):
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not self.offsets or any(isinstance(o, bool) or not isinstance(o, int) or o < 1
                                   for o in self.offsets):
            raise ValueError(f"offsets: expected positive integers, got {self.offsets!r}")
        for name in ("depth_step", "tilt", "fixed_tolerance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0 <= value < 1):
                raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}")


def pixel_rays(cam: PinholeCamera, device=None) -> Tensor:
    """(H, W, 3) float32 rays :math:`K^{-1} (u, v, 1)` through the pixel
    centres (their third coordinate is 1: a point at z-depth z is z times its
    ray)."""
    v, u = torch.meshgrid(torch.arange(cam.height, dtype=torch.float64) + 0.5,
                          torch.arange(cam.width, dtype=torch.float64) + 0.5, indexing="ij")
    p = torch.stack([u, v, torch.ones_like(u)], -1)
    return (p @ torch.linalg.inv(cam.K).T).float().to(device)


def depth_normals(depth: Tensor, rays: Tensor) -> Tensor:
    r"""(H, W, 3) unit normals of the surface :math:`X = z\,r` of a depth map,
    from central differences (one-sided at the border), turned to face the
    camera; fronto-parallel :math:`(0, 0, -1)` where they are undefined."""
    X = depth[..., None] * rays
    du = torch.zeros_like(X)
    dv = torch.zeros_like(X)
    du[:, 1:-1] = X[:, 2:] - X[:, :-2]
    dv[1:-1] = X[2:] - X[:-2]
    du[:, 0], du[:, -1] = X[:, 1] - X[:, 0], X[:, -1] - X[:, -2]
    dv[0], dv[-1] = X[1] - X[0], X[-1] - X[-2]
    n = torch.linalg.cross(du, dv)
    norm = n.norm(dim=-1, keepdim=True)
    fronto = torch.tensor([0.0, 0.0, -1.0], device=depth.device).expand_as(n)
    n = torch.where(norm > 1e-12, n / norm.clamp_min(1e-12), fronto)
    facing = (n * rays).sum(-1, keepdim=True)
    n = torch.where(facing > 0, -n, n)
    return torch.where(torch.isfinite(n).all(-1, keepdim=True) & (depth[..., None] > 0), n, fronto)


def _windows(image: Tensor, radius: int, dilation: int) -> Tensor:
    """(H * W, S) grey values of each pixel's sparse window (zero-padded)."""
    k = 2 * radius + 1
    cols = F.unfold(image[None, None], k, dilation=dilation, padding=radius * dilation)
    return cols[0].T.contiguous()


def _offsets(radius: int, dilation: int, device) -> Tensor:
    """(S, 2) pixel offsets (du, dv) of the window samples, in unfold's order."""
    r = torch.arange(-radius, radius + 1, device=device, dtype=torch.float32) * dilation
    dv, du = torch.meshgrid(r, r, indexing="ij")
    return torch.stack([du.reshape(-1), dv.reshape(-1)], -1)


def _zncc_cost(ref_win: Tensor, warped: Tensor, eps: float) -> Tensor:
    """``1 - ZNCC`` (P,) of window rows (P, S)."""
    a = ref_win - ref_win.mean(1, keepdim=True)
    b = warped - warped.mean(1, keepdim=True)
    cov = (a * b).mean(1)
    var_a, var_b = (a * a).mean(1), (b * b).mean(1)
    return (1 - cov / torch.sqrt((var_a + eps) * (var_b + eps))).clamp(0, WORST)


class PlaneCost:
    """The multi-view cost of per-pixel planes for one reference view (module
    docstring): built once per view, evaluated once per proposal.

    Args:
        ref: (H, W) grey reference; sources: (Hs, Ws) grey images.
        depth_range: (near, far): planes whose depth at the pixel falls
            outside cost ``WORST``.
        radius, dilation: the window (:class:`SlantedConfig`).
        best_k: sources averaged per pixel; eps: ZNCC's variance floor.
    """

    def __init__(self, ref: Tensor, ref_cam: PinholeCamera, sources: list[Tensor],
                 source_cams: list[PinholeCamera], depth_range: tuple[float, float],
                 radius: int = 2, dilation: int = 2, best_k: int = 2, eps: float = 1e-4) -> None:
        check_views(ref, ref_cam, sources, source_cams)
        H, W = ref.shape
        near, far = (float(v) for v in depth_range)
        if not 0 < near < far:
            raise ValueError(f"depth_range: expected 0 < near < far, got {depth_range}")
        dev = ref.device
        self.shape = (H, W)
        self.near, self.far = near, far
        self.best_k = max(1, min(best_k, len(sources)))
        self.eps = eps
        self.rays = pixel_rays(ref_cam, dev)  # (H, W, 3)
        self.ref_win = _windows(ref.float(), radius, dilation)  # (P, S)
        v, u = torch.meshgrid(torch.arange(H, device=dev, dtype=torch.float32) + 0.5,
                              torch.arange(W, device=dev, dtype=torch.float32) + 0.5,
                              indexing="ij")
        off = _offsets(radius, dilation, dev)
        # homogeneous window points (P, S, 3) and their rays K^-1 q (P, S, 3)
        q = torch.stack([u.reshape(-1, 1) + off[:, 0], v.reshape(-1, 1) + off[:, 1],
                         torch.ones(H * W, len(off), device=dev)], -1)
        self.q = q
        self.q_rays = q @ torch.linalg.inv(ref_cam.K).float().to(dev).T
        self.sources = []
        for img, cam in zip(sources, source_cams):
            A, b = source_homography(ref_cam, cam)
            N = grid_sample_matrix(cam.height, cam.width)
            self.sources.append((img.float()[None, None], (N @ A).float().to(dev),
                                 (N @ b).float().to(dev)))

    def depth(self, normal: Tensor, offset: Tensor) -> Tensor:
        """(H, W) z-depth at each pixel of the planes (normal (H, W, 3), offset (H, W))."""
        return offset / (normal * self.rays).sum(-1).clamp_max(-1e-6)

    def __call__(self, normal: Tensor, offset: Tensor) -> Tensor:
        """(H, W) cost of each pixel's plane ``normal`` (H, W, 3), ``offset`` (H, W)."""
        H, W = self.shape
        n = normal.reshape(-1, 3)
        c = offset.reshape(-1)
        rho = (self.q_rays @ n[:, :, None])[..., 0] / c[:, None]  # (P, S) inverse depth
        z = self.depth(normal, offset).reshape(-1)
        valid = (z >= self.near) & (z <= self.far) & (rho > 0).all(1)
        costs = []
        for img, A, b in self.sources:
            h = self.q @ A.T + rho[..., None] * b  # (P, S, 3)
            front = h[..., 2] > 1e-9
            g = h[..., :2] / torch.where(front, h[..., 2], torch.ones_like(h[..., 2]))[..., None]
            ok = front.all(1) & (g.abs() <= 1).all(-1).all(1)
            warped = F.grid_sample(img, g[None], mode="bilinear", padding_mode="border",
                                   align_corners=False)[0, 0]
            costs.append(_zncc_cost(self.ref_win, warped, self.eps).masked_fill(~ok, WORST))
        cost = best_k_mean(torch.stack(costs), self.best_k)
        return cost.masked_fill(~valid, WORST).reshape(H, W)


def _shift(x: Tensor, du: int, dv: int) -> Tensor:
    """``x`` (H, W, ...) with each pixel taking the value at (v + dv, u + du)
    (edge values repeated beyond the border)."""
    H, W = x.shape[:2]
    rows = (torch.arange(H, device=x.device) + dv).clamp(0, H - 1)
    cols = (torch.arange(W, device=x.device) + du).clamp(0, W - 1)
    return x[rows][:, cols]


def refine_slanted(cost: PlaneCost, depth: Tensor, config: SlantedConfig = SlantedConfig(),
                   fixed: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Per-pixel planes refined from ``depth`` (H, W) (module docstring).

    Starts from the depth map's own planes (normals from its differences) and
    fronto-parallel planes at its depth, whichever costs less per pixel.

    Returns:
        depth (H, W), normals (H, W, 3) in reference camera axes, cost (H, W).
    """
    if depth.shape != cost.shape:
        raise ValueError(f"depth: shape {tuple(depth.shape)} is not the cost's {cost.shape}")
    gen = torch.Generator().manual_seed(config.seed)
    rays = cost.rays
    z = depth.float().clamp(cost.near, cost.far)
    fronto = torch.zeros_like(rays)
    fronto[..., 2] = -1.0
    best_n, best_c = fronto, -z  # fronto-parallel: n . X = -z
    best = cost(best_n, best_c)

    def propose(n: Tensor, c: Tensor) -> None:
        nonlocal best_n, best_c, best
        value = cost(n, c)
        better = value < best
        if fixed is not None:  # a fixed pixel may turn its plane, not move its depth
            moved = (cost.depth(n, c) - z).abs() > config.fixed_tolerance * z
            better &= ~(fixed & moved)
        best = torch.where(better, value, best)
        best_n = torch.where(better[..., None], n, best_n)
        best_c = torch.where(better, c, best_c)

    n0 = depth_normals(z, rays)
    propose(n0, (n0 * rays).sum(-1) * z)
    step, tilt = config.depth_step, config.tilt
    for _ in range(config.iterations):
        for o in config.offsets:
            for du, dv in ((o, 0), (-o, 0), (0, o), (0, -o)):
                propose(_shift(best_n, du, dv), _shift(best_c, du, dv))
        z_now = cost.depth(best_n, best_c)
        scale = 1 + step * (2 * torch.rand(z_now.shape, generator=gen) - 1).to(z_now.device)
        propose(best_n, (best_n * rays).sum(-1) * z_now * scale)
        n = best_n + tilt * torch.randn(best_n.shape, generator=gen).to(best_n.device)
        n = n / n.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        n = torch.where((n * rays).sum(-1, keepdim=True) > 0, -n, n)
        propose(n, (n * rays).sum(-1) * z_now)
        step, tilt = step / 2, tilt / 2
    return cost.depth(best_n, best_c), best_n, best
