"""EPIs, warping and refocusing on a synthetic fronto-parallel plane."""
import pytest
import torch

from geodl.lightfield import epi, refocus, warp_lightfield_to_center
from geodl.structures import LightField, PinholeCamera


def plane_light_field(d0: int = 2, U: int = 5, V: int = 5, H: int = 40, W: int = 48, seed=0):
    """A textured plane at integer disparity d0: view (r, c) is the texture
    shifted so that centre pixel (x, y) sits at (x - d0 (c - c0), y - d0 (r - r0))."""
    g = torch.Generator().manual_seed(seed)
    tex = torch.rand(3, H, W, generator=g, dtype=torch.float64)
    r0, c0 = U // 2, V // 2
    views = torch.stack([torch.stack([torch.roll(tex, shifts=(-d0 * (r - r0), -d0 * (c - c0)),
                                                 dims=(1, 2)) for c in range(V)])
                         for r in range(U)])
    cam = PinholeCamera.look_at([0.0, 0, 0], [0, 0, 1], up=[0, -1, 0], width=W, height=H)
    return LightField(views, cam, baseline=0.05, focus_distance=1.0), tex


def test_epi_lines_have_the_disparity_slope():
    lf, tex = plane_light_field(d0=2)
    e = epi(lf, "horizontal", 10)  # (V, C, W)
    c0 = 2
    for c in range(5):  # row c of the EPI is the centre row shifted by -2 (c - c0)
        assert torch.allclose(e[c], torch.roll(tex[:, 10, :], -2 * (c - c0), dims=1))
    assert epi(lf, "vertical", 7).shape == (5, 3, 40)
    assert epi(lf, "diagonal", 3).shape == (5, 3, 48)
    assert torch.equal(epi(lf, "antidiagonal", 3)[0], lf.views[0, 4, :, 3, :])
    with pytest.raises(ValueError, match="direction"):
        epi(lf, "sideways", 0)


def test_warping_with_the_true_disparity_aligns_all_views():
    """The convention self-check: backward warping with the right disparity
    gives every view equal to the centre view; the opposite sign does not."""
    lf, tex = plane_light_field(d0=2)
    warped, valid = warp_lightfield_to_center(lf, 2.0)
    inner = (slice(None), slice(None), slice(None), slice(8, -8), slice(8, -8))
    err = (warped - lf.center_view)[inner].abs().mean()
    wrong = (warp_lightfield_to_center(lf, -2.0)[0] - lf.center_view)[inner].abs().mean()
    assert float(err) < 1e-12 and float(wrong) > 0.1
    assert valid[2, 2].all() and not valid[0, 0].all()


def test_refocus_is_sharp_at_the_planes_disparity():
    lf, tex = plane_light_field(d0=1)
    sharp = refocus(lf, 1.0)[:, 6:-6, 6:-6]
    assert torch.allclose(sharp, tex[:, 6:-6, 6:-6], atol=1e-12)
    blurred = refocus(lf, -0.5)[:, 6:-6, 6:-6]
    assert float(blurred.var()) < 0.5 * float(sharp.var())  # averaging misaligned texture
    with pytest.raises(ValueError, match="disparity"):
        warp_lightfield_to_center(lf, torch.zeros(3, 3))
