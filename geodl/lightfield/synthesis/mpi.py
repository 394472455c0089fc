r"""Multiplane images (Zhou et al., SIGGRAPH 2018; Mildenhall et al., 2019)
built from source views and a disparity map, rendered anywhere on the grid.

An MPI at reference position :math:`r` holds :math:`D` fronto-parallel planes
at disparities :math:`d_0 < \dots < d_{D-1}` (back to front, spacing
:math:`\Delta`), each an RGBA image in the reference's pixel grid.

Alpha comes from the reference disparity map :math:`d(p)` as the ramp

.. math:: \alpha_k(p) = \operatorname{clamp}\big((d(p) - d_k)/\Delta + 1,\ 0,\ 1\big),

i.e. every plane at or behind the surface is opaque and the plane just in
front of it is partly transparent, so over-compositing at the reference
gives exactly the linear (tent) interpolation between the two planes
bracketing :math:`d(p)` (the soft assignment of the disparity to planes);
the opaque planes behind a surface are what disocclusions show elsewhere.

Colours: plane :math:`k` is the robust consensus
(:func:`~geodl.lightfield.synthesis.blend.consensus_blend`) of the sources
warped to the reference with the constant disparity :math:`d_k` (the plane
sweep volume): on the surface the sources agree; behind a foreground
object the sources that see past it outvote those that do not.

Rendering at :math:`t`: in this rig a plane's homography is a translation,
plane :math:`k` moves by :math:`d_k (t - r)`
(:func:`~geodl.lightfield.synthesis.warp.backward_warp` with a constant
disparity), and the planes are over-composited back to front,
:math:`C \leftarrow c_k \alpha_k + C (1 - \alpha_k)`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from geodl.lightfield.synthesis.blend import angular_weights, consensus_blend
from geodl.lightfield.synthesis.warp import backward_warp


@dataclass
class MPI:
    """A multiplane image.

    Attributes:
        colour: (D, C, H, W) plane colours, back (smallest disparity) first.
        alpha: (D, H, W) plane opacities in [0, 1].
        disparities: (D,) plane disparities, increasing (px per view step).
        reference: (2,) grid position (u, v) of the reference view.
    """

    colour: Tensor
    alpha: Tensor
    disparities: Tensor
    reference: Tensor

    def render(self, target) -> tuple[Tensor, Tensor]:
        """(image (C, H, W), valid (H, W)) seen from grid position ``target``."""
        return render_mpi(self, target)


def plane_alpha(disparity: Tensor, planes: Tensor) -> Tensor:
    """(D, H, W) ramp opacities of the module docstring (uniform spacing)."""
    step = float(planes[1] - planes[0]) if len(planes) > 1 else 1.0
    return ((disparity[None] - planes[:, None, None]) / step + 1).clamp(0, 1)


def build_mpi(images: Tensor, positions, disparity: Tensor, reference,
              planes: int | Tensor = 32, sigma: float = 0.05, iterations: int = 2) -> MPI:
    """An MPI at ``reference`` from source views and the reference's disparity.

    Args:
        images: (N, C, H, W) source views; positions: (N, 2) their (u, v).
        disparity: (H, W) disparity of the view at ``reference``.
        reference: (u, v) grid position of the MPI (real numbers).
        planes: number of planes spanning [min, max] of ``disparity``
            uniformly, or the (D,) increasing, uniformly spaced disparities.
        sigma, iterations: the colour consensus of
            :func:`~geodl.lightfield.synthesis.blend.consensus_blend`.
    """
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise ValueError("images: expected (N, C, H, W) source views")
    N, C, H, W = images.shape
    pos = torch.as_tensor(positions, dtype=torch.float64)
    if pos.shape != (N, 2):
        raise ValueError(f"positions: expected ({N}, 2), got {tuple(pos.shape)}")
    ref = torch.as_tensor(reference, dtype=torch.float64)
    if ref.shape != (2,) or not torch.isfinite(ref).all():
        raise ValueError(f"reference: expected a finite (u, v), got {reference!r}")
    if not isinstance(disparity, Tensor) or tuple(disparity.shape) != (H, W):
        raise ValueError(f"disparity: expected ({H}, {W}), got "
                         f"{tuple(disparity.shape) if isinstance(disparity, Tensor) else disparity!r}")
    if not torch.isfinite(disparity).all():
        raise ValueError("disparity: contains NaN or inf")
    d = disparity.to(images.dtype)
    if isinstance(planes, int):
        if planes < 2:
            raise ValueError(f"planes: expected >= 2, got {planes}")
        lo, hi = float(d.min()), float(d.max())
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        levels = torch.linspace(lo, hi, planes, dtype=images.dtype, device=images.device)
    else:
        levels = torch.as_tensor(planes, dtype=torch.float64).flatten()
        gaps = levels.diff()
        if len(levels) < 2 or not bool((gaps > 0).all()) or \
                float(gaps.max() - gaps.min()) > 1e-3 * float(gaps.max()):
            raise ValueError("planes: expected >= 2 increasing, uniformly spaced disparities")
        levels = levels.to(images)
    prior = angular_weights(pos, ref)
    colour = images.new_empty(len(levels), C, H, W)
    for k, dk in enumerate(levels.tolist()):
        warped, valid = backward_warp(images, dk, pos, ref)
        colour[k], _ = consensus_blend(warped, valid, prior, sigma, iterations)
    return MPI(colour, plane_alpha(d, levels), levels, ref)


def render_mpi(mpi: MPI, target) -> tuple[Tensor, Tensor]:
    """Over-composite the planes of ``mpi`` seen from grid position ``target``.

    Returns (image (C, H, W), valid (H, W) bool): valid where the composited
    opacity of samples inside the reference image reaches 0.5.
    """
    t = torch.as_tensor(target, dtype=torch.float64)
    if t.shape != (2,) or not torch.isfinite(t).all():
        raise ValueError(f"target: expected a finite (u, v), got {target!r}")
    D, C, H, W = mpi.colour.shape
    rgba = torch.cat([mpi.colour, mpi.alpha[:, None]], 1)  # (D, C+1, H, W)
    disp = mpi.disparities.to(rgba)[:, None, None].expand(D, H, W)
    # the target pixel sees plane k where the reference sees it shifted by d_k (r - t)
    moved, inside = backward_warp(rgba, disp, mpi.reference, t)
    out = rgba.new_zeros(C, H, W)
    cover = rgba.new_zeros(H, W)
    for k in range(D):  # back to front
        a = moved[k, C]
        out = moved[k, :C] * a + out * (1 - a)
        ai = a * inside[k]
        cover = ai + cover * (1 - ai)
    return out, cover >= 0.5
