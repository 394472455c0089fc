"""estimate_disparity's planar prior: the answer snapped to the scene's planes."""
import pytest
import torch

from geodl.datasets import textured_plane
from geodl.lightfield.depth import METHODS, PLANAR_PRIOR, estimate_disparity
from geodl.lightfield.depth.planes import snap_to_planes
from tests.helpers import interior


def test_a_slanted_plane_is_recovered_to_a_hundredth_once_snapped():
    # d = 0.3 + 0.02 (x - centre): a plane in disparity, which the local
    # matching (with its Lucas-Kanade refinement, as the rooms ask for it with
    # the prior) recovers to a few hundredths and the fitted plane much better
    lf = textured_plane(0.3, slope=0.02, seed=2)
    raw, _ = estimate_disparity(lf, "cost_volume", disp_range=(-3, 3), planes=False,
                                iterations=3)
    snapped, conf = estimate_disparity(lf, "cost_volume", disp_range=(-3, 3), planes=True,
                                       iterations=3)
    err_raw = interior((raw.double() - lf.disparity).abs(), 10)
    err = interior((snapped.double() - lf.disparity).abs(), 10)
    assert float(err.median()) < 0.01 < float(err_raw.median())
    assert float(err.max()) < 0.02
    assert snapped.dtype == raw.dtype and snapped.shape == raw.shape
    assert float(interior(conf, 10).min()) >= 0.5  # snapped pixels are trusted


def test_planes_false_is_the_method_itself_and_true_is_snap_to_planes_of_it():
    lf = textured_plane(1.2, slope=0.01, seed=3)
    direct = METHODS["cost_volume"](lf, (-3.0, 3.0))
    off = estimate_disparity(lf, "cost_volume", disp_range=(-3, 3), planes=False)
    on = estimate_disparity(lf, "cost_volume", disp_range=(-3, 3), planes=True)
    default = estimate_disparity(lf, "cost_volume", disp_range=(-3, 3))
    assert all(torch.equal(a, b) for a, b in zip(direct, off))
    snap = snap_to_planes(*direct)
    assert torch.equal(on[0], snap.disparity.to(on[0].dtype))
    assert torch.equal(on[1], snap.confidence.to(on[1].dtype))
    assert all(torch.equal(a, b) for a, b in zip(off, default))  # off by default


def test_no_method_snaps_by_default():
    # the planar prior is asked for (rooms), not applied to curved objects unasked
    assert set(PLANAR_PRIOR) == set(METHODS)
    assert not any(PLANAR_PRIOR.values())


@pytest.mark.parametrize("bad", ["yes", 1, 0.5])
def test_planes_must_be_a_bool_or_none(bad):
    lf = textured_plane(0.5, size=32)
    with pytest.raises(ValueError, match="planes"):
        estimate_disparity(lf, "structure_tensor", disp_range=(-2, 2), planes=bad)
