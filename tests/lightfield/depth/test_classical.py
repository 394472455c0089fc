"""Classical disparity estimators on scenes whose answer is known exactly."""
import pytest
import torch

from geodl.datasets import textured_plane
from geodl.lightfield.depth import METHODS, estimate_disparity, scene_disparity_range
from geodl.lightfield.depth.filters import box_mean, guided_filter, weighted_median
from geodl.lightfield.depth.shifts import ShiftedViews
from tests.helpers import interior

CLASSICAL = ["cost_volume", "structure_tensor"]


def _interior_error(lf, est, margin=10):
    e = interior(est.double() - lf.disparity, margin).abs()
    return float(e.median())


@pytest.mark.parametrize("method", CLASSICAL)
@pytest.mark.parametrize("disparity", [-2.3, 0.45, 1.7])
def test_fronto_parallel_plane_within_five_hundredths(method, disparity):
    lf = textured_plane(disparity, seed=1)
    est, conf = estimate_disparity(lf, method, disp_range=(-3, 3))
    assert est.shape == conf.shape == (64, 64)
    assert float(conf.min()) >= 0 and float(conf.max()) <= 1
    assert _interior_error(lf, est) < 0.05


@pytest.mark.parametrize("method", CLASSICAL)
def test_slanted_plane_within_a_tenth(method):
    lf = textured_plane(0.3, slope=0.02, seed=2)  # disparity -0.34 .. 0.94 across the image
    est, _ = estimate_disparity(lf, method, disp_range=(-3, 3))
    assert _interior_error(lf, est) < 0.1


def test_the_range_comes_from_the_scene_and_never_from_ground_truth():
    lf = textured_plane(1.0)
    lf.ground_truth.disparity.fill_(-7.0)  # a ground truth that lies: the range must come from the views
    lo, hi = scene_disparity_range(lf)
    assert lo < 1.0 < hi and hi - lo < 2.0
    del lf.meta["estimated_disp_range"]

    class Params:
        disp_min, disp_max = -1.5, 2.0
    lf.meta["parameters"] = Params()
    assert scene_disparity_range(lf) == (-1.75, 2.25)
    assert scene_disparity_range(lf, (-1, 1)) == (-1.0, 1.0)
    with pytest.raises(ValueError, match="method"):
        estimate_disparity(lf, "magic")
    with pytest.raises(ValueError, match="disp_range"):
        estimate_disparity(lf, "cost_volume", disp_range=(2, 1))
    assert set(CLASSICAL) <= set(METHODS)


def test_shifted_views_equal_grid_sample():
    import torch.nn.functional as F
    x = torch.rand(2, 3, 20, 30)
    sv = ShiftedViews(x, 4)
    for dx, dy in ((1.25, -0.5), (-3.7, 2.2), (0.0, 0.0)):
        H, W = 20, 30
        ys, xs = torch.meshgrid(torch.arange(H) + dy, torch.arange(W) + dx, indexing="ij")
        grid = torch.stack([2 * (xs + 0.5) / W - 1, 2 * (ys + 0.5) / H - 1], -1)[None].float()
        ref = F.grid_sample(x[1:], grid, align_corners=False, padding_mode="border")[0]
        assert torch.allclose(sv.shifted(1, dx, dy), ref, atol=1e-5)
    with pytest.raises(ValueError, match="max_shift"):
        sv.shifted(0, 6.0, 0.0)


def test_box_and_guided_filters_by_hand():
    x = torch.arange(16.0).reshape(4, 4)
    b = box_mean(x, 1)
    assert b[1, 1] == pytest.approx(x[0:3, 0:3].mean()) and b[0, 0] == pytest.approx(
        x[0:2, 0:2].mean())
    # a guide equal to the source is reproduced (a = var / (var + eps) ~ 1, b ~ 0)
    g = torch.rand(20, 20)
    assert torch.allclose(guided_filter(g, g, 2, 1e-8), g, atol=1e-3)
    # with a constant guide a = 0, b = box(p): the output is the box mean applied twice
    assert torch.allclose(guided_filter(torch.ones(20, 20), g, 2, 1e-4),
                          box_mean(box_mean(g, 2), 2), atol=1e-5)


@pytest.mark.parametrize("radius", [1, 3, 7])
def test_box_mean_matches_torch_average_pooling(radius):
    """Our slice-sum box mean against ``avg_pool2d`` (padding not counted),
    on a volume smaller than the window along one axis too."""
    import torch.nn.functional as F
    x = torch.rand(3, 37, 5, dtype=torch.float64)
    ref = F.avg_pool2d(x[:, None], 2 * radius + 1, 1, radius, count_include_pad=False)[:, 0]
    assert torch.allclose(box_mean(x, radius), ref, atol=1e-12)
    # clipped windows, counted by hand at a corner and in the middle
    b = box_mean(x, radius)
    assert b[0, 0, 0] == pytest.approx(float(x[0, :radius + 1, :radius + 1].mean()))
    assert b[1, 18, 2] == pytest.approx(float(
        x[1, max(0, 18 - radius):18 + radius + 1, max(0, 2 - radius):2 + radius + 1].mean()))


def test_gaussian_blur_matches_a_2d_convolution():
    """Separable slice sums == one 2-D convolution with the outer-product kernel
    on the replicate-padded image."""
    import math

    import torch.nn.functional as F

    from geodl.lightfield.depth.filters import gaussian_blur
    x = torch.rand(2, 1, 23, 31, dtype=torch.float64)
    for sigma in (0.5, 1.3):
        r = max(1, math.ceil(3 * sigma))
        t = torch.arange(-r, r + 1, dtype=torch.float64)
        k = torch.exp(-t * t / (2 * sigma ** 2))
        k = k / k.sum()
        ref = F.conv2d(F.pad(x, (r,) * 4, mode="replicate"), (k[:, None] * k[None])[None, None])
        assert torch.allclose(gaussian_blur(x, sigma), ref, atol=1e-12)


def test_weighted_median_removes_an_outlier_and_keeps_an_edge():
    v = torch.zeros(9, 9)
    v[:, 5:] = 1.0
    v[2, 2] = 9.0  # outlier
    guide = (v == 1).float()[None].repeat(3, 1, 1)  # the image has the edge, not the outlier
    out = weighted_median(v, torch.ones(9, 9), guide, radius=1)
    assert out[2, 2] == 0.0 and torch.equal(out[:, 5:], v[:, 5:])
    assert torch.equal(out[:, :5], torch.zeros(9, 5))


def test_depth_command_on_a_scene_and_on_a_folder_of_scenes(tmp_path, capsys):
    from geodl.cli import main
    from geodl.lightfield import evaluate_submission, read_pfm, write_hci_scene
    lf = textured_plane(0.8, size=48, grid=5, seed=3)
    for name in ("a", "b"):
        write_hci_scene(tmp_path / "scenes" / name, lf, scene=name)
    out = tmp_path / "a.pfm"
    assert main(["depth", str(tmp_path / "scenes" / "a"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| a |" in printed and "badpix0.07" in printed  # ground truth present: scored
    d = read_pfm(out)
    assert d.shape == (48, 48) and abs(float(d[10:-10, 10:-10].mean()) - 0.8) < 0.05
    assert out.with_suffix(".png").exists()
    # the default is the matching's own answer, as estimate_disparity(planes=False) gives
    # it; --planes snaps it to the scene's planes
    from geodl.lightfield import load_hci
    want, _ = estimate_disparity(load_hci(tmp_path / "scenes" / "a"), "cost_volume", planes=False)
    assert torch.allclose(torch.as_tensor(d).float(), want.float(), atol=1e-6)
    snapped = tmp_path / "snapped.pfm"
    assert main(["depth", str(tmp_path / "scenes" / "a"), "--out", str(snapped), "--planes"]) == 0
    assert not torch.equal(torch.as_tensor(read_pfm(snapped)), torch.as_tensor(d))
    capsys.readouterr()

    def refused(argv, words):
        with pytest.raises(SystemExit):
            main(argv)
        assert words in capsys.readouterr().err
    refused(["depth", str(tmp_path / "scenes" / "a"), "--out", str(out)], "--force")
    assert main(["depth", str(tmp_path / "scenes" / "a"), "--out", str(out), "--force",
                 "--method", "structure_tensor"]) == 0
    sub = tmp_path / "submission"
    assert main(["depth", str(tmp_path / "scenes"), "--out", str(sub)]) == 0
    scores = evaluate_submission(sub, tmp_path / "scenes")
    assert set(scores) == {"a", "b"} and scores["a"]["badpix0.07"] < 5
    refused(["depth", str(tmp_path / "scenes"), "--out", str(sub)], "--force")
    refused(["depth", str(tmp_path / "scenes" / "a"), "--out", str(tmp_path / "x.txt")], ".pfm")
    refused(["depth", str(tmp_path), "--out", str(sub)], "scene")


def test_subpixel_argmin_with_fewer_than_three_labels():
    """No parabola fits 1 or 2 labels: the best label itself, per pixel."""
    from geodl.lightfield.depth.cost_volume import subpixel_argmin

    labels = torch.tensor([0.5, 0.75])
    cost = torch.tensor([[[0.2, 0.1]], [[0.1, 0.3]]])  # (D=2, H=1, W=2)
    disp, idx = subpixel_argmin(cost, labels)
    assert disp.tolist() == [[0.75, 0.5]] and idx.tolist() == [[1, 0]]
    disp, _ = subpixel_argmin(cost[:1], labels[:1])
    assert disp.tolist() == [[0.5, 0.5]]
