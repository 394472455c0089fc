r"""Warping a light-field view to another (continuous) grid position.

Positions are real grid coordinates :math:`(u, v)` = (view row, view column),
so ``(4, 4)`` is the centre of a 9 x 9 grid and ``(4, 4.5)`` lies halfway to
its right neighbour. In the HCI convention (see
:class:`~geodl.structures.LightFieldRig`) a scene point of disparity
:math:`d` (px per view step, the same in every view of the parallel rig)
seen at pixel :math:`(x, y)` from position :math:`(u_t, v_t)` appears from
:math:`(u_s, v_s)` at

.. math:: x_s = x - d\,(v_s - v_t), \qquad y_s = y - d\,(u_s - u_t).

Three warps follow from it:

* :func:`backward_warp`: the target's disparity is known; every target
  pixel samples the source there (bilinear
  :func:`~geodl.ops.sampling.sample_at_pixels`, differentiable
  in the image and the disparity). Validity: the sample lies inside the
  source image.
* :func:`forward_warp`: the source's disparity is known; every source pixel
  is pushed to its target position and splatted bilinearly; where several
  land on one pixel a z-buffer keeps the nearest. Nearer means larger
  disparity: :math:`d = b f (1/Z - 1/F)` grows as :math:`Z` shrinks
  (:meth:`LightFieldRig.depth_to_disparity`). Target pixels nothing reaches
  are holes.
* :func:`soft_splat`: softmax splatting (Niklaus and Liu, CVPR 2020), the
  z-buffer made differentiable: contributions weigh
  :math:`b \exp(\alpha d)` (:math:`b` the bilinear weight), so nearer
  surfaces dominate as :math:`\alpha` grows.

Shapes: images ``(..., C, H, W)``; disparities ``(..., H, W)`` with the
same leading dimensions; positions ``(u, v)`` pairs or tensors ``(..., 2)``
broadcastable to the leading dimensions. Positions are pixel indices, pixel
``(i, j)`` centred at ``(x, y) = (j, i)`` (continuous ``(j + 0.5, i + 0.5)``;
:mod:`geodl.ops.sampling`).
"""
from __future__ import annotations

from typing import Sequence, Union

import torch
from torch import Tensor

from geodl.ops.sampling import sample_at_pixels, within_pixel_centers

Position = Union[Sequence[float], Tensor]


def _flatten(image: Tensor, disparity: Tensor, name: str = "disparity"
             ) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """Check shapes; return image (B, C, H, W), disparity (B, H, W), leading dims."""
    if not isinstance(image, Tensor) or image.dim() < 3:
        raise ValueError(f"image: expected a tensor (..., C, H, W), got "
                         f"{tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__}")
    if not image.is_floating_point():
        raise ValueError(f"image: expected a float tensor, got {image.dtype}")
    lead = tuple(image.shape[:-3])
    C, H, W = image.shape[-3:]
    if not isinstance(disparity, Tensor):
        disparity = torch.as_tensor(disparity, dtype=image.dtype, device=image.device)
    if disparity.dim() == 0:
        disparity = disparity.expand(*lead, H, W)
    if tuple(disparity.shape[-2:]) != (H, W):
        raise ValueError(f"{name}: expected (..., {H}, {W}) like the image, got {tuple(disparity.shape)}")
    try:
        disparity = disparity.expand(*lead, H, W)
    except RuntimeError:
        raise ValueError(f"{name}: leading dimensions {tuple(disparity.shape[:-2])} do not "
                         f"match the image's {lead}") from None
    if not torch.isfinite(disparity).all():
        raise ValueError(f"{name}: contains NaN or inf")
    return image.reshape(-1, C, H, W), disparity.to(image.dtype).reshape(-1, H, W), lead


def _offset(source: Position, target: Position, lead: tuple[int, ...], like: Tensor
            ) -> tuple[Tensor, Tensor]:
    """(du, dv) = source - target per batch element, each (B, 1, 1)."""
    s = torch.as_tensor(source, dtype=like.dtype, device=like.device)
    t = torch.as_tensor(target, dtype=like.dtype, device=like.device)
    for name, p in (("source", s), ("target", t)):
        if p.dim() == 0 or p.shape[-1] != 2:
            raise ValueError(f"{name}: expected a (u, v) position or a (..., 2) tensor, "
                             f"got shape {tuple(p.shape)}")
        if not torch.isfinite(p).all():
            raise ValueError(f"{name}: contains NaN or inf")
    try:
        delta = torch.broadcast_to(s - t, (*lead, 2)).reshape(-1, 2)
    except RuntimeError:
        raise ValueError(f"source, target: positions of shapes {tuple(s.shape)}, {tuple(t.shape)} "
                         f"do not broadcast to the images' leading dimensions {lead}") from None
    return delta[:, 0, None, None], delta[:, 1, None, None]


def _pixel_grid(H: int, W: int, like: Tensor) -> tuple[Tensor, Tensor]:
    ys, xs = torch.meshgrid(torch.arange(H, dtype=like.dtype, device=like.device),
                            torch.arange(W, dtype=like.dtype, device=like.device), indexing="ij")
    return xs, ys


def sample_positions(disparity: Tensor, source: Position, target: Position
                     ) -> tuple[Tensor, Tensor]:
    r"""Where each target pixel lies in the source view: ``(xs, ys)``, each
    shaped like ``disparity`` (..., H, W), in pixel indices:
    :math:`x_s = x - d (v_s - v_t)`, :math:`y_s = y - d (u_s - u_t)`."""
    d = disparity
    if d.dim() < 2:
        raise ValueError(f"disparity: expected (..., H, W), got {tuple(d.shape)}")
    lead = tuple(d.shape[:-2])
    du, dv = _offset(source, target, lead, d)
    H, W = d.shape[-2:]
    xs, ys = _pixel_grid(H, W, d)
    flat = d.reshape(-1, H, W)
    return (xs - flat * dv).reshape(d.shape), (ys - flat * du).reshape(d.shape)


def backward_warp(image: Tensor, disparity: Tensor | float, source: Position, target: Position,
                  padding_mode: str = "border") -> tuple[Tensor, Tensor]:
    r"""Resample a source view into a target position's pixel grid, using the
    TARGET view's disparity.

    Args:
        image: (..., C, H, W) source view(s).
        disparity: (..., H, W) (or (H, W), or a scalar) disparity of the
            target view, px per view step, HCI sign.
        source, target: (u, v) grid positions (real numbers), or tensors
            (..., 2) for a batch of different positions.
        padding_mode: :func:`~geodl.ops.sampling.sample_at_pixels`'s, for
            samples outside the image
            (they are also marked invalid).

    Returns:
        warped: (..., C, H, W) the source sampled at
        :math:`(x - d(v_s - v_t), y - d(u_s - u_t))` (bilinear; differentiable
        in ``image`` and ``disparity``); valid: (..., H, W) bool, True where
        the sample lies inside the source image (``[0, W-1] x [0, H-1]`` in
        pixel indices, so that bilinear interpolation uses real pixels only).
    """
    img, d, lead = _flatten(image, disparity)
    B, C, H, W = img.shape
    du, dv = _offset(source, target, lead, img)
    xs, ys = _pixel_grid(H, W, img)
    sx, sy = xs - d * dv, ys - d * du  # (B, H, W)
    warped = sample_at_pixels(img, sx, sy, padding_mode=padding_mode)
    tol = 1e-6 * max(H, W)  # positions computed in float; a grid view's own pixel is inside
    valid = within_pixel_centers(sx, sy, H, W, tol)
    return warped.reshape(*lead, C, H, W), valid.reshape(*lead, H, W)


def _splat_targets(d: Tensor, du: Tensor, dv: Tensor) -> tuple[Tensor, Tensor]:
    """Target position (tx, ty) of every source pixel: the inverse map,
    :math:`x_t = x_s - d (v_t - v_s) = x_s + d\\,dv` with dv = v_s - v_t."""
    B, H, W = d.shape
    xs, ys = _pixel_grid(H, W, d)
    return xs + d * dv, ys + d * du


def _bilinear_taps(tx: Tensor, ty: Tensor, H: int, W: int
                   ) -> list[tuple[Tensor, Tensor, Tensor]]:
    """For the four neighbours of each point: (flat index, bilinear weight,
    inside mask); weights of neighbours outside the image are zero."""
    x0, y0 = torch.floor(tx), torch.floor(ty)
    fx, fy = tx - x0, ty - y0
    taps = []
    for ox, oy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                      (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + ox, y0 + oy
        inside = (xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1)
        idx = (yi.clamp(0, H - 1) * W + xi.clamp(0, W - 1)).long()
        taps.append((idx, torch.where(inside, w, torch.zeros_like(w)), inside))
    return taps


def _zbuffer(d: Tensor, taps: list[tuple[Tensor, Tensor, Tensor]]) -> Tensor:
    """(B, H*W) largest disparity among the splats with positive weight
    reaching each target pixel (-inf where none)."""
    B = d.shape[0]
    zbuf = torch.full((B, d[0].numel()), -torch.inf, dtype=d.dtype, device=d.device)
    for idx, w, inside in taps:
        key = torch.where(inside & (w > 0), d, torch.full_like(d, -torch.inf)).reshape(B, -1)
        zbuf.scatter_reduce_(1, idx.reshape(B, -1), key, reduce="amax")
    return zbuf


def forward_warp(image: Tensor, disparity: Tensor, source: Position, target: Position,
                 tolerance: float = 0.5) -> tuple[Tensor, Tensor, Tensor]:
    r"""Push a source view to a target position using the SOURCE view's
    disparity, with a z-buffer (the nearer surface, larger disparity, wins).

    Every source pixel lands at :math:`(x + d(v_s - v_t), y + d(u_s - u_t))`
    and is splatted to its four neighbouring target pixels with bilinear
    weights. Per target pixel the z-buffer holds the largest disparity among
    the contributions reaching it; contributions more than ``tolerance``
    px below it (a farther surface) are dropped, the rest averaged with their
    bilinear weights (so one surface's neighbouring pixels blend smoothly).

    Args:
        image: (..., C, H, W) source view(s).
        disparity: (..., H, W) disparity of the SOURCE view.
        source, target: (u, v) positions or (..., 2) tensors.
        tolerance: disparity band (px per view step) counted as one surface.

    Returns:
        warped: (..., C, H, W), zero in holes; disparity: (..., H, W) the
        z-buffer (the target's disparity where known, NaN in holes); hole:
        (..., H, W) bool, True where no source pixel landed. Not
        differentiable (see :func:`soft_splat`).
    """
    if not tolerance >= 0:
        raise ValueError(f"tolerance: expected >= 0, got {tolerance}")
    img, d, lead = _flatten(image, disparity)
    B, C, H, W = img.shape
    du, dv = _offset(source, target, lead, img)
    with torch.no_grad():
        tx, ty = _splat_targets(d, du, dv)
        taps = _bilinear_taps(tx, ty, H, W)
        flat_d = d.reshape(B, -1)
        zbuf = _zbuffer(d, taps)
        acc = torch.zeros(B, C, H * W, dtype=img.dtype, device=img.device)
        wsum = torch.zeros(B, H * W, dtype=img.dtype, device=img.device)
        dsum = torch.zeros(B, H * W, dtype=img.dtype, device=img.device)
        colours = img.reshape(B, C, -1)
        for idx, w, _ in taps:
            i = idx.reshape(B, -1)
            front = flat_d >= zbuf.gather(1, i) - tolerance
            ww = torch.where(front, w.reshape(B, -1), torch.zeros_like(flat_d))
            acc.scatter_add_(2, i[:, None].expand(B, C, -1), colours * ww[:, None])
            wsum.scatter_add_(1, i, ww)
            dsum.scatter_add_(1, i, ww * flat_d)
        hole = wsum <= 1e-8
        safe = wsum.clamp_min(1e-8)
        warped = torch.where(hole[:, None], torch.zeros_like(acc), acc / safe[:, None])
        disp_t = torch.where(hole, torch.full_like(dsum, torch.nan), dsum / safe)
    return (warped.reshape(*lead, C, H, W), disp_t.reshape(*lead, H, W),
            hole.reshape(*lead, H, W))


def soft_splat(image: Tensor, disparity: Tensor, source: Position, target: Position,
               alpha: float = 10.0, eps: float = 1e-7) -> tuple[Tensor, Tensor]:
    r"""Softmax splatting (Niklaus and Liu, CVPR 2020) of a source view to a
    target position with the SOURCE view's disparity; differentiable in the
    image and the disparity (it passes ``gradcheck``).

    .. math:: \hat I_t(q) = \frac{\sum_p b(q, p)\, e^{\alpha d_p} I_s(p)}
                                 {\sum_p b(q, p)\, e^{\alpha d_p}},

    :math:`b(q, p)` the bilinear weight of target pixel :math:`q` for the
    landing point of source pixel :math:`p`. Larger disparity is nearer, so
    a larger :math:`\alpha` approaches a z-buffer (``alpha=0``: plain
    average splatting). The exponent is shifted by the largest disparity
    reaching each target pixel (a constant per pixel: it cancels in the
    ratio, and keeps the weights in (0, 1], so far surfaces do not
    underflow into ``eps``).

    Args:
        alpha: sharpness of the soft z-test, per px of disparity.
        eps: added to the denominator.

    Returns:
        warped: (..., C, H, W); coverage: (..., H, W) the summed bilinear
        weights :math:`\sum_p b(q, p)` reaching each target pixel (0 in
        holes, about 1 where one surface lands, more where several overlap).
    """
    img, d, lead = _flatten(image, disparity)
    B, C, H, W = img.shape
    du, dv = _offset(source, target, lead, img)
    tx, ty = _splat_targets(d, du, dv)
    taps = _bilinear_taps(tx, ty, H, W)
    with torch.no_grad():  # per target pixel, the largest disparity reaching it
        top = _zbuffer(d.detach(), taps)
    num = img.new_zeros(B, C, H * W)
    den = img.new_zeros(B, H * W)
    cover = img.new_zeros(B, H * W)
    for idx, w, _ in taps:
        i = idx.reshape(B, -1)
        # exp(alpha (d_p - top_q)) <= 1: no overflow, and the per-q constant
        # cancels in the ratio, so detaching it changes no gradient
        gap = d.reshape(B, -1) - top.gather(1, i)
        gap = torch.where(w.reshape(B, -1) > 0, gap, torch.zeros_like(gap))  # top may be -inf there
        wz = w.reshape(B, -1) * torch.exp(alpha * gap)
        num = num.scatter_add(2, i[:, None].expand(B, C, -1), img.reshape(B, C, -1) * wz[:, None])
        den = den.scatter_add(1, i, wz)
        cover = cover.scatter_add(1, i, w.detach().reshape(B, -1))
    warped = num / (den[:, None] + eps)
    return warped.reshape(*lead, C, H, W), cover.reshape(*lead, H, W)


def warp(views, disparity: Tensor | float, source: Position, target: Position,
         mode: str = "backward", **options) -> tuple[Tensor, Tensor]:
    """One entry to the three warps.

    Args:
        views: a :class:`~geodl.structures.LightField` (then ``source`` must
            be an integer grid position and its view is taken) or a source
            image (..., C, H, W).
        disparity: the target's disparity for ``mode="backward"``, the
            source's for ``"forward"`` and ``"soft"``.
        source, target: (u, v) grid positions; ``target`` may be fractional.
        mode: ``"backward"``, ``"forward"`` (z-buffer) or ``"soft"``.
        options: passed to the warp (``padding_mode``, ``tolerance``,
            ``alpha``).

    Returns:
        (warped (..., C, H, W), valid (..., H, W) bool): for the splatting
        modes, valid is "not a hole" (soft: coverage above 1e-3).
    """
    from geodl.structures import LightField
    if isinstance(views, LightField):
        U, V = views.grid_shape
        try:
            u, v = (float(p) for p in source)
        except (TypeError, ValueError):
            raise ValueError(f"source: expected a (u, v) grid position, got {source!r}") from None
        if not (u.is_integer() and v.is_integer() and 0 <= u < U and 0 <= v < V):
            raise ValueError(f"source: expected an integer grid position in [0, {U}) x [0, {V}) "
                             f"(the view to warp), got {source!r}")
        views = views.view(int(u), int(v))
    if mode == "backward":
        return backward_warp(views, disparity, source, target, **options)
    if mode == "forward":
        warped, _, hole = forward_warp(views, disparity, source, target, **options)
        return warped, ~hole
    if mode == "soft":
        warped, coverage = soft_splat(views, disparity, source, target, **options)
        return warped, coverage > 1e-3
    raise ValueError(f"mode: expected 'backward', 'forward' or 'soft', got {mode!r}")
