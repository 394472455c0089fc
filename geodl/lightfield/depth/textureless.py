r"""Fill textureless regions of a disparity map with the plane of their borders.

A uniformly coloured wall gives local matching nothing to lock on to: the
estimate inside it is whatever the smoothing carried in from its edges, off
by a smooth bump of 0.1-0.3 px, and too few of its pixels are confident for
:func:`~geodl.lightfield.depth.planes.snap_to_planes` to find its plane.
Its *borders* are matched well (corners, skirting, a picture on it). So, as
in segment-based stereo (e.g. Klaus, Sormann and Karner, ICPR 2006: colour
segments, one disparity plane each):

1. **Regions**: pixels whose blurred grey-level gradient
   :math:`|\partial_x I| + |\partial_y I|` is below ``gradient`` are
   textureless; eroded by ``erode`` px (thin bridges would join a wall to a
   pillar in front of it), labelled into connected regions, those of at
   least ``min_size`` pixels kept (:func:`textureless_regions`).
2. **Plane per region**: RANSAC
   (:func:`~geodl.lightfield.depth.planes.ransac_plane`) on the confident
   pixels (``confidence >= min_confidence``) of the region grown by ``ring``
   px, i.e. its well-matched border and anything textured inside it; kept
   when at least ``min_inliers`` of them are within ``tol`` px and the
   inliers spread over the region (their standard deviation in x and in y at
   least ``spread`` times the region's): a plane seen on one side only is
   an extrapolation.
3. **Fill**: the region (grown back by ``erode``) takes the plane where the
   estimate lies within ``gate`` px of it (a foreground object that shares the
   colour keeps its own disparity), with confidence at least
   ``filled_confidence``.

It runs before :func:`~geodl.lightfield.depth.planes.snap_to_planes` in
``geodl.recon`` (filled walls then support their global plane). Defaults
chosen on training rooms 0, 1 and 3 with ``refine_net`` (share of pixels
within 5 cm of the true depth, then the fused rooms' F-score; never the
benchmark rooms): the numbers are in ``experiments/README.md``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from geodl.lightfield.depth.cost_volume import matching_features
from geodl.lightfield.depth.planes import _check_maps, _check_tolerances, plane_coordinates, ransac_plane


@dataclass
class TexturelessFill:
    """What :func:`fill_textureless` returns.

    Attributes:
        disparity: (H, W) float64, the regions' planes where filled, else the input.
        confidence: (H, W) float64, at least ``filled_confidence`` where filled.
        filled: (H, W) bool.
        regions: (H, W) long, the textureless region of each pixel (0: none).
    """

    disparity: Tensor
    confidence: Tensor
    filled: Tensor
    regions: Tensor


def textureless_regions(image: Tensor, gradient: float = 0.01, blur: float = 1.0,
                        min_size: int = 500, erode: int = 2) -> Tensor:
    """(H, W) long labels 1..R of the textureless regions of a (C, H, W)
    image in [0, 1] (step 1 of the module docstring); 0 elsewhere."""
    from scipy import ndimage  # labelling and morphology: scipy's, not copies

    img = torch.as_tensor(image)
    if img.dim() != 3 or img.shape[0] not in (1, 3):
        raise ValueError(f"image: expected (C, H, W) with C = 1 or 3, got {tuple(img.shape)}")
    if not gradient > 0:
        raise ValueError(f"gradient: expected > 0, got {gradient!r}")
    if not (isinstance(erode, int) and erode >= 0):
        raise ValueError(f"erode: expected an int >= 0, got {erode!r}")
    # the grey level's central differences, as the cost volume matches them
    _, gx, gy = matching_features(img[None].float(), blur)[0]
    slope = gx.abs() + gy.abs()
    flat = (slope < gradient).numpy()
    if erode:
        flat = ndimage.binary_erosion(flat, np.ones((3, 3), bool), iterations=erode)
    labels, n = ndimage.label(flat)
    size = np.bincount(labels.ravel(), minlength=n + 1)
    keep = size >= min_size
    keep[0] = False
    relabel = np.zeros(n + 1, np.int64)
    relabel[keep] = np.arange(1, int(keep.sum()) + 1)
    return torch.from_numpy(relabel[labels])


def fill_textureless(disparity: Tensor, confidence: Tensor, image: Tensor,
                     min_confidence: float = 0.5, ring: int = 4, tol: float = 0.05,
                     min_inliers: float = 0.3, spread: float = 0.3, gate: float = 0.35,
                     filled_confidence: float = 0.5, gradient: float = 0.01, blur: float = 1.0,
                     min_size: int = 500, erode: int = 2, hypotheses: int = 200,
                     score_points: int = 20_000, seed: int = 0) -> TexturelessFill:
    """Steps 2 and 3 of the module docstring.

    Args:
        disparity, confidence: (H, W) maps (e.g. ``estimate_disparity``'s).
        image: (C, H, W) the view the disparity belongs to, in [0, 1].
        min_confidence: pixels at least this confident fit the planes.
        ring: px the region grows by to take in its border.
        tol, min_inliers, spread: RANSAC inlier distance (px), the least
            share of the fitting pixels that must be inliers, and the least
            spread of the inliers over the region.
        gate: a pixel takes the plane only within this many px of it.
        filled_confidence: the least confidence of a filled pixel.
        gradient, blur, min_size, erode: :func:`textureless_regions`.
        hypotheses, score_points, seed: RANSAC (deterministic for a seed).
    """
    from scipy import ndimage

    d, c = _check_maps(disparity, confidence)
    _check_tolerances(tol=tol, gate=gate)
    shape = tuple(torch.as_tensor(image).shape)
    if shape[-2:] != tuple(d.shape):
        raise ValueError(f"image: expected (C, {d.shape[0]}, {d.shape[1]}) like the disparity, "
                         f"got {shape}")
    for name, value in (("min_inliers", min_inliers), ("spread", spread)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name}: expected in [0, 1], got {value!r}")
    regions = textureless_regions(image, gradient, blur, min_size, erode)
    H, W = d.shape
    coords = plane_coordinates(H, W)
    flat_coords, values = coords.reshape(-1, 3), d.reshape(-1)
    confident = ((c >= min_confidence) & torch.isfinite(d)).numpy()
    gen = torch.Generator().manual_seed(seed)
    out, conf = d.clone(), c.clone()
    filled = torch.zeros(H, W, dtype=torch.bool)
    square = np.ones((3, 3), bool)
    labels = regions.numpy()
    pad = ring + erode + 1  # the dilations below stay inside the padded box
    rows, cols = np.arange(H).reshape(-1, 1), np.arange(W).reshape(1, -1)
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        # Work in the region's bounding box grown by ``pad``: the same
        # dilations as over the whole image, at a fraction of the cost.
        ys = slice(max(0, box[0].start - pad), min(H, box[0].stop + pad))
        xs = slice(max(0, box[1].start - pad), min(W, box[1].stop + pad))
        region = labels[ys, xs] == k
        fitting = ndimage.binary_dilation(region, square, iterations=ring) & confident[ys, xs]
        idx = torch.from_numpy((rows[ys] * W + cols[:, xs])[fitting])  # row-major, as flat
        if len(idx) < 30:
            continue
        A, b = flat_coords[idx], values[idx]
        fit = ransac_plane(A, b, tol, hypotheses, score_points, gen)
        if fit is None or fit[1].sum() < max(30, min_inliers * len(idx)):
            continue
        plane, inliers = fit
        inside = coords[ys, xs][torch.from_numpy(region)]
        spread_in, spread_region = A[inliers, :2].std(0), inside[:, :2].std(0)
        if bool((spread_in < spread * spread_region).any()):
            continue
        if erode:
            region = ndimage.binary_dilation(region, square, iterations=erode)
        on_plane = coords[ys, xs] @ plane
        take = torch.from_numpy(region) & ((d[ys, xs] - on_plane).abs() < gate)
        out[ys, xs][take] = on_plane[take]
        conf[ys, xs][take] = conf[ys, xs][take].clamp(min=filled_confidence)
        filled[ys, xs] |= take
    return TexturelessFill(out, conf, filled, regions)
