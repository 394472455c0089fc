"""Filling textureless regions with the plane of their borders, against a known plane."""
import math

import pytest
import torch

from geodl.lightfield.depth.planes import plane_coordinates
from geodl.lightfield.depth.textureless import fill_textureless, textureless_regions

N = 128
LO, HI = 24, 104  # the flat square


def scene(seed: int = 0):
    """A noise-textured image with a uniform grey square in the middle; the
    true disparity is one slanted plane; the estimate inside the square is off
    by a smooth bump (what smoothing leaves there) and unconfident."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(3, N, N, generator=gen)
    image[:, LO:HI, LO:HI] = 0.5
    plane = torch.tensor([0.4, -0.3, 0.7], dtype=torch.float64)
    truth = plane_coordinates(N, N) @ plane
    y, x = torch.meshgrid(torch.arange(N), torch.arange(N), indexing="ij")
    bump = 0.25 * torch.exp(-((x - 64.0) ** 2 + (y - 64.0) ** 2) / (2 * 15.0 ** 2))
    inside = torch.zeros(N, N, dtype=torch.bool)
    inside[LO:HI, LO:HI] = True
    estimate = truth + torch.where(inside, bump.double(), torch.zeros_like(truth))
    confidence = torch.where(inside, 0.0, 1.0).double()
    return image, truth, estimate, confidence, inside


def test_the_flat_square_is_one_region_and_the_noise_none():
    image, *_ = scene()
    regions = textureless_regions(image)
    assert int(regions.max()) == 1
    square = regions == 1
    # the 1 px blur takes ~2 px of the edge, the erosion 2 more; nothing outside the square
    assert square[LO + 5:HI - 5, LO + 5:HI - 5].all()
    assert not square[:LO].any() and not square[HI:].any()


def test_a_bumped_flat_region_takes_its_borders_plane():
    image, truth, estimate, confidence, inside = scene()
    assert (estimate - truth).abs().max() > 0.2  # the bump is there before
    fill = fill_textureless(estimate, confidence, image)
    core = torch.zeros_like(inside)
    core[LO + 4:HI - 4, LO + 4:HI - 4] = True  # the region grown back by the erosion
    assert fill.filled[core].all()
    assert torch.allclose(fill.disparity[core], truth[core], atol=1e-9)
    assert (fill.confidence[fill.filled] >= 0.5).all()
    outside = ~inside
    assert torch.equal(fill.disparity[outside], estimate[outside])


def test_a_foreground_object_of_the_same_colour_keeps_its_disparity():
    image, truth, estimate, confidence, _ = scene()
    estimate[50:60, 50:60] = truth[50:60, 50:60] + 1.0  # beyond the 0.35 px gate
    fill = fill_textureless(estimate, confidence, image)
    assert torch.equal(fill.disparity[50:60, 50:60], estimate[50:60, 50:60])
    assert fill.filled[70:90, 70:90].all()
    ungated = fill_textureless(estimate, confidence, image, gate=math.inf)  # the photos' setting
    assert ungated.filled[50:60, 50:60].all()
    assert torch.allclose(ungated.disparity[50:60, 50:60], truth[50:60, 50:60], atol=1e-9)


def test_a_region_seen_on_one_side_only_is_not_extrapolated():
    image, truth, estimate, confidence, _ = scene()
    confidence[:, LO + 8:] = 0.0  # only the left border is confident
    fill = fill_textureless(estimate, confidence, image)
    assert not fill.filled.any()
    assert torch.equal(fill.disparity, estimate)


@pytest.mark.parametrize("kwargs, match", [
    ({"image": torch.zeros(3, 10, 10)}, "image"),
    ({"gate": -1.0}, "gate"),
    ({"gate": math.nan}, "gate"),
    ({"min_inliers": 2.0}, "min_inliers"),
])
def test_bad_arguments_are_named(kwargs, match):
    image, _, estimate, confidence, _ = scene()
    args = {"disparity": estimate, "confidence": confidence, "image": image, **kwargs}
    with pytest.raises(ValueError, match=match):
        fill_textureless(**args)
