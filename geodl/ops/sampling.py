r"""Sampling images between pixels: the library's one pixel-centre rule.

Pixel :math:`(i, j)` (row, column) of an :math:`H \times W` image covers
:math:`[j, j+1) \times [i, i+1)` in continuous image coordinates
:math:`(u, v)`, so its centre is :math:`(j + \tfrac12, i + \tfrac12)`, as in
the cameras (``docs/notes/cameras.md``). Most samplers think in **pixel
indices**

.. math:: x = u - \tfrac12, \qquad y = v - \tfrac12,

in which pixel :math:`(i, j)` is centred at :math:`(x, y) = (j, i)`: a shift
of :math:`s` pixels is ``x = j + s``, and sampling at integer positions
returns the pixels themselves. :func:`sample_at_pixels` takes pixel indices
(light-field shifts and warps); :func:`sample_at_coordinates` takes
continuous coordinates (a camera's projection, texture coordinates) and is
the same sampler with :math:`x = u - \tfrac12`, without the rounding of that
subtraction.

``torch.nn.functional.grid_sample`` with ``align_corners=False`` puts
:math:`-1` and :math:`+1` at the outer pixel edges :math:`u = 0` and
:math:`u = W`, so its normalised coordinate is

.. math:: g_x = \frac{2u}{W} - 1 = \frac{2(x + \tfrac12)}{W} - 1, \qquad
          g_y = \frac{2v}{H} - 1 = \frac{2(y + \tfrac12)}{H} - 1.

Bilinear sampling is then
:math:`I(x, y) = \sum_{i, j} \max(0, 1 - |x - j|)\,\max(0, 1 - |y - i|)\,I_{ij}`,
with the padding supplying :math:`I_{ij}` outside the image. It reads real
pixels only inside the hull of the pixel centres,
:math:`[0, W-1] \times [0, H-1]` in pixel indices
(:func:`within_pixel_centers`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")


def sample_at_pixels(image: Tensor, x: Tensor, y: Tensor, mode: str = "bilinear",
                     padding_mode: str = "border") -> Tensor:
    r"""``image`` sampled at pixel indices ``(x, y)``: pixel :math:`(i, j)`
    is centred at :math:`(x, y) = (j, i)` (the module docstring).

    Args:
        image: (N, C, H, W) floating-point images.
        x, y: column and row positions in pixel indices, floating point, of
            one shape after broadcasting: (Hout, Wout) (the same positions in
            every image) or (N, Hout, Wout). The grid is computed in their
            dtype, then cast to ``image``'s.
        mode: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        padding_mode: what lies outside the image: ``"border"`` (the edge
            pixels repeated), ``"zeros"`` or ``"reflection"`` (mirrored about
            the outer pixel edges, repeated).

    Returns:
        (N, C, Hout, Wout) samples: ``out[n, :, k, l]`` is ``image[n]`` at
        :math:`(x_{nkl}, y_{nkl})`; differentiable in ``image``, ``x`` and ``y``.
    """
    return _sample(image, x, y, 0.5, mode, padding_mode, ("x", "y"))


def sample_at_coordinates(image: Tensor, u: Tensor, v: Tensor, mode: str = "bilinear",
                          padding_mode: str = "border") -> Tensor:
    r"""``image`` sampled at continuous image coordinates ``(u, v)``: pixel
    :math:`(i, j)` covers :math:`[j, j+1) \times [i, i+1)`, its centre at
    :math:`(j + \tfrac12, i + \tfrac12)`; the same as
    :func:`sample_at_pixels` at ``(u - 0.5, v - 0.5)``.

    Args:
        image: (N, C, H, W) floating-point images.
        u, v: column and row coordinates, as ``x``, ``y`` of
            :func:`sample_at_pixels`.
        mode, padding_mode: as for :func:`sample_at_pixels`.

    Returns:
        (N, C, Hout, Wout) samples.
    """
    return _sample(image, u, v, 0.0, mode, padding_mode, ("u", "v"))


def within_pixel_centers(x: Tensor, y: Tensor, height: int, width: int, tol: float = 0.0
                         ) -> Tensor:
    """Bool mask (the broadcast shape of ``x`` and ``y``): True where pixel
    indices ``(x, y)`` lie in ``[-tol, width-1+tol] x [-tol, height-1+tol]``,
    the hull of the pixel centres, where bilinear sampling reads real pixels
    only (no padding)."""
    return (x >= -tol) & (x <= width - 1 + tol) & (y >= -tol) & (y <= height - 1 + tol)


def grid_sample_matrix(height: int, width: int) -> Tensor:
    r"""(3, 3) float64 matrix taking homogeneous continuous image coordinates
    :math:`(u, v, 1)` of an (``height``, ``width``) image to ``grid_sample``'s
    normalised :math:`(g_x, g_y, 1)` (``align_corners=False``):
    :math:`g_x = 2u/W - 1`, :math:`g_y = 2v/H - 1`. Folded into a projective
    map (a homography), it gives ``grid_sample``'s grid in one division."""
    return torch.tensor([[2 / width, 0, -1], [0, 2 / height, -1], [0, 0, 1]], dtype=torch.float64)


def _sample(image: Tensor, a: Tensor, b: Tensor, offset: float, mode: str, padding_mode: str,
            names: tuple[str, str]) -> Tensor:
    """Check the arguments, then ``grid_sample`` at (2 (a + offset) / W - 1,
    2 (b + offset) / H - 1)."""
    pair = ", ".join(names)
    if not isinstance(image, Tensor) or image.dim() != 4 or not image.is_floating_point():
        raise ValueError(f"image: expected a float tensor (N, C, H, W), got {_describe(image)}")
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise ValueError(f"{pair}: expected tensors, got {type(a).__name__}, {type(b).__name__}")
    if not (a.is_floating_point() and b.is_floating_point()):
        raise ValueError(f"{pair}: expected floating-point tensors, got {a.dtype}, {b.dtype}")
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode: expected one of {PADDING_MODES}, got {padding_mode!r}")
    try:
        a, b = torch.broadcast_tensors(a, b)
    except RuntimeError:
        raise ValueError(f"{pair}: shapes {tuple(a.shape)} and {tuple(b.shape)} do not "
                         "broadcast") from None
    N, _, H, W = image.shape
    if a.dim() not in (2, 3) or (a.dim() == 3 and a.shape[0] not in (1, N)):
        raise ValueError(f"{pair}: expected (Hout, Wout) or ({N}, Hout, Wout), got "
                         f"{tuple(a.shape)}")
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = a.to(dtype), b.to(dtype)
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        grid = torch.stack([_normalized(a, W, offset), _normalized(b, H, offset)], -1)
    else:
        # the same operations in the same order (so the same rounding), in
        # place in one buffer: iterative callers allocate no temporaries
        grid = torch.empty(*a.shape, 2, dtype=dtype, device=a.device)
        _normalized(a, W, offset, out=grid[..., 0])
        _normalized(b, H, offset, out=grid[..., 1])
    if grid.dim() == 3:
        grid = grid[None]
    grid = grid.expand(N, -1, -1, -1).to(image.dtype)
    return F.grid_sample(image, grid, mode=mode, padding_mode=padding_mode, align_corners=False)


def _normalized(a: Tensor, size: int, offset: float, out: Tensor | None = None) -> Tensor:
    """2 (a + offset) / size - 1, into ``out`` when given."""
    if out is None:
        return 2 * (a + offset) / size - 1 if offset else 2 * a / size - 1
    if offset:
        torch.add(a, offset, out=out)
    else:
        out.copy_(a)
    return out.mul_(2).div_(size).sub_(1)


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f"{value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__
