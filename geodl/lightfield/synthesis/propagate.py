r"""A disparity map carried from one grid position to another.

Estimating disparity afresh at every target (a plane sweep per view) costs
seconds each; a map estimated once at a reference position can instead be
forward-warped to each target with the z-buffer
(:func:`~geodl.lightfield.synthesis.warp.forward_warp`: the disparity is
its own payload, and it is the same quantity in every view of this rig).
Pixels the reference does not see (disocclusions) are holes; they belong to
the farther surface beside them, so each hole takes the smaller of the
nearest known disparities to its left and right (and above and below):
background filling, the usual rule of depth-image-based rendering.
"""
from __future__ import annotations

import torch
from torch import Tensor

from geodl.lightfield.synthesis.warp import forward_warp


def _nearest_along(values: Tensor, known: Tensor, dim: int, reverse: bool) -> Tensor:
    """Per pixel, the value of the nearest known pixel before it along ``dim``
    (after it when ``reverse``); +inf where there is none."""
    v, k = (values.flip(dim), known.flip(dim)) if reverse else (values, known)
    n = v.shape[dim]
    shape = [1] * v.dim()
    shape[dim] = n
    idx = torch.arange(n, device=v.device).reshape(shape).expand_as(v)
    last = torch.where(k, idx, torch.full_like(idx, -1)).cummax(dim).values
    got = v.gather(dim, last.clamp_min(0))
    out = torch.where(last >= 0, got, torch.full_like(got, torch.inf))
    return out.flip(dim) if reverse else out


def fill_background(disparity: Tensor, known: Tensor) -> Tensor:
    """Fill the pixels of ``disparity`` (H, W) where ``known`` is False with
    the smallest of the nearest known values left, right, above and below
    (the smallest known value where none is in line)."""
    if not bool(known.any()):
        raise ValueError("known: no pixel of the disparity is known")
    cand = torch.stack([_nearest_along(disparity, known, dim, rev)
                        for dim in (0, 1) for rev in (False, True)])
    filled = cand.amin(0)
    # a hole with no known pixel in line with it (a corner): the farthest known value
    filled = torch.where(torch.isinf(filled), disparity[known].min(), filled)
    return torch.where(known, disparity, filled)


def propagate_disparity(disparity: Tensor, source, target, tolerance: float = 0.5) -> Tensor:
    """The disparity (H, W) of the view at ``target`` from that of the view at
    ``source`` (both (u, v), real numbers): z-buffered forward warping, then
    background filling of the disocclusions."""
    warped, _, hole = forward_warp(disparity[None], disparity, source, target, tolerance)
    return fill_background(warped[0], ~hole)
