"""HCI benchmark metrics on hand-made cases."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from geodl.lightfield.benchmark import metrics
from geodl.structures import GroundTruth


def test_mse_badpix_quantile_by_hand():
    gt = np.zeros((40, 50))
    algo = np.full((40, 50), 0.1)
    assert metrics.mse100(algo, gt) == pytest.approx(1.0)  # 0.1^2 x 100
    assert metrics.badpix(algo, gt, 0.07) == 100.0 and metrics.badpix(algo, gt, 0.2) == 0.0
    algo = np.zeros((40, 50))
    algo[20, 20:30] = 1.0  # 10 bad pixels among the (40-30) x (50-30) = 200 inside
    assert metrics.badpix(algo, gt, 0.07) == pytest.approx(5.0)
    algo[0:15, :] = 5.0  # inside the 15-px border: ignored
    assert metrics.badpix(algo, gt, 0.07) == pytest.approx(5.0)
    # Q25 on errors 0, 1, ..., 199 (x 1/100): index int(200 * 0.25) = 50 -> 50
    ramp = np.zeros((40, 50))
    ramp[15:25, 15:35] = np.arange(200).reshape(10, 20) / 100.0
    assert metrics.quantile(ramp, gt, 25) == pytest.approx(50.0)


def test_pixels_without_ground_truth_are_skipped_and_bad_estimates_count():
    gt = np.zeros((40, 40))
    gt[20, 19] = np.nan  # nothing hit there: not evaluated
    algo = np.zeros((40, 40))
    algo[20, 19] = 5.0
    algo[20, 20] = np.nan  # an estimate that abstains is wrong, not skipped
    algo[21, 21] = 1.0
    n_inside = 10 * 10 - 1
    assert metrics.badpix(algo, gt) == pytest.approx(100.0 * 2 / n_inside)
    assert metrics.mse100(algo, gt) == np.inf
    mask = np.zeros((40, 40), bool)
    mask[21, 21] = True
    assert metrics.mse100(algo, gt, mask) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="no pixel"):
        metrics.mse100(algo, gt, np.zeros((40, 40), bool))
    with pytest.raises(ValueError, match="shapes"):
        metrics.mse100(algo, gt[:, :5])


def test_badpix_threshold_is_strict():
    """An error exactly at the threshold is not bad (the toolkit's ``>``)."""
    gt = np.zeros((32, 32))
    algo = np.full((32, 32), 0.0625)  # exact in binary: |algo - gt| == 0.0625
    assert metrics.badpix(algo, gt, 0.0625, border=0) == 0.0
    assert metrics.badpix(algo, gt, np.nextafter(0.0625, 0), border=0) == 100.0


_METRIC_CALLS = {
    "mse100": lambda a, g, m: metrics.mse100(a, g, None, 2),
    "badpix": lambda a, g, m: metrics.badpix(a, g, 0.07, None, 2),
    "q25": lambda a, g, m: metrics.quantile(a, g, 25, None, 2),
    "bumpiness": lambda a, g, m: metrics.bumpiness(a, g, m, 2),
    "thinning": lambda a, g, m: metrics.fine_thinning(a, g, m, 2),
    "fattening": lambda a, g, m: metrics.fine_fattening(a, g, m, 2),
}


@given(seed=st.integers(0, 10_000), bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       fraction=st.floats(0.01, 1.0))
@settings(max_examples=60, deadline=None)
def test_replacing_estimates_by_nan_or_inf_never_improves_a_score(seed, bad, fraction):
    rng = np.random.default_rng(seed)
    gt = rng.uniform(-2, 2, (16, 16))
    algo = gt + rng.normal(0, rng.choice([0.01, 0.1, 1.0]), gt.shape)
    mask = rng.random(gt.shape) < 0.5
    worse = algo.copy()
    worse[rng.random(gt.shape) < fraction] = bad
    for name, score in _METRIC_CALLS.items():
        before, after = score(algo, gt, mask), score(worse, gt, mask)
        assert after >= before, name


def test_bumpiness_of_a_quadratic_is_its_hessian_norm():
    """diff = a x^2 + b y^2 + c x y has Hessian [[2a, c], [c, 2b]]: Frobenius
    norm sqrt(4a^2 + 4b^2 + 2c^2), exact for Scharr derivatives in the interior."""
    y, x = np.mgrid[0:40, 0:40].astype(np.float64)
    a, b, c = 0.004, -0.003, 0.005
    algo = a * x ** 2 + b * y ** 2 + c * x * y
    expect = np.sqrt(4 * a * a + 4 * b * b + 2 * c * c)
    assert metrics.bumpiness(algo, np.zeros_like(algo)) == pytest.approx(100 * expect)
    # a plane (zero Hessian) is perfectly smooth; a strong bump is clipped at 0.05
    assert metrics.bumpiness(0.3 * x + 0.1 * y, np.zeros_like(x)) == pytest.approx(0.0, abs=1e-12)
    assert metrics.bumpiness(10 * algo, np.zeros_like(x)) == pytest.approx(5.0)
    gt = GroundTruth(torch.zeros(40, 40, dtype=torch.float64),
                     masks={"planes": torch.ones(40, 40, dtype=torch.bool)})
    scores = metrics.evaluate(algo, gt)
    assert set(scores) == {"mse100", "badpix0.07", "badpix0.03", "badpix0.01", "q25",
                           "bumpiness_planes"}


def test_nearest_upsampling_is_the_toolkits_order_zero_resize():
    from skimage.transform import resize

    from geodl.lightfield.benchmark.metrics import upsample_nearest
    x = np.random.default_rng(0).normal(size=(7, 5))
    ref = resize(x, (70, 50), order=0, preserve_range=True, anti_aliasing=False)
    assert np.array_equal(upsample_nearest(x, 10), ref)


def test_badpix_on_discontinuities_at_high_resolution_by_hand():
    from geodl.lightfield.benchmark.metrics import evaluate, upsample_nearest
    gt = np.zeros((8, 8))
    algo = gt.copy()
    algo[3, 4] = 0.1  # one bad low-resolution pixel = a 2 x 2 block at 2x
    gt_hr = upsample_nearest(gt, 2)
    gt_hr[7, 8] = 0.1  # ... of which one high-res pixel is right after all
    mask_hr = np.zeros((16, 16), bool)
    mask_hr[4:10, 6:12] = True  # 36 pixels, all inside the 2-px high-res border
    hr = GroundTruth(torch.from_numpy(gt_hr), masks={"discontinuities": torch.from_numpy(mask_hr)},
                     factor=2)
    out = evaluate(algo, GroundTruth(torch.from_numpy(gt), highres=hr), border=1)
    assert out["badpix0.07_discontinuities"] == pytest.approx(100 * 3 / 36)
    assert "badpix0.07_discontinuities" not in evaluate(algo, GroundTruth(torch.from_numpy(gt)),
                                                         border=1)


def test_fine_thinning_and_fattening_by_hand():
    from geodl.lightfield.benchmark.metrics import evaluate, fine_fattening, fine_thinning
    gt = np.zeros((6, 6))
    gt[:, 3] = 1.0  # a thin pole, nearer (larger disparity) than the background
    algo = gt.copy()
    algo[0:2, 3] = 0.0  # two pole pixels lost to the background: thinning
    algo[:, 2] = 0.9  # the column left of the pole taken for the pole: fattening
    fine = gt > 0.5
    around = np.zeros_like(fine)
    around[:, [2, 4]] = True
    assert fine_thinning(algo, gt, fine, border=0) == pytest.approx(100 * 2 / 6)
    assert fine_fattening(algo, gt, around, border=0) == pytest.approx(100 * 6 / 12)
    # at high resolution through evaluate (factor 2, border 1 -> 2 px)
    from geodl.lightfield.benchmark.metrics import upsample_nearest
    hr = GroundTruth(torch.from_numpy(upsample_nearest(gt, 2)), factor=2,
                     masks={"fine": torch.from_numpy(upsample_nearest(fine, 2)),
                            "fine_surrounding": torch.from_numpy(upsample_nearest(around, 2))})
    out = evaluate(algo, GroundTruth(torch.from_numpy(gt), highres=hr), border=1)
    assert out["fine_thinning"] == pytest.approx(100 * 1 / 4)  # rows 1-4 remain, row 1 thinned
    assert out["fine_fattening"] == pytest.approx(100 * 4 / 8)
    assert "badpix0.07_discontinuities" not in out  # no such mask given
