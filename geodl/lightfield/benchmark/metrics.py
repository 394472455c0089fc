r"""Disparity-map metrics as the HCI 4D light field benchmark toolkit defines them
(Honauer et al., ACCV 2016), re-implemented from their published definitions.

All take ``algo`` and ``gt`` disparity maps (H, W), an optional region ``mask``
(H, W) bool and a ``border`` in pixels that is never evaluated (15 at the
benchmark's 512 x 512, 150 at its 10x high resolution). Pixels where ``gt``
is NaN or infinite (nothing hit) are not evaluated. A NaN or infinite
*estimate* is wrong, never skipped: its error is infinite, so it is a bad
pixel at every threshold, sorts last for Q25, gives MSE ``inf``, the largest
bumpiness to every pixel whose stencil it reaches, and counts for thinning
and fattening. (The toolkit compares with ``>``, which a NaN never
satisfies, so there a NaN would score as a good pixel; a method could then
gain by abstaining. Replacing estimates by NaN or inf never improves a
score here: tested.)

* ``mse100``: mean squared error x 100.
* ``badpix(t)``: percentage of pixels with :math:`|algo - gt| > t`
  (t = 0.07, 0.03, 0.01).
* ``quantile(25)`` (Q25): the error below which the best 25 % of pixels lie,
  x 100 (the toolkit's index ``int(n * 25 / 100)`` of the sorted errors).
* ``bumpiness``: mean Frobenius norm of the Hessian of (algo - gt), each
  second derivative taken as two Scharr derivatives, clipped at 0.05, x 100;
  evaluated on planes and on smooth surfaces via their masks.
* ``fine_thinning`` / ``fine_fattening``: percentage of pixels on fine
  structures with gt - algo > 0.15 (thin parts lost to the background), and
  of pixels around them with gt - algo < -0.15 (background taken for the thin
  part; larger disparity is nearer). Like BadPix on discontinuities they are
  evaluated at high resolution.
* BadPix on discontinuities is evaluated at the ground truth's high
  resolution (10x): the estimate is upsampled by pixel repetition (the
  toolkit's order-0 resize) and the border grows to 150 px. Even the exact
  low-resolution ground truth scores above zero there (6.1 % and 14.9 % on
  benchmark rooms 9000 and 9001, ``experiments/hci_metric_floor.py``): a
  boundary pixel carries one value for both sides of the edge, so only
  sub-pixel edge placement beats it.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from geodl.structures import GroundTruth


class NothingToScore(ValueError):
    """The ground truth leaves no pixel to evaluate: the image is not larger
    than twice the border, or every pixel inside it lacks ground truth."""


_SCHARR_ROWS = np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]], np.float64) / 32.0
_SCHARR_COLS = _SCHARR_ROWS.T


def _prepare(algo, gt, mask, border: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.asarray(algo, np.float64)
    g = np.asarray(gt, np.float64)
    if a.shape != g.shape or a.ndim != 2:
        raise ValueError(f"algo and gt: expected equal (H, W) shapes, got {a.shape} and {g.shape}")
    m = np.ones(a.shape, bool) if mask is None else np.asarray(mask, bool)
    if m.shape != a.shape:
        raise ValueError(f"mask: expected shape {a.shape}, got {m.shape}")
    if border < 0 or 2 * border >= min(a.shape):
        raise ValueError(f"border: expected 0 <= border < {min(a.shape) // 2}, got {border}")
    inside = np.zeros(a.shape, bool)
    inside[border:a.shape[0] - border, border:a.shape[1] - border] = True
    return a, g, m & inside & np.isfinite(g)


def _errors(a: np.ndarray, g: np.ndarray, m: np.ndarray) -> np.ndarray:
    """|algo - gt| over the mask; infinite where the estimate is not finite."""
    with np.errstate(invalid="ignore"):
        e = np.abs(a[m] - g[m])
    return np.where(np.isfinite(a[m]), e, np.inf)


def _has_pixels(mask, border: int) -> bool:
    """Whether ``mask`` marks any pixel inside the border."""
    m = np.asarray(mask, bool)
    return bool(m[border:m.shape[0] - border, border:m.shape[1] - border].any())


def _nonempty(m: np.ndarray) -> int:
    n = int(m.sum())
    if n == 0:
        raise NothingToScore("mask: no pixel to evaluate (after the border and pixels without "
                             "ground truth are removed)")
    return n


def mse100(algo, gt, mask=None, border: int = 15) -> float:
    a, g, m = _prepare(algo, gt, mask, border)
    _nonempty(m)
    return float(np.mean(_errors(a, g, m) ** 2) * 100)


def badpix(algo, gt, thresh: float = 0.07, mask=None, border: int = 15) -> float:
    a, g, m = _prepare(algo, gt, mask, border)
    n = _nonempty(m)
    return float(100.0 * np.sum(_errors(a, g, m) > thresh) / n)


def quantile(algo, gt, percentage: float = 25, mask=None, border: int = 15) -> float:
    a, g, m = _prepare(algo, gt, mask, border)
    n = _nonempty(m)
    errors = np.sort(_errors(a, g, m) * 100)
    return float(errors[min(int(n * percentage / 100.0), n - 1)])


def _scharr(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    out = ndimage.convolve(img, kernel, mode="reflect")
    out[0, :] = out[-1, :] = out[:, 0] = out[:, -1] = 0.0  # as skimage masks the rim
    return out


def bumpiness_map(algo, gt, clip: float = 0.05) -> np.ndarray:
    """(H, W) clipped Frobenius norm of the Hessian of ``algo - gt``."""
    diff = np.asarray(algo, np.float64) - np.asarray(gt, np.float64)
    dx, dy = _scharr(diff, _SCHARR_COLS), _scharr(diff, _SCHARR_ROWS)
    hess = [_scharr(dx, _SCHARR_COLS), _scharr(dx, _SCHARR_ROWS),
            _scharr(dy, _SCHARR_ROWS), _scharr(dy, _SCHARR_COLS)]
    return np.clip(np.sqrt(sum(h ** 2 for h in hess)), 0, clip)


def bumpiness(algo, gt, mask=None, border: int = 15, clip: float = 0.05) -> float:
    a, g, m = _prepare(algo, gt, mask, border)
    _nonempty(m)
    b = bumpiness_map(np.where(np.isfinite(a), a, 0), np.where(np.isfinite(g), g, 0), clip)
    bad = ~np.isfinite(a)
    if bad.any():  # every pixel whose 5 x 5 Hessian stencil meets a non-finite estimate
        b[ndimage.binary_dilation(bad, np.ones((5, 5), bool))] = clip
    return float(100 * b[m].mean())


def fine_thinning(algo, gt, mask, border: int = 15, thresh: float = 0.15) -> float:
    a, g, m = _prepare(algo, gt, mask, border)
    n = _nonempty(m)
    with np.errstate(invalid="ignore"):
        thinned = (g[m] - a[m]) > thresh
    return float(100.0 * np.sum(thinned | ~np.isfinite(a[m])) / n)


def fine_fattening(algo, gt, mask, border: int = 15, thresh: float = -0.15) -> float:
    a, g, m = _prepare(algo, gt, mask, border)
    n = _nonempty(m)
    with np.errstate(invalid="ignore"):
        fattened = (g[m] - a[m]) < thresh
    return float(100.0 * np.sum(fattened | ~np.isfinite(a[m])) / n)


def upsample_nearest(x, factor: int) -> np.ndarray:
    """(H, W) -> (H f, W f), each pixel repeated f x f times."""
    if factor < 1:
        raise ValueError(f"factor: expected >= 1, got {factor}")
    a = np.asarray(x)
    return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)


def evaluate(algo, gt: GroundTruth, border: int = 15) -> dict[str, float]:
    """The benchmark's general metrics of ``algo`` (H, W) against ``gt``'s
    disparity; bumpiness on its ``planes`` / ``smooth_surfaces`` masks; and
    when ``gt.highres`` holds masks, ``badpix0.07_discontinuities``,
    ``fine_thinning`` and ``fine_fattening`` at high resolution (the
    estimate repeated ``factor`` x ``factor`` times, border x ``factor``);
    as a dict. :class:`NothingToScore` (a ``ValueError``) when no pixel is
    left to evaluate."""
    if not isinstance(gt, GroundTruth) or gt.disparity is None:
        raise ValueError("gt: expected a GroundTruth with a disparity map")
    g = gt.disparity.numpy()
    if 2 * border >= min(g.shape):
        raise NothingToScore(f"gt: a {g.shape[1]}x{g.shape[0]} map has no pixel inside the "
                             f"{border} px border the benchmark leaves out")
    out = {"mse100": mse100(algo, g, None, border),
           "badpix0.07": badpix(algo, g, 0.07, None, border),
           "badpix0.03": badpix(algo, g, 0.03, None, border),
           "badpix0.01": badpix(algo, g, 0.01, None, border),
           "q25": quantile(algo, g, 25, None, border)}
    for name in ("planes", "smooth_surfaces"):
        if name in gt.masks:
            out[f"bumpiness_{name}"] = bumpiness(algo, g, gt.masks[name].numpy(), border)
    hr = gt.highres
    if hr is not None and hr.masks and hr.disparity is not None:
        f = hr.factor
        gt_hr = hr.disparity.numpy()
        algo_hr = upsample_nearest(np.asarray(algo, np.float64), f)
        b = border * f
        scores = {"badpix0.07_discontinuities":
                  ("discontinuities", lambda m: badpix(algo_hr, gt_hr, 0.07, m, b)),
                  "fine_thinning": ("fine", lambda m: fine_thinning(algo_hr, gt_hr, m, b)),
                  "fine_fattening":
                  ("fine_surrounding", lambda m: fine_fattening(algo_hr, gt_hr, m, b))}
        for key, (mask_name, score) in scores.items():
            # a scene may have no such region inside the border: no score then
            if mask_name in hr.masks and _has_pixels(hr.masks[mask_name].numpy(), b):
                out[key] = score(hr.masks[mask_name].numpy())
    return out
