r"""Classical disparity by a sub-pixel cost volume with occlusion handling.

For every disparity hypothesis :math:`d_k` on a regular grid over the search
range, every view ``(r, c)`` is translated by :math:`d_k (c - c_0, r - r_0)`
into the centre view's frame (:class:`ShiftedViews`) and compared with the
centre view: a truncated absolute difference of intensities plus one of
image gradients (robust to the shading differences a pure intensity term
would count),

.. math:: C_v(p, d) = \min(|I_v - I_c|, \tau) + \alpha \min(\lVert\nabla I_v - \nabla I_c\rVert_1, \tau_g).

Occlusions: an occluder near a pixel hides it only from the views on one side
of the grid. The views are split into four half-grids (left, right, top,
bottom, each including the centre line) and the cost of a hypothesis is the
mean over the half that agrees best, :math:`C(p, d) = \min_h \bar C_h(p, d)`
(the angular-patch idea of occlusion-aware light-field depth, e.g. Wang,
Efros and Ramamoorthi, ICCV 2015, reduced to four fixed halves).

The costs are aggregated by semi-global matching along four scanline
directions (:func:`~geodl.lightfield.depth.sgm.semi_global_aggregation`;
optionally after a guided filter of each cost slice with the centre view as
guide), the best hypothesis is taken per pixel and refined to
sub-pixel by a parabola through its neighbours' costs, and a
confidence-weighted joint median (``median``) removes outliers; a multi-view
Lucas-Kanade refinement over all views (:func:`refine_disparity`) is there
when asked for (``iterations``, off by default: it fattens occluders on weak
texture; the rooms, with the planar prior, ask for it). Confidence is the
normalised gap between the mean and the best aggregated cost. Last, when
asked for (``smooth``; the rooms do), a confidence-weighted, colour-edge-aware
least-squares smoothing (:func:`~geodl.lightfield.depth.wls.wls_smooth`)
fills what the local matching cannot settle (textureless surfaces) from the
confident pixels around it.

The defaults are chosen on real light fields; geodl's own rendered rooms,
which alias, read :data:`ROOM_MATCHING`
(experiments/README.md#real-scene-defaults).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from geodl.lightfield.depth.estimate import check_disp_range
from geodl.lightfield.depth.filters import box_mean, gaussian_blur, guided_filter, to_grey, weighted_median
from geodl.lightfield.depth.sgm import semi_global_aggregation
from geodl.lightfield.depth.shifts import ShiftedViews
from geodl.lightfield.depth.wls import wls_smooth
from geodl.ops.sampling import sample_at_pixels, within_pixel_centers
from geodl.ops.validation import with_options
from geodl.structures import LightField


def matching_features(views: Tensor, blur: float = 0.0) -> Tensor:
    """(N, 3, H, W) RGB -> (N, 3, H, W) grey intensity and its x, y gradients;
    ``blur`` > 0: a Gaussian of that sigma (px) first, against aliasing."""
    grey = to_grey(views)[:, None]
    if blur > 0:
        grey = gaussian_blur(grey, blur)
    gx = torch.zeros_like(grey)
    gy = torch.zeros_like(grey)
    gx[..., 1:-1] = 0.5 * (grey[..., 2:] - grey[..., :-2])
    gy[..., 1:-1, :] = 0.5 * (grey[..., 2:, :] - grey[..., :-2, :])
    return torch.cat([grey, gx, gy], 1)


def _view_subset(U: int, V: int, views: str) -> list[tuple[int, int]]:
    r0, c0 = U // 2, V // 2
    if views == "all":
        return [(r, c) for r in range(U) for c in range(V)]
    if views == "star":  # the row, the column and both diagonals through the centre
        return sorted({(r, c) for r in range(U) for c in range(V)
                       if r == r0 or c == c0 or abs(r - r0) == abs(c - c0)})
    raise ValueError(f"views: expected 'all' or 'star', got {views!r}")


#: the four half-grids (view offset dr, dc) split by the horizontal and vertical
#: lines through the centre view (the features of ``refine_net`` use these)
HALVES = ((lambda dr, dc: dc <= 0), (lambda dr, dc: dc >= 0),
          (lambda dr, dc: dr <= 0), (lambda dr, dc: dr >= 0))


def half_grids(offsets: list[tuple[int, int]], lines: int) -> Tensor:
    r"""Membership (len(offsets), 2 * lines) of each view offset (dr, dc) in the
    half-grids cut by ``lines`` lines through the centre view at angles
    :math:`\theta_k = k \pi / \text{lines}`: the two closed halves
    :math:`\pm (\delta c \cos\theta_k + \delta r \sin\theta_k) \ge 0`.
    ``lines`` 2 gives :data:`HALVES`; 4 adds the diagonals, so that an occluder
    past a corner (which hides views on two sides at once) leaves a whole
    half unoccluded."""
    if lines < 1:
        raise ValueError(f"lines: expected >= 1, got {lines}")
    # a table of the grid, read as Python values: built on the CPU
    member = torch.zeros(len(offsets), 2 * lines, dtype=torch.bool, device="cpu")
    for k in range(lines):
        cos, sin = math.cos(k * math.pi / lines), math.sin(k * math.pi / lines)
        for i, (dr, dc) in enumerate(offsets):
            side = dc * cos + dr * sin
            member[i, 2 * k] = side <= 1e-9
            member[i, 2 * k + 1] = side >= -1e-9
    return member


def _valid_range(shift: float, n: int) -> tuple[int, int]:
    """Pixels i in [lo, hi) whose sample i + shift lies inside [0, n - 1]."""
    lo = max(0, math.ceil(-shift))
    hi = min(n, math.floor(n - 1 - shift) + 1)
    return lo, max(lo, hi)


def _sweep(feats: ShiftedViews, offsets: list[tuple[int, int]], centre: Tensor,
           labels: Tensor, tau: float, tau_grad: float, alpha: float, lines: int = 2
           ) -> Tensor:
    """Matching cost per label, (D, H, W): the best half-grid's mean cost. A
    view whose sample falls outside its image does not count for that pixel (edge replication would match flat
    borders at any disparity); a half with no view inside costs the maximum."""
    H, W = centre.shape[-2:]
    worst = tau + alpha * tau_grad
    best = centre.new_empty(len(labels), H, W)
    member = half_grids(offsets, lines).tolist()
    n_halves = 2 * lines
    for k, d in enumerate(labels.tolist()):
        sums = centre.new_zeros(n_halves, H, W)
        counts = centre.new_zeros(n_halves, H, W)
        for i, (dr, dc) in enumerate(offsets):
            if (dr, dc) == (0, 0):
                continue
            dx, dy = -d * dc, -d * dr
            s = feats.shifted(i, dx, dy)
            cost = torch.sub(s[0], centre[0]).abs_().clamp_(max=tau)
            grad = torch.sub(s[1:], centre[1:]).abs_().sum(0).clamp_(max=tau_grad)
            cost.add_(grad, alpha=alpha)
            (x0, x1), (y0, y1) = _valid_range(dx, W), _valid_range(dy, H)
            for h in range(n_halves):
                if member[i][h]:
                    sums[h, y0:y1, x0:x1] += cost[y0:y1, x0:x1]
                    counts[h, y0:y1, x0:x1] += 1
        mean = torch.where(counts > 0, sums / counts.clamp_min(1), torch.full_like(sums, worst))
        best[k] = mean.amin(0)
    return best


def subpixel_argmin(cost: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Best label per pixel, refined by a parabola through its neighbours;
    returns (disparity, index). With fewer than 3 labels there is no
    parabola: the best label itself."""
    D = cost.shape[0]
    idx = cost.argmin(0)
    if D < 3:
        return labels[idx], idx
    i = idx.clamp(1, D - 2)
    c0 = cost.gather(0, (i - 1)[None])[0]
    c1 = cost.gather(0, i[None])[0]
    c2 = cost.gather(0, (i + 1)[None])[0]
    denom = c0 - 2 * c1 + c2
    offset = torch.where(denom > 1e-12, 0.5 * (c0 - c2) / denom.clamp_min(1e-12),
                         torch.zeros_like(denom)).clamp(-0.5, 0.5)
    step = float(labels[1] - labels[0]) if D > 1 else 0.0
    inner = (idx >= 1) & (idx <= D - 2)
    disp = labels[idx] + torch.where(inner, offset, torch.zeros_like(offset)) * step
    return disp, idx


@dataclass(frozen=True)
class CostVolumeConfig:
    """Every setting of :func:`cost_volume_disparity`, with its default and the
    reason for it (hashable: a configuration can name a cache). Keywords of
    :func:`cost_volume_disparity` replace single fields."""

    #: label spacing of the sweep in px; 0.1 rather than 0.2 on the real scene
    #: antinous (with the other real-scene defaults, ``blur`` 0, ``lines`` 4, no
    #: WLS): BadPix 0.07 9.07 against 9.69 % with 2 lines and step 0.1, and 14.03 %
    #: at step 0.2 with the old blur 0.5 (experiments/README.md#real-scene-defaults)
    step: float = 0.1
    #: views of the sweep, ``"all"`` or ``"star"`` (the centre row, column and
    #: diagonals); the Lucas-Kanade refinement uses all views
    views: str = "star"
    #: truncation of the intensity difference
    tau: float = 0.05
    #: truncation of the gradient difference; 0.1 rather than 0.05 gives mean
    #: BadPix 0.07 12.69 against 13.13 % on training rooms 100-102, 16.51
    #: against 17.27 % on 103-106, better or equal in each of the 7 (one-ray
    #: renders with the checker fault, experiments/README.md#cost-volume-matching)
    tau_grad: float = 0.1
    #: weight of the gradient term
    alpha: float = 1.0
    #: window radius of the guided filter of each cost slice (0 for none;
    #: semi-global aggregation does better, see ``sgm_penalties``)
    radius: int = 0
    #: regulariser of the guided filter
    eps: float = 1e-4
    #: (P1, P2) of the semi-global aggregation, in cost units (None for none).
    #: On training rooms 100-102 / held-out 103-106, mean BadPix 0.07 with a
    #: guided filter of radius 5 alone 12.69 / 16.51 %, with semi-global
    #: aggregation alone 10.43 / 12.90 % (experiments/README.md#cost-volume-matching);
    #: the penalties on antinous with the real-scene defaults: (0.002, 0.01) 9.07 %,
    #: (0.004, 0.02) 8.14 %, (0.008, 0.04) 7.24 %, (0.016, 0.08) 7.99 %
    #: (experiments/README.md#real-scene-defaults)
    sgm_penalties: tuple[float, float] | None = (0.008, 0.04)
    #: 4 (horizontal and vertical) or 8 (and diagonal) aggregation paths
    sgm_paths: int = 4
    #: Gauss-Newton steps of the multi-view Lucas-Kanade refinement
    #: (:func:`refine_disparity`; 0 keeps the sweep's answer). Off by default:
    #: near occluding contours on weak texture it drags background pixels to the
    #: foreground's disparity (the real scene antinous, BadPix 0.07 37.55 % with
    #: 3 steps, 19.17 % without; a real Lytro capture agrees with EPINet's map
    #: within 0.07 px at 83.9 % of pixels with, 90.4 % without); on training rooms
    #: 100-106 without the planar prior the mean BadPix 0.07 / MSE x100 is 9.08 /
    #: 2.49 without and 9.23 / 2.95 with (worse in 100-102, better in 103-106);
    #: with the planar prior 3 steps are better (7.68 against 8.59 %), so the room
    #: fusion asks for them (experiments/README.md#lucas-kanade-refinement)
    iterations: int = 0
    #: window radius of the refinement
    lk_radius: int = 3
    #: radius of the confidence-weighted joint median of the sweep's answer (0 for none)
    median: int = 4
    #: Gaussian sigma (px) applied to the views first (0 for none), against
    #: aliasing, which breaks the shift model. Real light fields are band-limited
    #: by their lens or renderer and lose sub-pixel signal to a blur (antinous
    #: 9.07 % without, 14.03 % with 0.5 at step 0.2 and 2 lines); geodl's own
    #: rendered rooms alias and want it (:data:`ROOM_MATCHING`;
    #: experiments/README.md#real-scene-defaults)
    blur: float = 0.0
    #: weight of the final WLS smoothing with data weight confidence^2 (0 for
    #: none). Off: it spreads the confident, fattened pixels at occluding contours
    #: into the weak texture around them (antinous with the other real-scene
    #: defaults at penalties (0.002, 0.01): 9.07 % without, 10.58 % with weight 1;
    #: with :data:`ROOM_MATCHING` less the refinement: 14.66 % without, 19.17 %
    #: with weight 10); the rooms keep 10 (:data:`ROOM_MATCHING`)
    smooth: float = 0.0
    #: colour scale of the final WLS smoothing
    smooth_sigma: float = 0.02
    #: lines through the centre view that cut the views into the half-grids of
    #: the occlusion handling (:func:`half_grids`; 2 gives left, right, top,
    #: bottom; 4 adds the diagonal halves, for occluders past a corner: antinous
    #: 9.07 % with 4, 9.69 % with 2)
    lines: int = 4

    def __post_init__(self) -> None:
        if not (isinstance(self.step, (int, float)) and self.step > 0):
            raise ValueError(f"step: expected > 0, got {self.step}")
        if self.views not in ("all", "star"):
            raise ValueError(f"views: expected 'all' or 'star', got {self.views!r}")
        for name in ("radius", "iterations", "lk_radius", "median"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 0):
                raise ValueError(f"{name}: expected an int >= 0, got {value!r}")
        if self.sgm_penalties is not None:
            penalties = tuple(self.sgm_penalties)
            if not (len(penalties) == 2 and 0 <= penalties[0] <= penalties[1]):
                raise ValueError(f"sgm_penalties: expected (P1, P2) with 0 <= P1 <= P2, got "
                                 f"{self.sgm_penalties}")
            object.__setattr__(self, "sgm_penalties", penalties)  # hashable
        if self.sgm_paths not in (4, 8):
            raise ValueError(f"sgm_paths: expected 4 or 8, got {self.sgm_paths!r}")
        if not (isinstance(self.lines, int) and self.lines >= 1):
            raise ValueError(f"lines: expected an int >= 1, got {self.lines!r}")

    def matching(self) -> dict:
        """The fields of the matching (all but the final smoothing, ``smooth`` and
        ``smooth_sigma``), name -> value."""
        return {k: v for k, v in asdict(self).items() if k not in ("smooth", "smooth_sigma")}



#: ``cost_volume``'s settings for geodl's rendered rooms
#: (:func:`geodl.datasets.render_hci_scene`, 3 x 3 rays per pixel), which alias:
#: a pre-blur of 0.5 px, labels 0.2 px apart, the gentler aggregation
#: (0.002, 0.01), the two-line half-grids, the WLS smoothing, and the
#: Lucas-Kanade refinement that the planar prior wants. On training rooms
#: 100-106 the real-scene defaults score a mean BadPix 0.07 of 16.15 % against
#: 9.08 % for these without the refinement, while a stronger blur (1 px) takes
#: the rooms to 5.61 % and antinous to 26.02 %: the rooms' sub-pixel signal is
#: limited by their renders, not the world's
#: (experiments/README.md#real-scene-defaults). The room benchmark, the room
#: fusion and ``refine_net``'s matching use these.
ROOM_MATCHING = CostVolumeConfig(step=0.2, sgm_penalties=(0.002, 0.01), blur=0.5, smooth=10.0,
                                 lines=2, iterations=3)


def cost_volume_disparity(lf: LightField, disp_range: tuple[float, float], *,
                          config: CostVolumeConfig | None = None, **options
                          ) -> tuple[Tensor, Tensor]:
    """Disparity and confidence (H, W) of the centre view (module docstring).

    Args:
        lf: an RGB light field (U, V, 3, H, W), any grid with a centre view.
        disp_range: (min, max) disparity to search, px per view step.
        config: the settings (:class:`CostVolumeConfig`, its defaults when None).
        options: fields of :class:`CostVolumeConfig` replacing ``config``'s
            (e.g. ``iterations=3``); any other name raises ``TypeError``.

    Returns:
        (disparity (H, W), confidence (H, W) in [0, 1]), both float32 on the
        light field's device.
    """
    cfg = with_options(CostVolumeConfig, config, options, "cost_volume_disparity")
    step, views, tau, tau_grad, alpha = cfg.step, cfg.views, cfg.tau, cfg.tau_grad, cfg.alpha
    radius, eps, sgm_penalties, sgm_paths = cfg.radius, cfg.eps, cfg.sgm_penalties, cfg.sgm_paths
    iterations, lk_radius, median, blur = cfg.iterations, cfg.lk_radius, cfg.median, cfg.blur
    smooth, smooth_sigma, lines = cfg.smooth, cfg.smooth_sigma, cfg.lines
    lo, hi = check_disp_range(disp_range)
    U, V, C, H, W = lf.views.shape
    if C != 3:
        raise ValueError(f"views: expected RGB light fields, got {C} channels")
    r0, c0 = lf.center_index
    everything = _view_subset(U, V, "all")
    feats_all = matching_features(lf.views.reshape(U * V, C, H, W).float(), blur)
    grid = _view_subset(U, V, views)
    offsets = [(r - r0, c - c0) for r, c in grid]
    feats = feats_all[[r * V + c for r, c in grid]]
    centre = feats_all[r0 * V + c0]
    n = int(math.ceil((hi - lo) / step)) + 1
    labels = torch.linspace(lo, lo + (n - 1) * step, n, device=feats_all.device)
    reach = float(labels.abs().max()) * max(max(abs(dr), abs(dc)) for dr, dc in offsets)
    shifted = ShiftedViews(feats, reach)
    guide = centre[0]
    raw = _sweep(shifted, offsets, centre, labels, tau, tau_grad, alpha, lines)
    cost = guided_filter(guide, raw, radius, eps) if radius else raw
    del raw
    if sgm_penalties is not None:
        cost = semi_global_aggregation(cost, guide, *sgm_penalties, paths=sgm_paths)
    disp, idx = subpixel_argmin(cost, labels)
    best = cost.gather(0, idx[None])[0]
    mean = cost.mean(0)
    confidence = ((mean - best) / mean.clamp_min(1e-6)).clamp(0, 1)
    if median:
        disp = weighted_median(disp, confidence + 1e-3, lf.center_view.float(), radius=median)
    if iterations:
        offsets_all = [(r - r0, c - c0) for r, c in everything]
        disp = refine_disparity(feats_all, offsets_all, r0 * V + c0, disp, iterations,
                                lk_radius, max_step=step).clamp(lo, hi)
    if smooth:
        disp = confidence_smoothing(disp, confidence, lf.center_view.float(), smooth,
                                    smooth_sigma).clamp(lo, hi)
    return disp, confidence


def confidence_smoothing(disp: Tensor, confidence: Tensor, guide: Tensor, smooth: float = 10.0,
                         sigma: float = 0.02) -> Tensor:
    """``cost_volume``'s last step: :func:`~geodl.lightfield.depth.wls.wls_smooth`
    of the (H, W) disparity with data weight ``confidence**2`` (+1e-4, so that
    no pixel is unconstrained), edges from the (C, H, W) ``guide``."""
    return wls_smooth(disp, confidence ** 2 + 1e-4, guide, smooth, sigma)


def warp_views_to_center(src: Tensor, disp: Tensor, dr: Tensor | int, dc: Tensor | int
                          ) -> tuple[Tensor, Tensor]:
    r"""Views ``src`` (n, C, H, W) at grid offsets (``dr``, ``dc``) from the
    centre (ints, or tensors (n, 1, 1)) brought into the centre view's pixel
    grid: each centre pixel :math:`(x, y)` (pixel indices,
    :mod:`geodl.ops.sampling`) samples its view bilinearly at
    :math:`(x - d\,\delta c, y - d\,\delta r)` for the centre's disparity
    ``disp`` (H, W). Returns the samples (n, C, H, W) and whether each lies
    within the view's pixel centres (n, H, W) (outside: edge values). The
    same warp for every view of a ``LightField``:
    :func:`geodl.lightfield.refocus.warp_lightfield_to_center`."""
    H, W = disp.shape
    ys, xs = torch.meshgrid(torch.arange(H, dtype=disp.dtype, device=disp.device),
                            torch.arange(W, dtype=disp.dtype, device=disp.device), indexing="ij")
    sx, sy = xs - disp * dc, ys - disp * dr
    s = sample_at_pixels(src, sx, sy)
    inside = within_pixel_centers(sx, sy, H, W)
    return s, inside.expand(src.shape[0], H, W)


def warp_to_centre(src: Tensor, disp: Tensor, dr: Tensor | int, dc: Tensor | int
                   ) -> tuple[Tensor, Tensor]:
    """Deprecated alias of :func:`warp_views_to_center`."""
    warnings.warn("warp_to_centre is deprecated; use warp_views_to_center", DeprecationWarning,
                  stacklevel=2)
    return warp_views_to_center(src, disp, dr, dc)


def refine_disparity(feats: Tensor, offsets: list[tuple[int, int]], centre: int, disp: Tensor,
                     iterations: int = 3, radius: int = 2,
                     max_step: float = 0.2, sigma: float = 0.05, damping: float = 1e-4
                     ) -> Tensor:
    r"""Multi-view Lucas-Kanade refinement of a disparity map.

    With :math:`r_v = I_v(x - d\,\delta c_v, y - d\,\delta r_v) - I_c(x, y)`
    and :math:`J_v = \partial r_v / \partial d = -(\delta c_v \partial_x I_v +
    \delta r_v \partial_y I_v)` at the sampled point, each Gauss-Newton step
    is :math:`\Delta d = -\sum w J r / (\sum w J^2 + \lambda)`, both sums
    over the views and a (2r+1)^2 window; the damping :math:`\lambda` keeps
    untextured windows (small :math:`\sum w J^2`) where they are. Each view
    weighs :math:`1 / (1 + r^2 / \sigma^2)` (Cauchy: occluded views, whose
    residual stays large, count little) and 0 where its sample leaves the
    image. (Restricting each pixel to the sweep's best half-grid was tried:
    on textured planes it biased the answer by about 0.02 px, as one half's
    interpolation errors do not cancel.) Steps are clipped to ``max_step``; where the window has no
    texture the disparity stays.

    Args:
        feats: (N, 3, H, W) grey intensity and x, y gradients of every view.
        offsets: (dr, dc) of each view relative to the centre.
        centre: index of the centre view in ``feats``.
        disp: (H, W) initial disparity.
    """
    ref = feats[centre, 0]
    others = [i for i, o in enumerate(offsets) if o != (0, 0)]
    dr = torch.tensor([offsets[i][0] for i in others], dtype=feats.dtype,
                      device=feats.device)[:, None, None]
    dc = torch.tensor([offsets[i][1] for i in others], dtype=feats.dtype,
                      device=feats.device)[:, None, None]
    src = feats[others]
    H, W = src.shape[-2:]
    d = disp.to(feats.dtype).clone()
    xs = torch.arange(W, dtype=d.dtype, device=d.device)
    ys = torch.arange(H, dtype=d.dtype, device=d.device)[:, None]
    for _ in range(iterations):
        sx = xs - d * dc  # (N, H, W) sample positions in view pixels
        sy = ys - d * dr
        s = sample_at_pixels(src, sx, sy)
        inside = within_pixel_centers(sx, sy, H, W)
        r = s[:, 0].sub_(ref)
        J = torch.mul(s[:, 1], dc).addcmul_(s[:, 2], dr).neg_()
        wJ = r.square().div_(sigma ** 2).add_(1).reciprocal_().mul_(inside).mul_(J)
        num = box_mean((wJ * r).sum(0), radius)
        den = box_mean(wJ.mul_(J).sum(0), radius)
        step = -num / (den + damping)
        d = d + step.clamp(-max_step, max_step)
    return d
