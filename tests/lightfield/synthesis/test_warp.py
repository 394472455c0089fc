"""Warping primitives of geodl.lightfield.synthesis.warp."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from geodl.datasets import render_hci_scene, textured_plane, training_seeds
from geodl.lightfield.synthesis import backward_warp, forward_warp, sample_positions, soft_splat, warp


def _psnr(a, b, mask=None):
    err = ((a - b) ** 2).mean(0)
    return float(10 * torch.log10(1 / (err[mask] if mask is not None else err).mean()))


@pytest.fixture(scope="module")
def room():
    """A small training room (seed 21) with every view's depth; 2x supersampled
    so that its textures are band-limited enough for bilinear resampling."""
    seed = training_seeds(1, offset=21)[0]
    lf = render_hci_scene(seed, size=96, grid=3, gt_factor=1, view_depth=True,
                          supersample=2, progress=False)
    return lf, lf.rig.depth_to_disparity(lf.ground_truth.view_depth).float()


@pytest.mark.parametrize("source, floor", [((1, 2), 36.0), ((0, 0), 32.0), ((2, 1), 32.0)])
def test_backward_warp_by_ground_truth_reproduces_the_view(room, source, floor):
    # measured 39.1 / 35.3 / ~34 dB away from occlusions (the rendered scene's
    # aliasing, not the warp, limits it); occluded pixels: the source's
    # disparity where the target pixel lands differs from the target's
    lf, disp = room
    target = (1, 1)
    warped, valid = backward_warp(lf.view(*source), disp[target], source, target)
    src_disp, _ = backward_warp(disp[source][None], disp[target], source, target)
    visible = valid & ((src_disp[0] - disp[target]).abs() < 0.1)
    assert visible.float().mean() > 0.85
    assert _psnr(warped, lf.view(*target), visible) > floor
    # a wrong sign or a half-pixel slip is far worse
    flipped, _ = backward_warp(lf.view(*source), -disp[target], source, target)
    assert _psnr(flipped, lf.view(*target), visible) < floor - 5


def test_forward_warp_agrees_with_the_target_disparity(room):
    lf, disp = room
    warped, zbuf, hole = forward_warp(lf.view(0, 0), disp[0, 0], (0, 0), (1, 1))
    known = ~hole
    assert known.float().mean() > 0.85
    # the z-buffer is the target's own disparity wherever a surface landed
    assert (zbuf[known] - disp[1, 1][known]).abs().median() < 0.01
    assert torch.isnan(zbuf[hole]).all()


def test_sample_positions_follow_the_hci_sign():
    d = torch.full((4, 5), 2.0)
    xs, ys = sample_positions(d, (3, 1), (1, 2))  # source - target = (2, -1)
    assert torch.allclose(xs[0], torch.arange(5.0) + 2.0)  # x - d (v_s - v_t)
    assert torch.allclose(ys[:, 0], torch.arange(4.0) - 4.0)  # y - d (u_s - u_t)


def test_validity_marks_samples_outside_the_source():
    img = torch.rand(3, 8, 10)
    warped, valid = backward_warp(img, 1.0, (0, 2), (0, 0))  # samples at x - 2
    assert not valid[:, :2].any() and valid[:, 2:].all()
    assert torch.allclose(warped[:, :, 2:], img[:, :, :-2])
    same, ok = backward_warp(img, torch.rand(8, 10), (1, 1), (1, 1))
    assert torch.allclose(same, img, atol=1e-6) and ok.all()


def test_fractional_target_lies_between_grid_views():
    d = 1.3
    lf = textured_plane(d, size=64, grid=5)
    # the view at column 2.5 is view (2, 2) sampled at x + 0.5 d (and view
    # (2, 3) at x - 0.5 d): build it directly and compare with both warps
    H = W = 64
    xs = torch.arange(W, dtype=torch.float32)
    grid_x = (2 * (xs + 0.5 * d + 0.5) / W - 1).expand(H, W)
    grid_y = (2 * (torch.arange(H, dtype=torch.float32) + 0.5) / H - 1)[:, None].expand(H, W)
    expected = F.grid_sample(lf.view(2, 2)[None], torch.stack([grid_x, grid_y], -1)[None],
                             align_corners=False)[0]
    inner = (slice(None), slice(4, -4), slice(4, -4))
    for source in ((2, 2), (2, 3)):
        got, _ = backward_warp(lf.view(*source), torch.full((H, W), d), source, (2, 2.5))
        assert _psnr(got[inner], expected[inner]) > 35
    # ... and it is neither end view
    got, _ = backward_warp(lf.view(2, 3), torch.full((H, W), d), (2, 3), (2, 2.5))
    for end in ((2, 2), (2, 3)):
        assert _psnr(got[inner], lf.view(*end)[inner]) < 30


def _two_layers():
    """Background (disparity 0, colour 0.2) with a foreground square
    (disparity 2, colour 0.9) at rows/columns 6..9 of a 16 x 16 view."""
    img = torch.full((1, 16, 16), 0.2, dtype=torch.float64)
    disp = torch.zeros(16, 16, dtype=torch.float64)
    img[:, 6:10, 6:10] = 0.9
    disp[6:10, 6:10] = 2.0
    return img, disp


def test_z_buffer_keeps_the_nearer_surface():
    img, disp = _two_layers()
    # target one step left (v 1 -> 0): x_t = x_s + d (v_s - v_t), the square moves 2 px right
    warped, zbuf, hole = forward_warp(img, disp, (0, 1), (0, 0))
    # columns 10, 11 receive both the square and the background: the square wins
    assert torch.allclose(warped[0, 6:10, 8:12], torch.tensor(0.9, dtype=torch.float64))
    assert torch.all(zbuf[6:10, 8:12] == 2.0)
    # the background the square uncovered is a hole
    assert hole[6:10, 6:8].all() and not hole[6:10, 8:12].any()
    # with the signs swapped the background is nearer: it wins where they meet
    inverted, zinv, _ = forward_warp(img, -disp, (0, 1), (0, 0))
    assert torch.allclose(inverted[0, 6:10, 4:6], torch.tensor(0.2, dtype=torch.float64))
    assert torch.all(zinv[6:10, 4:6] == 0.0)
    assert torch.allclose(inverted[0, 6:10, 6:8], torch.tensor(0.9, dtype=torch.float64))


def test_soft_splat_approaches_the_z_buffer():
    img, disp = _two_layers()
    hard, _, hole = forward_warp(img, disp, (0, 1), (0, 0))
    soft, cover = soft_splat(img, disp, (0, 1), (0, 0), alpha=20.0)
    assert torch.allclose(soft[:, ~hole], hard[:, ~hole], atol=1e-6)
    assert (cover[hole] == 0).all() and (cover[~hole] > 0.99).all()
    # alpha = 0: plain averaging, the occluded background shows through
    avg, _ = soft_splat(img, disp, (0, 1), (0, 0), alpha=0.0)
    assert abs(float(avg[0, 7, 10]) - 0.55) < 1e-6  # eps in the denominator


def test_soft_splat_gradcheck():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(2, 2, 5, 6, dtype=torch.float64, generator=g, requires_grad=True)
    disp = (torch.rand(2, 5, 6, dtype=torch.float64, generator=g) * 1.6 - 0.8).requires_grad_()
    # generic fractional positions: no splat lands exactly on a pixel boundary
    assert torch.autograd.gradcheck(
        lambda i, d: soft_splat(i, d, (0.1, 0.2), (0.4, 0.9), alpha=3.0)[0], (img, disp))


def test_backward_warp_gradcheck():
    g = torch.Generator().manual_seed(1)
    img = torch.rand(1, 2, 5, 6, dtype=torch.float64, generator=g, requires_grad=True)
    disp = (torch.rand(1, 5, 6, dtype=torch.float64, generator=g) * 0.6 + 0.1).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda i, d: backward_warp(i, d, (0.0, 0.3), (0.7, 0.0))[0], (img, disp))


def test_batched_positions():
    img = torch.rand(3, 1, 6, 7)
    d = torch.rand(3, 6, 7)
    src = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.5]])
    out, valid = backward_warp(img, d, src, (1, 1))
    for i in range(3):
        one, ok = backward_warp(img[i], d[i], src[i].tolist(), (1, 1))
        assert torch.allclose(out[i], one) and torch.equal(valid[i], ok)


def test_warp_front_door_and_errors():
    lf = textured_plane(0.5, size=32, grid=3)
    d = torch.full((32, 32), 0.5)
    a, va = warp(lf, d, (0, 0), (1, 1))
    b, vb = backward_warp(lf.view(0, 0), d, (0, 0), (1, 1))
    assert torch.equal(a, b) and torch.equal(va, vb)
    for mode in ("forward", "soft"):
        out, ok = warp(lf, d, (0, 0), (1, 1), mode=mode)
        assert out.shape == (3, 32, 32) and ok.float().mean() > 0.9
    with pytest.raises(ValueError, match="mode"):
        warp(lf, d, (0, 0), (1, 1), mode="sideways")
    with pytest.raises(ValueError, match="source"):
        warp(lf, d, (0.5, 0), (1, 1))
    with pytest.raises(ValueError, match="disparity"):
        backward_warp(lf.view(0, 0), torch.zeros(31, 32), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="disparity"):
        backward_warp(lf.view(0, 0), torch.full((32, 32), math.nan), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="target"):
        backward_warp(lf.view(0, 0), d, (0, 0), (1, 1, 1))
    with pytest.raises(ValueError, match="image"):
        backward_warp(torch.zeros(32, 32), d, (0, 0), (1, 1))
    with pytest.raises(ValueError, match="tolerance"):
        forward_warp(lf.view(0, 0), d, (0, 0), (1, 1), tolerance=-1)
