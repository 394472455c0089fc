r"""Geometric consistency of depth maps across views (the filter of COLMAP's
fusion and ACMM / Gipuma's ``fusibile``).

A reference pixel :math:`p` with depth :math:`d_r(p)` is lifted to the 3-D
point :math:`X`, projected into a neighbour :math:`s` at :math:`q`, lifted
again with the neighbour's own depth :math:`d_s(q)` (nearest pixel: no
mixing across depth edges) and projected back into the reference at
:math:`p'` with depth :math:`z'`. The two views agree at :math:`p` when

.. math:: \lVert p' - p \rVert \le \epsilon_{px} \quad\text{and}\quad
          |z' - d_r(p)| \le \epsilon_{rel}\, d_r(p),

and a pixel is kept when at least ``min_views`` neighbours agree: a wrong
depth is rarely confirmed by another view's independent estimate.
"""
from __future__ import annotations

import torch
from torch import Tensor

from geodl.structures import PinholeCamera


def _lift(cam: PinholeCamera, u: Tensor, v: Tensor, z: Tensor) -> Tensor:
    """World points (..., 3) of pixel coordinates ``u``, ``v`` at z-depth ``z``."""
    Kinv = torch.linalg.inv(cam.K).to(u.device, u.dtype)
    pc = torch.stack([u, v, torch.ones_like(u)], -1) @ Kinv.T * z[..., None]
    return (pc - cam.t.to(u.device, u.dtype)) @ cam.R.to(u.device, u.dtype)


def _project(cam: PinholeCamera, X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    pc = X @ cam.R.to(X.device, X.dtype).T + cam.t.to(X.device, X.dtype)
    h = pc @ cam.K.to(X.device, X.dtype).T
    z = pc[..., 2]
    safe = torch.where(z.abs() > 1e-12, z, torch.ones_like(z))
    return h[..., 0] / safe, h[..., 1] / safe, z


def reprojection(depth_r: Tensor, cam_r: PinholeCamera, depth_s: Tensor, cam_s: PinholeCamera
                 ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    r"""The round trip of every reference pixel through view ``s`` (module
    docstring), each (H, W): ``valid`` (a positive finite depth in both views
    and the point in front of ``s`` and inside its image), the reprojection
    error :math:`\lVert p' - p \rVert` (px of ``r``), the relative depth
    error :math:`|z' - d_r(p)| / d_r(p)`, the point's z-depth in ``s`` and
    ``s``'s own depth where it lands (float64; meaningful where valid)."""
    H, W = depth_r.shape
    dt = torch.float64
    v, u = torch.meshgrid(torch.arange(H, dtype=dt, device=depth_r.device) + 0.5,
                          torch.arange(W, dtype=dt, device=depth_r.device) + 0.5, indexing="ij")
    dr = depth_r.to(dt)
    ok_r = torch.isfinite(dr) & (dr > 0)
    X = _lift(cam_r, u, v, torch.where(ok_r, dr, torch.ones_like(dr)))
    us, vs, zs = _project(cam_s, X)
    Hs, Ws = depth_s.shape
    inside = (zs > 0) & (us >= 0) & (us < Ws) & (vs >= 0) & (vs < Hs)
    j = us.floor().long().clamp(0, Ws - 1)
    i = vs.floor().long().clamp(0, Hs - 1)
    ds = depth_s.to(dt)[i, j]
    ok_s = torch.isfinite(ds) & (ds > 0)
    X2 = _lift(cam_s, us, vs, torch.where(ok_s, ds, torch.ones_like(ds)))
    u2, v2, z2 = _project(cam_r, X2)
    error_px = torch.sqrt((u2 - u) ** 2 + (v2 - v) ** 2)
    error_rel = (z2 - dr).abs() / torch.where(ok_r, dr, torch.ones_like(dr))
    return ok_r & inside & ok_s, error_px, error_rel, zs, ds


def agreement(depth_r: Tensor, cam_r: PinholeCamera, depth_s: Tensor, cam_s: PinholeCamera,
              max_reprojection: float = 1.0, max_relative_depth: float = 0.01) -> Tensor:
    r"""(H, W) bool: where view ``s``'s depth confirms view ``r``'s (module
    docstring); pixels without a positive finite depth in either are False.

    Args:
        depth_r, depth_s: (H, W) and (Hs, Ws) z-depth, 0 / NaN = none.
        max_reprojection: :math:`\epsilon_{px}` in pixels of ``r``.
        max_relative_depth: :math:`\epsilon_{rel}`.
    """
    valid, error_px, error_rel, _, _ = reprojection(depth_r, cam_r, depth_s, cam_s)
    return valid & (error_px <= max_reprojection) & (error_rel <= max_relative_depth)


def consistency_filter(depths: list[Tensor], cameras: list[PinholeCamera],
                       neighbours: list[list[int]], min_views: int = 2,
                       max_reprojection: float = 1.0, max_relative_depth: float = 0.01
                       ) -> tuple[list[Tensor], list[Tensor]]:
    """Per view, the mask of pixels confirmed by at least ``min_views`` of its
    ``neighbours`` (fewer when a view has fewer neighbours, at least 1), and
    the count of confirming neighbours (H, W) long.

    Args:
        depths: per view (H, W) z-depth (0 / NaN = none), its camera's size.
        neighbours: per view the indices of the views to check against.
    """
    if not (len(depths) == len(cameras) == len(neighbours)):
        raise ValueError(f"depths, cameras, neighbours: expected equally many, got {len(depths)}, "
                         f"{len(cameras)}, {len(neighbours)}")
    if min_views < 1:
        raise ValueError(f"min_views: expected >= 1, got {min_views}")
    masks, counts = [], []
    for r, (d, cam) in enumerate(zip(depths, cameras)):
        if tuple(d.shape) != (cam.height, cam.width):
            raise ValueError(f"depths[{r}]: shape {tuple(d.shape)} is not its camera's "
                             f"({cam.height}, {cam.width})")
        count = torch.zeros(d.shape, dtype=torch.long, device=d.device)
        for s in neighbours[r]:
            count += agreement(d, cam, depths[s], cameras[s], max_reprojection,
                               max_relative_depth).long()
        need = max(1, min(min_views, len(neighbours[r])))
        masks.append(count >= need)
        counts.append(count)
    return masks, counts


#: relative depth tolerances at which :func:`view_support` counts confirming views
SUPPORT_TOLERANCES = (0.005, 0.01, 0.02, 0.04)
#: a point this much (relative) nearer than what a view sees there lies in
#: space that view sees through (a free-space violation); this much farther,
#: it is hidden there (occluded)
VISIBILITY_MARGIN = 0.04


def view_support(depths: list[Tensor], cameras: list[PinholeCamera], k: int, others: list[int],
                 tolerances: tuple[float, ...] = SUPPORT_TOLERANCES,
                 max_reprojection: float = 1.0, margin: float = VISIBILITY_MARGIN) -> Tensor:
    r"""What the views ``others`` say about view ``k``'s depth, per pixel:
    (len(tolerances) + 3, H, W) float32 counts of the views that

    - confirm it (:func:`agreement` at each relative tolerance, the
      reprojection within ``max_reprojection`` px),
    - see the point at all (``valid`` of :func:`reprojection`),
    - see *past* it: their own depth where it lands exceeds the point's
      depth in them by more than ``margin`` (relative), so the point lies
      in space they see through: a free-space violation, as in Merrell et
      al.'s visibility-based fusion (ICCV 2007),
    - see something in front of it (the point lies more than ``margin``
      behind their depth: occluded there, no evidence either way).
    """
    d, cam = depths[k], cameras[k]
    out = torch.zeros(len(tolerances) + 3, *d.shape, device=d.device)
    for s in others:
        if s == k:
            continue
        valid, error_px, error_rel, zs, ds = reprojection(d, cam, depths[s], cameras[s])
        near = valid & (error_px <= max_reprojection)
        for i, tol in enumerate(tolerances):
            out[i] += (near & (error_rel <= tol)).float()
        out[-3] += valid.float()
        out[-2] += (valid & (zs * (1 + margin) < ds)).float()
        out[-1] += (valid & (zs > ds * (1 + margin))).float()
    return out
