"""Plane-sweep disparity, blending, push-pull, MPIs, metrics and the front door."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from geodl.datasets import textured_plane
from geodl.lightfield.synthesis import (
    METHODS,
    blend_views,
    build_mpi,
    parse_positions,
    plane_sweep_disparity,
    psnr,
    push_pull,
    register_method,
    ssim,
    synthesize_views,
)
from geodl.lightfield.synthesis.propagate import fill_background, propagate_disparity

CORNERS = [(0, 0), (0, 4), (4, 0), (4, 4)]


@pytest.fixture(scope="module")
def plane():
    return textured_plane(1.3, size=48, grid=5)


def _sources(lf, positions=CORNERS):
    return torch.stack([lf.view(*p) for p in positions])


@pytest.mark.parametrize("target", [(2, 2), (1.5, 3.25), (0, 0)])
def test_plane_sweep_finds_a_plane_from_the_corners(plane, target):
    d, conf = plane_sweep_disparity(_sources(plane), CORNERS, target, (-3, 3))
    inner = (slice(6, -6), slice(6, -6))
    # measured mean error 0.02-0.09 px over a 0.125 px label spacing
    assert (d[inner] - 1.3).abs().mean() < 0.12
    assert conf.shape == d.shape and conf.min() >= 0 and conf.max() <= 1


def test_blend_reproduces_views_with_the_true_disparity(plane):
    d = torch.full((48, 48), 1.3)
    inner = (slice(None), slice(6, -6), slice(6, -6))
    img, seen = blend_views(_sources(plane), CORNERS, (2, 2), d)
    assert seen.all() and psnr(img[inner], plane.view(2, 2)[inner]) > 30
    # at a source's own position that source dominates
    img, _ = blend_views(_sources(plane), CORNERS, (0, 4), d)
    assert psnr(img, plane.view(0, 4)) > 45


def test_blend_outvotes_a_disagreeing_source():
    g = torch.Generator().manual_seed(0)
    base = torch.rand(3, 16, 16, generator=g)
    images = base.expand(4, 3, 16, 16).clone()
    images[1, :, 4:8, 4:8] = 1 - images[1, :, 4:8, 4:8]  # an "occluder" in one source
    img, _ = blend_views(images, [(0, 0), (0, 2), (2, 0), (2, 2)], (1, 1), torch.zeros(16, 16))
    assert torch.allclose(img, base, atol=1e-3)


def test_holes_are_filled_and_marked():
    img = torch.rand(3, 10, 12)
    # every source sees only the right part of the target
    out, seen = blend_views(img[None], [(0, 2)], (0, 0), torch.ones(10, 12))
    assert not seen[:, :2].any() and seen[:, 2:].all()
    assert torch.isfinite(out).all()
    bare, _ = blend_views(img[None], [(0, 2)], (0, 0), torch.ones(10, 12), fill=False)
    assert (bare[:, :, :2] == 0).all()


def test_push_pull_keeps_known_pixels_and_interpolates_holes():
    y, x = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    image = torch.stack([x, y, 0.5 * x + 0.5 * y])
    known = torch.ones(32, 32, dtype=torch.bool)
    known[10:20, 12:22] = False
    filled = push_pull(image * known, known)
    assert torch.equal(filled[:, known], image[:, known])
    # a smooth ramp is recovered in the hole to a few percent
    assert (filled[:, ~known] - image[:, ~known]).abs().max() < 0.1


def test_background_filling_picks_the_farther_side():
    d = torch.tensor([[0.0, 0.0, 0.0, 2.0, 2.0]] * 3)
    known = torch.ones_like(d, dtype=torch.bool)
    known[:, 2] = False
    assert torch.all(fill_background(d, known)[:, 2] == 0.0)
    with pytest.raises(ValueError, match="known"):
        fill_background(d, torch.zeros_like(known))


def test_propagated_disparity_of_a_plane_is_the_plane(plane):
    d = plane.disparity.float()
    moved = propagate_disparity(d, (2, 2), (0.5, 3.5))
    assert torch.allclose(moved, d, atol=1e-4)


def test_mpi_renders_the_reference_and_shifted_positions(plane):
    sources = _sources(plane)
    d = torch.full((48, 48), 1.3)
    mpi = build_mpi(sources, CORNERS, d, (2, 2), planes=torch.linspace(-1.0, 2.0, 16))
    # alpha: opaque at and behind the surface, transparent in front
    assert torch.all(mpi.alpha[mpi.disparities <= 1.3] == 1)
    assert torch.all(mpi.alpha[mpi.disparities >= 1.3 + 0.2] == 0)
    inner = (slice(None), slice(6, -6), slice(6, -6))
    img, valid = mpi.render((2, 2))
    assert valid.all() and psnr(img[inner], plane.view(2, 2)[inner]) > 30
    img, _ = mpi.render((1, 3))
    assert psnr(img[inner], plane.view(1, 3)[inner]) > 30


def test_psnr_by_hand_and_ssim_against_scikit_image():
    a = torch.zeros(3, 20, 20)
    b = a.clone()
    b[0, 0, 0] = 0.5  # MSE = 0.25 / 1200
    assert psnr(b, a) == pytest.approx(10 * math.log10(1200 / 0.25))
    assert psnr(b, a, data_range=255) == pytest.approx(10 * math.log10(255 ** 2 * 1200 / 0.25))
    assert psnr(b, a, border=1) == math.inf  # the differing pixel is cropped
    assert psnr(a, a) == math.inf
    g = np.random.default_rng(0)
    x = g.random((3, 32, 40))
    y = np.clip(x + 0.1 * g.standard_normal(x.shape), 0, 1)
    ref = structural_similarity(x, y, data_range=1.0, channel_axis=0, gaussian_weights=True,
                                sigma=1.5, use_sample_covariance=False)
    assert ssim(torch.from_numpy(y), torch.from_numpy(x)) == pytest.approx(ref, rel=1e-12)
    # border crop = the same call on the cropped images
    ref2 = structural_similarity(x[:, 3:-3, 3:-3], y[:, 3:-3, 3:-3], data_range=1.0,
                                 channel_axis=0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False)
    assert ssim(y, x, border=3) == pytest.approx(ref2, rel=1e-12)
    assert ssim(x, x) == pytest.approx(1.0)
    for bad in (dict(data_range=0), dict(border=-1), dict(border=20)):
        with pytest.raises(ValueError):
            ssim(x, y, **bad)
    with pytest.raises(ValueError, match="shapes"):
        psnr(x, y[:, 1:])


def test_source_specs():
    assert parse_positions("corners", (9, 9)) == [(0, 0), (0, 8), (8, 0), (8, 8)]
    assert parse_positions("inner-corners", (9, 9)) == [(1, 1), (1, 7), (7, 1), (7, 7)]
    assert len(parse_positions("all-but-centre", (9, 9))) == 80
    assert (4, 4) in parse_positions("cross", (9, 9))
    assert parse_positions("0,0; 8,8", (9, 9)) == [(0, 0), (8, 8)]
    assert parse_positions("4,4.5", (9, 9), integer=False) == [(4.0, 4.5)]
    for bad, match in (("4,4.5", "integer"), ("9,0", "outside"), ("1;2", "bad part"),
                       ("diagonal", "expected one of"), ("", "no positions")):
        with pytest.raises(ValueError, match=match):
            parse_positions(bad, (9, 9))


def test_synthesize_views_methods_and_registry(plane):
    rng = (-2.0, 2.0)
    out, valid, targets = synthesize_views(plane, "corners", method="nearest", disp_range=rng)
    assert out.shape == (21, 3, 48, 48) and valid.all() and len(targets) == 21
    gt = torch.full((5, 5, 48, 48), 1.3)
    for method in ("warp", "mpi"):
        out, _, targets = synthesize_views(plane, "corners", [(2, 2), (1, 3)], method=method,
                                           disparity=gt, disp_range=rng)
        for img, (u, v) in zip(out, targets.tolist()):
            inner = (slice(None), slice(6, -6), slice(6, -6))
            assert psnr(img[inner], plane.view(int(u), int(v))[inner]) > 30
    # a fractional target with estimated disparity
    out, _, _ = synthesize_views(plane, "corners", "2,2.5", method="warp", disp_range=rng)
    assert out.shape == (1, 3, 48, 48)

    calls = []

    def fake(images, positions, targets, *, disp_range, disparity, progress, **options):
        calls.append((images.shape, positions.tolist(), targets.tolist(), disp_range, options))
        return images[:1].expand(len(targets), -1, -1, -1), torch.ones(len(targets), 48, 48,
                                                                        dtype=torch.bool)
    register_method("fake_for_test", fake)
    try:
        synthesize_views(plane, "0,0;4,4", [(2, 2)], method="fake_for_test", disp_range=rng, k=1)
        assert calls == [((2, 3, 48, 48), [[0.0, 0.0], [4.0, 4.0]], [[2.0, 2.0]], rng, {"k": 1})]
    finally:
        METHODS.pop("fake_for_test")
    with pytest.raises(ValueError, match="method"):
        synthesize_views(plane, "corners", method="magic", disp_range=rng)
    # no parameters.cfg and no disp_range: the range is estimated from the views
    out, _, targets = synthesize_views(plane, "corners", [(2, 2)], method="warp")
    lo, hi = plane.meta["estimated_disp_range"]
    assert lo - 0.25 <= 1.3 <= hi + 0.25 and hi - lo < 2
    assert psnr(out[0][inner], plane.view(2, 2)[inner]) > 30
    with pytest.raises(ValueError, match="fractional"):
        synthesize_views(plane, "corners", "2,2.5", method="warp", disparity=gt, disp_range=rng)
    with pytest.raises(ValueError, match="disparity"):
        synthesize_views(plane, "corners", method="warp", disparity="gt", disp_range=rng)
    with pytest.raises(ValueError, match="targets"):
        synthesize_views(plane, "all", method="nearest", disp_range=rng)
