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
   Where the scene's plane normals are known (``families``: the floor and
   the walls of a Manhattan room, :mod:`geodl.mvs.manhattan`), the plane of
   each normal through the same pixels is fitted too
   (:func:`~geodl.lightfield.depth.planes.ransac_plane_along`, one free
   parameter); the family plane with most inliers replaces the free plane
   when it has at least ``family_share`` of the free plane's inliers, or when
   the free plane failed, provided its inliers spread along one axis at
   least: a ceiling's only evidence is the line where the walls stop, and
   any plane through a line fits it, so the free plane tilts about it. A
   caller's ``admissible`` test can veto any plane (the scene's bounds).
   Where a caller knows a whole candidate surface (``prior``: the room's
   box, :mod:`geodl.mvs.room_box`), a region takes it instead when more of
   its fitting pixels lie within ``tol`` of it than of the plane (and at
   least ``min_inliers`` of them): a region that spans a wall and the
   ceiling has no one plane.
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

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from geodl.lightfield.depth.cost_volume import matching_features
from geodl.lightfield.depth.planes import (
    _check_maps,
    _check_tolerances,
    plane_coordinates,
    ransac_plane,
    ransac_plane_along,
)
from geodl.ops.validation import with_options


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


@dataclass(frozen=True)
class TexturelessConfig:
    """Every setting of :func:`fill_textureless` (steps 1-3 of the module
    docstring), with its default; chosen on training rooms 0, 1 and 3 with
    ``refine_net`` (share of pixels within 5 cm of the true depth, then the
    fused rooms' F-score; never the benchmark rooms; the numbers are in
    ``experiments/README.md``). Hashable; keywords of :func:`fill_textureless`
    replace single fields."""

    #: pixels at least this confident fit the planes
    min_confidence: float = 0.5
    #: px the region grows by to take in its well-matched border
    ring: int = 4
    #: RANSAC inlier distance in px
    tol: float = 0.05
    #: the least share of the fitting pixels that must be inliers
    min_inliers: float = 0.3
    #: the least spread of the inliers over the region (their standard
    #: deviation in x and in y as a share of the region's), as a plane seen on
    #: one side only is an extrapolation
    spread: float = 0.3
    #: a pixel takes the plane only within this many px of it, so that a
    #: foreground object that shares the colour keeps its own disparity
    #: (``math.inf``: every pixel of the region takes it)
    gate: float = 0.35
    #: a plane of a known normal (``families`` of :func:`fill_textureless`)
    #: replaces the free plane when it has at least this share of the free
    #: plane's inliers: one parameter against three (chosen on training
    #: rooms 0-5, experiments/README.md#photos-manhattan-planes)
    family_share: float = 0.5
    #: the least confidence of a filled pixel
    filled_confidence: float = 0.5
    #: a pixel whose blurred grey-level gradient is below this is textureless
    gradient: float = 0.01
    #: Gaussian sigma (px) of the blur before the gradient
    blur: float = 1.0
    #: the fewest pixels of a region that is filled
    min_size: int = 500
    #: px the textureless pixels are eroded by before labelling, as thin
    #: bridges would join a wall to a pillar in front of it
    erode: int = 2
    #: RANSAC triples per region
    hypotheses: int = 200
    #: size of the random subset that scores the triples
    score_points: int = 20_000
    #: seed of the RANSAC generator (the fill is deterministic for a seed)
    seed: int = 0

    def __post_init__(self) -> None:
        _check_tolerances(tol=self.tol)
        if isinstance(self.gate, bool) or not (isinstance(self.gate, (int, float))
                                               and self.gate > 0):
            raise ValueError(f"gate: expected a positive number of pixels or inf, got {self.gate!r}")
        for name in ("min_inliers", "spread", "family_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name}: expected in [0, 1], got {value!r}")
        if not self.gradient > 0:
            raise ValueError(f"gradient: expected > 0, got {self.gradient!r}")
        for name in ("ring", "erode"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 0):
                raise ValueError(f"{name}: expected an int >= 0, got {value!r}")


def textureless_regions(image: Tensor, gradient: float = TexturelessConfig.gradient,
                        blur: float = TexturelessConfig.blur,
                        min_size: int = TexturelessConfig.min_size,
                        erode: int = TexturelessConfig.erode) -> Tensor:
    """(H, W) long labels 1..R of the textureless regions of a (C, H, W)
    image in [0, 1] (step 1 of the module docstring), on the image's device
    (scipy labels them on the CPU); 0 elsewhere."""
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
    flat = (slope < gradient).cpu().numpy()
    if erode:
        flat = ndimage.binary_erosion(flat, np.ones((3, 3), bool), iterations=erode)
    labels, n = ndimage.label(flat)
    size = np.bincount(labels.ravel(), minlength=n + 1)
    keep = size >= min_size
    keep[0] = False
    relabel = np.zeros(n + 1, np.int64)
    relabel[keep] = np.arange(1, int(keep.sum()) + 1)
    return torch.from_numpy(relabel[labels]).to(img.device)


def fill_textureless(disparity: Tensor, confidence: Tensor, image: Tensor, *,
                     config: TexturelessConfig | None = None, families: Tensor | None = None,
                     admissible: Callable[[Tensor, Tensor], bool] | None = None,
                     prior: Tensor | None = None, **options) -> TexturelessFill:
    """Steps 2 and 3 of the module docstring.

    Args:
        disparity, confidence: (H, W) maps (e.g. ``estimate_disparity``'s).
        image: (C, H, W) the view the disparity belongs to, in [0, 1].
        config: the settings (:class:`TexturelessConfig`, its defaults when None).
        families: (M, 3) plane directions ``a`` in :func:`plane_coordinates`,
            each the family :math:`d = s\\,a^\top (x, y, 1)` of the planes of
            one known 3-D normal (None: free planes only).
        admissible: ``admissible(coords, values)`` with a region's (N, 3)
            plane coordinates and a plane's (N,) values on them; False vetoes
            the plane (None: every plane is admissible).
        prior: (H, W) a candidate disparity map for every region (NaN where
            it has none), taken by a region whose fitting pixels it fits
            best (module docstring, step 2; None: planes only).
        options: fields of :class:`TexturelessConfig` replacing ``config``'s
            (``min_size=100``); any other name raises ``TypeError``.

    Returns:
        a :class:`TexturelessFill` on the disparity's device (the regions are
        labelled and the planes fitted on the CPU: scipy, a seeded RANSAC).
    """
    from scipy import ndimage

    cfg = with_options(TexturelessConfig, config, options, "fill_textureless")
    d, c = _check_maps(disparity, confidence)
    if families is not None:
        families = torch.as_tensor(families, dtype=torch.float64).cpu()
        if families.dim() != 2 or families.shape[1] != 3 or not torch.isfinite(families).all():
            raise ValueError(f"families: expected finite (M, 3) plane directions, got shape "
                             f"{tuple(families.shape)}")
    if prior is not None:
        prior = torch.as_tensor(prior, dtype=torch.float64).cpu()
        if prior.shape != d.shape:
            raise ValueError(f"prior: expected {tuple(d.shape)} like the disparity, got "
                             f"{tuple(prior.shape)}")
    shape = tuple(torch.as_tensor(image).shape)
    if shape[-2:] != tuple(d.shape):
        raise ValueError(f"image: expected (C, {d.shape[0]}, {d.shape[1]}) like the disparity, "
                         f"got {shape}")
    ring, erode, gate = cfg.ring, cfg.erode, cfg.gate
    regions = textureless_regions(image, cfg.gradient, cfg.blur, cfg.min_size, erode).cpu()
    device, d, c = d.device, d.cpu(), c.cpu()
    H, W = d.shape
    coords = plane_coordinates(H, W, device="cpu")
    flat_coords, values = coords.reshape(-1, 3), d.reshape(-1)
    confident = ((c >= cfg.min_confidence) & torch.isfinite(d)).numpy()
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    out, conf = d.clone(), c.clone()
    filled = torch.zeros(H, W, dtype=torch.bool, device="cpu")
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
        inside = coords[ys, xs][torch.from_numpy(region)]
        plane, count = _region_plane(A, b, inside, families, admissible, cfg, gen)
        on_prior = None
        if prior is not None:
            hits = int(((prior.reshape(-1)[idx] - b).abs() < cfg.tol).sum())  # NaN: a miss
            if hits >= max(30, cfg.min_inliers * len(b)) and hits > count:
                on_prior = prior[ys, xs]
        if plane is None and on_prior is None:
            continue
        if erode:
            region = ndimage.binary_dilation(region, square, iterations=erode)
        on_plane = coords[ys, xs] @ plane if on_prior is None else on_prior
        take = torch.from_numpy(region) & torch.isfinite(on_plane)
        if math.isfinite(gate):
            take &= (d[ys, xs] - on_plane).abs() < gate
        out[ys, xs][take] = on_plane[take]
        conf[ys, xs][take] = conf[ys, xs][take].clamp(min=cfg.filled_confidence)
        filled[ys, xs] |= take
    return TexturelessFill(*(t.to(device) for t in (out, conf, filled, regions)))


def _region_plane(A: Tensor, b: Tensor, inside: Tensor, families: Tensor | None,
                  admissible: Callable[[Tensor, Tensor], bool] | None, cfg: TexturelessConfig,
                  gen: torch.Generator) -> tuple[Tensor | None, int]:
    """Step 2 for one region: the plane (3,) its fitting pixels (``A`` (N, 3)
    plane coordinates, ``b`` (N,) values) give and its inlier count, or
    (None, 0). ``inside``: the region's own (R, 3) plane coordinates, for
    the spread and ``admissible``."""
    least = max(30, cfg.min_inliers * len(b))
    spread_region = inside[:, :2].std(0)

    def spread(inliers: Tensor) -> Tensor:  # (2,) bool: spread enough along x, along y
        return A[inliers, :2].std(0) >= cfg.spread * spread_region

    def allowed(plane: Tensor) -> bool:
        return admissible is None or bool(admissible(inside, inside @ plane))

    free, free_count = None, 0
    fit = ransac_plane(A, b, cfg.tol, cfg.hypotheses, cfg.score_points, gen)
    if fit is not None and fit[1].sum() >= least and bool(spread(fit[1]).all()) \
            and allowed(fit[0]):
        free, free_count = fit[0], int(fit[1].sum())
    best, best_count = None, 0
    for direction in (families if families is not None else ()):
        fit = ransac_plane_along(A, b, direction, cfg.tol, cfg.hypotheses, gen)
        if fit is None:
            continue
        count = int(fit[1].sum())
        # one fixed normal: inliers along a line determine the plane
        if count < least or count <= best_count or not bool(spread(fit[1]).any()) \
                or not allowed(fit[0]):
            continue
        best, best_count = fit[0], count
    if best is not None and (free is None or best_count >= cfg.family_share * free_count):
        return best, best_count
    return free, free_count
