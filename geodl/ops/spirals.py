r"""Spiral sequences on a triangle mesh for SpiralNet++ (Gong et al., 2019).

The spiral of vertex v lists v, then its one-ring in counter-clockwise order
(starting at its lowest-numbered neighbour, a deterministic reference), then
the next ring, each new vertex in the order it is reached when walking the
previous ring in sequence and turning counter-clockwise around each of its
members, and so on until ``length`` vertices are listed. This fixes a
canonical ordering of every neighbourhood, so a convolution is a plain linear
layer on the concatenated features. Short spirals (small or open meshes) are
padded with -1.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from geodl.ops.validation import check_faces


def _cyclic_rings(faces: np.ndarray, num_verts: int) -> list[list[int]]:
    """Each vertex's one-ring in counter-clockwise order (boundary fans start
    at the neighbour without predecessor)."""
    nxt: list[dict[int, int]] = [dict() for _ in range(num_verts)]
    for a, b, c in faces.tolist():
        nxt[a][b] = c
        nxt[b][c] = a
        nxt[c][a] = b
    rings = []
    for v in range(num_verts):
        succ = nxt[v]
        if not succ:
            rings.append([])
            continue
        has_pred = set(succ.values())
        starts = [u for u in succ if u not in has_pred]
        start = min(starts) if starts else min(succ)
        ring, u = [start], succ.get(start)
        while u is not None and u != start and len(ring) <= len(succ):
            ring.append(u)
            u = succ.get(u)
        ring += sorted(set(succ) | has_pred - set(ring))  # non-manifold leftovers
        # rotate so the spiral starts at the lowest-numbered neighbour (closed fans)
        if not starts:
            i = ring.index(min(ring))
            ring = ring[i:] + ring[:i]
        rings.append(ring)
    return rings


def spiral_indices(faces: Tensor, num_verts: int, length: int) -> Tensor:
    """(V, length) long spiral of every vertex (see module docstring)."""
    f = check_faces(faces, num_verts).numpy()
    if length < 1:
        raise ValueError(f"length: expected >= 1, got {length}")
    rings = _cyclic_rings(f, num_verts)
    out = -np.ones((num_verts, length), np.int64)
    for v in range(num_verts):
        seq, seen = [v], {v}
        frontier = [v]
        while len(seq) < length and frontier:
            new = []
            for u in frontier:
                for w in rings[u]:
                    if w not in seen:
                        seen.add(w)
                        new.append(w)
            seq.extend(new)
            frontier = new
        seq = seq[:length]
        out[v, :len(seq)] = seq
    return torch.from_numpy(out)
