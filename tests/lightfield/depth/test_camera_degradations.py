"""The camera-degradation augmentations of depth training: vignetting and sensor noise."""
from __future__ import annotations

import pytest
import torch

from geodl.lightfield.depth.learned import star_views
from geodl.training.depth import Room, TrainConfig, sample_patch
from geodl.training.rooms import sensor_noise, vignette
from tests.helpers import plane_views


def _offsets(n: int = 9) -> torch.Tensor:
    m = n // 2
    return (torch.tensor(star_views(n), dtype=torch.float32) - m) / m


def test_vignette_follows_the_stated_gain():
    offsets = _offsets()
    views = torch.full((len(offsets), 16, 16), 0.8)
    g = torch.Generator().manual_seed(3)
    out = vignette(views, offsets, g, strength=1.0)
    # replay the draws: s, then the patch centre q
    g = torch.Generator().manual_seed(3)
    s = float(torch.rand(1, generator=g))
    q = torch.rand(2, generator=g) * 2 - 1
    x = (torch.arange(16) + 0.5) / 16 - 0.5
    k = star_views(9).index((0, 0))  # a corner view, offset (-1, -1)
    rows, cols = -1 + q[0] + 0.25 * x[:, None], -1 + q[1] + 0.25 * x[None, :]
    expected = 0.8 * (1 - s * (rows ** 2 + cols ** 2) / 9)
    assert torch.allclose(out[k], expected, atol=1e-6)
    # the centre view (offset 0) follows the same law with o = 0
    centre = star_views(9).index((4, 4))
    r0, c0 = q[0] + 0.25 * x[:, None], q[1] + 0.25 * x[None, :]
    assert torch.allclose(out[centre], 0.8 * (1 - s * (r0 ** 2 + c0 ** 2) / 9), atol=1e-6)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    # strength 1: no pixel of any view, anywhere in the image, goes below 0 before clipping
    worst = vignette(torch.ones(len(offsets), 16, 16), offsets,
                     torch.Generator().manual_seed(0), strength=1.0)
    assert float(worst.min()) >= 0


def test_sensor_noise_grows_with_the_signal():
    views = torch.cat([torch.full((33, 64, 32), 0.1), torch.full((33, 64, 32), 0.9)], 2)
    g = torch.Generator().manual_seed(0)
    noisy = sensor_noise(views, g, sigma=0.05)
    g = torch.Generator().manual_seed(0)
    level = 0.05 * float(torch.rand(1, generator=g))
    dark, bright = (noisy - views)[..., :32], (noisy - views)[..., 32:]
    # N(0, level^2 (0.25 + 0.75 x)): within 3 % of the stated standard deviations
    assert float(dark.std()) == pytest.approx(level * (0.25 + 0.075) ** 0.5, rel=0.03)
    assert float(bright.std()) == pytest.approx(level * (0.25 + 0.675) ** 0.5, rel=0.03)
    assert abs(float(dark.mean())) < 4 * float(dark.std()) / dark.numel() ** 0.5  # zero mean


def test_zero_levels_leave_patches_and_draws_unchanged(monkeypatch):
    import geodl.training.depth as depth_training

    # a slanted plane: its disparity patch shows which rotation was drawn
    views, disp = plane_views(size=64, a=0.5, bx=0.02, by=-0.01, seed=2)
    room = Room(torch.stack([views[r, c] for r, c in star_views(9)]), disp)
    g = torch.Generator().manual_seed(5)
    clean = sample_patch(room, 24, g, 0.0, noise=0.0, vignetting=0.0)
    with monkeypatch.context() as m:  # degradations that are not there at all
        m.setattr(depth_training, "vignette", lambda v, o, g, s: v)
        m.setattr(depth_training, "sensor_noise", lambda v, g, s: v)
        bare = torch.Generator().manual_seed(5)
        without = sample_patch(room, 24, bare, 0.0)
    assert torch.equal(clean[0], without[0]) and torch.equal(clean[1], without[1])
    assert torch.equal(g.get_state(), bare.get_state())  # zero levels draw nothing
    noisy = sample_patch(room, 24, torch.Generator().manual_seed(5), 0.0, noise=0.05,
                         vignetting=0.5)
    # the same crop, scale and rotation: only the views are degraded
    assert torch.equal(noisy[1], clean[1])
    star = torch.zeros(9, 9, dtype=torch.bool)
    for r, c in star_views(9):
        star[r, c] = True
    assert not torch.equal(noisy[0][star], clean[0][star])
    assert bool((noisy[0][~star] == 0).all())  # views off the star stay empty


def test_train_config_checks_the_levels():
    with pytest.raises(ValueError, match="noise"):
        TrainConfig(model="epinet", noise=-0.1)
    with pytest.raises(ValueError, match="vignetting"):
        TrainConfig(model="cost_net", vignetting=2.0)
    with pytest.raises(ValueError, match="refine_net"):
        TrainConfig(model="refine_net", noise=0.03)
    assert TrainConfig(model="epinet", noise=0.03, vignetting=0.5).noise == 0.03
