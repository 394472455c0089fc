r"""Quadric error metric edge-collapse simplification (Garland & Heckbert 1997)
that also returns the fine-to-coarse vertex map needed for mesh pooling.

Open3D's ``simplify_quadric_decimation`` does the same collapse but does not
say which original vertices merged into which, so pooling and unpooling
cannot be built on it; this module keeps that map.

Each vertex carries the quadric :math:`Q_v = \sum_f A_f\, p_f p_f^\top` of its
incident face planes :math:`p_f = (n_f, -n_f\cdot x_f)` (area weighted), plus
heavily weighted planes through boundary edges, perpendicular to the face, so
boundaries keep their shape. Collapsing edge ``(a, b)`` puts the merged vertex
at the minimiser :math:`\bar v` of :math:`\bar v^\top (Q_a+Q_b) \bar v` (or the
best of ``a``, ``b`` and the midpoint when that 3x3 system is singular) and
costs that minimum. The cheapest valid collapse is taken first. A collapse is
refused when it would make the mesh non-manifold (the link condition: ``a``
and ``b`` share exactly the neighbours opposite the edge) or flip a face.
"""
from __future__ import annotations

import heapq

import numpy as np
import torch
from torch import Tensor

from geodl.ops.validation import check_faces, check_points


def _quadrics(v: np.ndarray, f: np.ndarray, boundary_weight: float) -> np.ndarray:
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    n = np.cross(b - a, c - a)
    area2 = np.linalg.norm(n, axis=1)
    n = n / np.maximum(area2, 1e-300)[:, None]
    p = np.concatenate([n, -(n * a).sum(1, keepdims=True)], 1)
    kf = 0.5 * area2[:, None, None] * p[:, :, None] * p[:, None, :]
    q = np.zeros((v.shape[0], 4, 4))
    for k in range(3):
        np.add.at(q, f[:, k], kf)
    # boundary edges: planes through the edge, perpendicular to its face
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    face_of = np.tile(np.arange(f.shape[0]), 3)
    key = np.sort(e, 1)
    _, inv, cnt = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    bd = cnt[inv.ravel()] == 1
    if bd.any():
        eb, fb = e[bd], face_of[bd]
        d = v[eb[:, 1]] - v[eb[:, 0]]
        m = np.cross(d, n[fb])
        ln = np.linalg.norm(m, axis=1)
        m = m / np.maximum(ln, 1e-300)[:, None]
        pb = np.concatenate([m, -(m * v[eb[:, 0]]).sum(1, keepdims=True)], 1)
        w = boundary_weight * (np.linalg.norm(d, axis=1) ** 2)
        kb = w[:, None, None] * pb[:, :, None] * pb[:, None, :]
        np.add.at(q, eb[:, 0], kb)
        np.add.at(q, eb[:, 1], kb)
    return q


def _optimal(q: np.ndarray, va: np.ndarray, vb: np.ndarray) -> tuple[float, np.ndarray]:
    a = q[:3, :3]
    if abs(np.linalg.det(a)) > 1e-12 * max(1.0, np.abs(a).max() ** 3):
        x = np.linalg.solve(a, -q[:3, 3])
        h = np.append(x, 1.0)
        return float(h @ q @ h), x
    best = None
    for x in (va, vb, 0.5 * (va + vb)):
        h = np.append(x, 1.0)
        c = float(h @ q @ h)
        if best is None or c < best[0]:
            best = (c, x)
    return best


def simplify_mesh(verts: Tensor, faces: Tensor, target_verts: int,
                  boundary_weight: float = 1e3) -> tuple[Tensor, Tensor, Tensor]:
    """Collapse edges until at most ``target_verts`` vertices remain (or no
    valid collapse is left).

    Args:
        verts: (V, 3). faces: (F, 3) manifold, consistently oriented.
        target_verts: number of vertices to keep.
        boundary_weight: weight of the boundary-preserving planes.

    Returns:
        coarse_verts: (V', 3) float64; coarse_faces: (F', 3) long;
        cluster: (V,) long, the coarse vertex each fine vertex merged into
        (pool with a scatter-mean over ``cluster``, unpool with ``x[cluster]``).
    """
    vt = check_points(verts, "verts", 3, dtype=torch.float64)
    ft = check_faces(faces, vt.shape[0])
    if not isinstance(target_verts, (int, np.integer)) or target_verts < 3:
        raise ValueError(f"target_verts: expected an int >= 3, got {target_verts!r}")
    v = vt.numpy().copy()
    f = ft.numpy().copy()
    nv = v.shape[0]
    q = _quadrics(v, f, boundary_weight)
    vert_faces: list[set[int]] = [set() for _ in range(nv)]
    for fi, tri in enumerate(f):
        for x in tri:
            vert_faces[x].add(fi)
    face_alive = np.ones(f.shape[0], bool)
    parent = np.arange(nv)
    version = np.zeros(nv, np.int64)
    alive = nv

    def neighbours(x: int) -> set[int]:
        out = set()
        for fi in vert_faces[x]:
            out.update(f[fi].tolist())
        out.discard(x)
        return out

    def push(heap: list, a: int, b: int) -> None:
        cost, pos = _optimal(q[a] + q[b], v[a], v[b])
        heapq.heappush(heap, (cost, a, b, version[a], version[b], pos))

    heap: list = []
    e = np.unique(np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), 1), axis=0)
    for a, b in e.tolist():
        push(heap, a, b)

    def valid(a: int, b: int, pos: np.ndarray) -> bool:
        shared = [fi for fi in vert_faces[a] if fi in vert_faces[b]]
        if len(shared) not in (1, 2):
            return False
        opposite = set()
        for fi in shared:
            opposite.update(f[fi].tolist())
        opposite -= {a, b}
        if neighbours(a) & neighbours(b) != opposite:  # link condition
            return False
        if len(shared) == 1 and len(neighbours(a) | neighbours(b)) <= 3:
            return False  # would leave a single triangle
        for x in (a, b):
            for fi in vert_faces[x]:
                if fi in shared:
                    continue
                tri = f[fi]
                p_old = v[tri]
                p_new = p_old.copy()
                p_new[tri == x] = pos
                n_old = np.cross(p_old[1] - p_old[0], p_old[2] - p_old[0])
                n_new = np.cross(p_new[1] - p_new[0], p_new[2] - p_new[0])
                if n_old @ n_new <= 1e-3 * (n_old @ n_old):
                    return False
        return True

    while alive > target_verts and heap:
        cost, a, b, va_, vb_, pos = heapq.heappop(heap)
        if parent[a] != a or parent[b] != b or va_ != version[a] or vb_ != version[b]:
            continue
        if not valid(a, b, pos):
            continue
        # collapse b into a
        shared = [fi for fi in vert_faces[a] if fi in vert_faces[b]]
        for fi in shared:
            face_alive[fi] = False
            for x in f[fi]:
                vert_faces[x].discard(fi)
        for fi in vert_faces[b]:
            f[fi][f[fi] == b] = a
            vert_faces[a].add(fi)
        vert_faces[b] = set()
        parent[b] = a
        v[a] = pos
        q[a] = q[a] + q[b]
        version[a] += 1
        alive -= 1
        for x in neighbours(a):
            push(heap, min(a, x), max(a, x))

    # resolve chains of merges and number the survivors
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    keep = np.nonzero(root == np.arange(nv))[0]
    new_id = -np.ones(nv, np.int64)
    new_id[keep] = np.arange(keep.size)
    cluster = new_id[root]
    coarse_faces = new_id[f[face_alive]]
    return (torch.from_numpy(v[keep]), torch.from_numpy(coarse_faces),
            torch.from_numpy(cluster))
