"""Headless rendering of primitives to an RGB image: meshes by ray casting
(Open3D's ``RaycastingScene``, Embree), points and lines by z-buffered splats.

No display, no OpenGL. The shading matches the HTML viewer's: a head light,
``colour * (0.45 + 0.6 |n . d|)`` with ``d`` the viewing ray, so a snapshot
and the browser show the same colours. Points are discs of the browser's
size: ``size`` world units at their depth, ``size * f / z`` pixels across
(at most ``2 * MAX_RADIUS + 1`` per supersample); lines are one pixel wide.
"""
from __future__ import annotations

import numpy as np

from geodl._optional import open3d
from geodl.structures import PinholeCamera
from geodl.viz.primitives import Primitive
from geodl.viz.view import View

AMBIENT, DIFFUSE = 0.45, 0.6
MAX_RADIUS = 6  # pixels: a point closer than that is drawn at this size
MAX_LINE_SAMPLES = 20_000_000


def _cast_meshes(meshes: list[Primitive], cam: PinholeCamera, image: np.ndarray,
                 depth: np.ndarray) -> None:
    """Ray-cast the meshes into ``image`` (H, W, 3) and ``depth`` (H, W), in place."""
    o3d = open3d()
    rc = o3d.t.geometry.RaycastingScene()
    for p in meshes:
        rc.add_triangles(o3d.core.Tensor(p.positions.astype(np.float32)),
                         o3d.core.Tensor(p.index.astype(np.uint32)))
    rays = cam.ray_bundle()
    ans = {k: v.numpy() for k, v in rc.cast_rays(o3d.core.Tensor(rays)).items()}
    t = ans["t_hit"]
    hit = np.isfinite(t)
    gid = ans["geometry_ids"].astype(np.int64)
    d = rays[..., 3:].astype(np.float64)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    for k, p in enumerate(meshes):
        sel = hit & (gid == k)
        if not sel.any():
            continue
        # Embree's barycentrics: the hit is (1 - u - v) a + u b + v c
        uv = ans["primitive_uvs"][sel].astype(np.float64)
        f = p.index[ans["primitive_ids"][sel].astype(np.int64)]
        if p.colors is None:
            c = np.broadcast_to(np.asarray(p.color), (len(f), 3))
        else:
            w = np.stack([1 - uv[:, 0] - uv[:, 1], uv[:, 0], uv[:, 1]], 1)
            c = np.einsum("mk,mkc->mc", w, p.colors[f])
        n = ans["primitive_normals"][sel].astype(np.float64)
        cos = np.abs(np.einsum("mc,mc->m", n, d[sel]))
        image[sel] = np.clip(c * (AMBIENT + DIFFUSE * cos)[:, None], 0, 1)
        depth[sel] = t[sel]


def _line_samples(p: Primitive, cam: PinholeCamera) -> tuple[np.ndarray, np.ndarray]:
    """Points along each segment about a pixel apart on screen, and their colours."""
    a, b = p.positions[p.index[:, 0]], p.positions[p.index[:, 1]]
    (ua, za), (ub, zb) = (tuple(x.numpy() for x in cam.project(q)) for q in (a, b))
    front = (za > 0) & (zb > 0)  # segments crossing the camera plane are dropped
    a, b, ua, ub = a[front], b[front], ua[front], ub[front]
    span = np.linalg.norm(ub - ua, axis=1)
    span = np.where(np.isfinite(span), span, 0.0)
    n = np.minimum(np.ceil(span).astype(np.int64) + 1, 4 * (cam.width + cam.height))
    if n.sum() > MAX_LINE_SAMPLES:
        n = np.maximum(2, (n * MAX_LINE_SAMPLES / n.sum()).astype(np.int64))
    seg = np.repeat(np.arange(len(a)), n)
    start = np.cumsum(n) - n
    s = (np.arange(n.sum()) - start[seg]) / np.maximum(n[seg] - 1, 1)
    pts = a[seg] + s[:, None] * (b[seg] - a[seg])
    if p.colors is None:
        col = np.broadcast_to(np.asarray(p.color), (len(pts), 3))
    else:
        ca, cb = p.colors[p.index[front, 0]], p.colors[p.index[front, 1]]
        col = ca[seg] + s[:, None] * (cb[seg] - ca[seg])
    return pts, col


def _splat(points: np.ndarray, colors: np.ndarray, radius: np.ndarray, bias: np.ndarray,
           cam: PinholeCamera, image: np.ndarray, depth: np.ndarray) -> None:
    """Disc splats of radius ``radius`` pixels, nearest wins (depth
    times ``1 + bias``: lines lose to points at the same depth), hidden behind
    ``depth`` (the meshes), in place."""
    if not len(points):
        return
    uv, z = (x.numpy() for x in cam.project(points))
    H, W = depth.shape
    ok = (z > 0) & np.isfinite(uv).all(1)
    uv, z, colors, radius = uv[ok], z[ok] * (1 + bias[ok]), colors[ok], radius[ok]
    x0, y0 = np.floor(uv[:, 0]).astype(np.int64), np.floor(uv[:, 1]).astype(np.int64)
    pix, zs, src = [], [], []
    rmax = int(radius.max(initial=0))
    for dy in range(-rmax, rmax + 1):
        for dx in range(-rmax, rmax + 1):
            m = radius * (radius + 1) >= dx * dx + dy * dy  # discs, as in the browser
            x, y = x0[m] + dx, y0[m] + dy
            inside = (x >= 0) & (x < W) & (y >= 0) & (y < H)
            idx = np.flatnonzero(m)[inside]
            flat = y[inside] * W + x[inside]
            front = z[idx] < depth.reshape(-1)[flat] * (1 - 1e-6)
            pix.append(flat[front])
            zs.append(z[idx[front]])
            src.append(idx[front])
    pix, zs, src = np.concatenate(pix), np.concatenate(zs), np.concatenate(src)
    if not len(pix):
        return
    order = np.lexsort((zs, pix))  # by pixel, then nearest first
    pix, zs, src = pix[order], zs[order], src[order]
    first = np.r_[True, pix[1:] != pix[:-1]]
    image.reshape(-1, 3)[pix[first]] = colors[src[first]]
    depth.reshape(-1)[pix[first]] = zs[first]


def render_image(prims: list[Primitive], view: View, width: int, height: int,
                 background=(1.0, 1.0, 1.0), supersample: int = 2) -> np.ndarray:
    """(height, width, 3) float RGB image of the visible ``prims`` seen from
    ``view``, rendered at ``supersample`` x the size and box-filtered down
    (anti-aliasing)."""
    for name, val in (("width", width), ("height", height), ("supersample", supersample)):
        if not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"{name}: expected a positive int, got {val!r}")
    W, H = width * supersample, height * supersample
    cam = view.camera(W, H)
    image = np.empty((H, W, 3))
    image[:] = np.asarray(background, np.float64)[:3]
    depth = np.full((H, W), np.inf)
    shown = [p for p in prims if p.visible and p.count]
    meshes = [p for p in shown if p.kind == "mesh"]
    if meshes:
        _cast_meshes(meshes, cam, image, depth)
    pts, cols, rads, bias = [], [], [], []
    for p in shown:
        if p.kind == "points":
            z = (p.positions - cam.center.numpy()) @ cam.R.numpy()[2]
            diameter = p.size * float(cam.K[1, 1]) / np.maximum(z, 1e-12)
            rads.append(np.clip(np.floor(diameter / 2), 0, MAX_RADIUS * supersample))
            pts.append(p.positions)
            cols.append(p.colors if p.colors is not None
                        else np.broadcast_to(np.asarray(p.color), (p.count, 3)))
            bias.append(np.zeros(p.count))
        elif p.kind == "lines":
            q, c = _line_samples(p, cam)
            pts.append(q)
            cols.append(c)
            rads.append(np.zeros(len(q)))  # one pixel of the supersampled image
            bias.append(np.full(len(q), 1e-3))
    if pts:
        _splat(np.concatenate(pts), np.concatenate(cols), np.concatenate(rads).astype(np.int64),
               np.concatenate(bias), cam, image, depth)
    if supersample > 1:
        image = image.reshape(height, supersample, width, supersample, 3).mean((1, 3))
    return image
