"""The library's one pixel-sampling rule: ``geodl.ops.sampling`` by hand, and
every function that samples images through it pinned on small seeded inputs
(a half-pixel shift anywhere moves these fingerprints by far more than their
tolerance)."""
import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from geodl.datasets.plane_lightfield import textured_plane
from geodl.lightfield.depth import cost_volume
from geodl.lightfield.depth.cost_net import CostNet
from geodl.lightfield.synthesis.warp import backward_warp
from geodl.mvs.plane_sweep import source_homography, warp_source
from geodl.ops.sampling import (
    grid_sample_matrix,
    sample_at_coordinates,
    sample_at_pixels,
    within_pixel_centers,
)
from geodl.recon.posed_fusion import color_in_depth_camera
from geodl.render.textures import sample_bilinear
from geodl.structures import PinholeCamera

refocus_module = importlib.import_module("geodl.lightfield.refocus")


def _image() -> torch.Tensor:
    return torch.arange(2 * 3 * 4 * 5, dtype=torch.float64).reshape(2, 3, 4, 5) ** 1.5


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_integer_pixel_indices_return_the_pixels(mode, padding_mode):
    img = _image()
    ys, xs = torch.meshgrid(torch.arange(4.0, dtype=torch.float64),
                            torch.arange(5.0, dtype=torch.float64), indexing="ij")
    out = sample_at_pixels(img, xs, ys, mode=mode, padding_mode=padding_mode)
    assert torch.allclose(out, img, atol=1e-9)
    # continuous coordinates: the centres j + 0.5
    out = sample_at_coordinates(img, xs + 0.5, ys + 0.5, mode=mode, padding_mode=padding_mode)
    assert torch.allclose(out, img, atol=1e-9)


def test_half_positions_are_the_mean_of_the_neighbours():
    img = _image()
    x = torch.tensor([[1.5, 0.0]], dtype=torch.float64)
    y = torch.tensor([[2.0, 0.5]], dtype=torch.float64)
    out = sample_at_pixels(img, x, y)
    assert torch.allclose(out[..., 0, 0], (img[..., 2, 1] + img[..., 2, 2]) / 2)
    assert torch.allclose(out[..., 0, 1], (img[..., 0, 0] + img[..., 1, 0]) / 2)
    # a quarter of the way: weights 3/4 and 1/4; both axes: the mean of four
    out = sample_at_pixels(img, torch.tensor([[3.25, 0.5]], dtype=torch.float64),
                           torch.tensor([[1.0, 0.5]], dtype=torch.float64))
    assert torch.allclose(out[..., 0, 0], 0.75 * img[..., 1, 3] + 0.25 * img[..., 1, 4])
    assert torch.allclose(out[..., 0, 1], img[..., :2, :2].mean((-2, -1)))


def test_outside_the_image_gives_the_padding():
    img = _image()
    x = torch.tensor([[-1.0, 5.0, 2.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 1.0, -3.0, 4.0]], dtype=torch.float64)
    assert sample_at_pixels(img, x, y, padding_mode="zeros").abs().max() < 1e-9
    border = sample_at_pixels(img, x, y, padding_mode="border")[..., 0, :]
    expected = torch.stack([img[..., 1, 0], img[..., 1, 4], img[..., 0, 2], img[..., 3, 2]], -1)
    assert torch.allclose(border, expected)
    # mirrored about the outer pixel edges (x = -1/2, W - 1/2): -1 -> 0, 5 -> 4, -3 -> 2
    mirror = sample_at_pixels(img, x, y, padding_mode="reflection")[..., 0, :]
    expected = torch.stack([img[..., 1, 0], img[..., 1, 4], img[..., 2, 2], img[..., 3, 2]], -1)
    assert torch.allclose(mirror, expected)
    # half a pixel out under zero padding: half the edge pixel
    half = sample_at_pixels(img, torch.tensor([[-0.5]]), torch.tensor([[1.0]]), padding_mode="zeros")
    assert torch.allclose(half[..., 0, 0], img[..., 1, 0] / 2)


def test_positions_per_image_and_dtypes():
    img = _image().float()
    x = torch.tensor([[[0.0]], [[4.0]]], dtype=torch.float64)  # (N, 1, 1)
    y = torch.zeros(1, 1, dtype=torch.float64)  # broadcast
    out = sample_at_pixels(img, x, y)
    assert out.dtype == torch.float32 and out.shape == (2, 3, 1, 1)
    assert torch.equal(out[0, :, 0, 0], img[0, :, 0, 0])
    assert torch.equal(out[1, :, 0, 0], img[1, :, 0, 4])
    assert torch.equal(sample_at_coordinates(img, x + 0.5, y + 0.5), out)


def test_gradients_flow_to_the_positions():
    img = _image()
    x = torch.tensor([[1.3]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[2.0]], dtype=torch.float64)
    out = sample_at_pixels(img, x, y)
    out[0, 0].sum().backward()
    assert torch.allclose(x.grad[0, 0], (img[0, 0, 2, 2] - img[0, 0, 2, 1]))
    with torch.no_grad():  # the in-place grid gives the same samples
        assert torch.equal(sample_at_pixels(img, x, y), out)


def test_within_pixel_centers_and_the_grid_matrix():
    x = torch.tensor([0.0, 4.0, -1e-3, 4.001, 2.0])
    y = torch.tensor([0.0, 3.0, 1.0, 1.0, 3.5])
    assert within_pixel_centers(x, y, 4, 5).tolist() == [True, True, False, False, False]
    assert within_pixel_centers(x, y, 4, 5, tol=1e-2).tolist() == [True, True, True, True, False]
    # the matrix takes the outer edges to -1 / +1 and agrees with the samplers
    M = grid_sample_matrix(4, 5)
    assert torch.allclose(M @ torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64),
                          torch.tensor([-1.0, -1.0, 1.0], dtype=torch.float64))
    assert torch.allclose(M @ torch.tensor([5.0, 4.0, 1.0], dtype=torch.float64),
                          torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64))
    img = _image()
    u = torch.tensor([[0.3, 2.7, 4.9]], dtype=torch.float64)
    v = torch.tensor([[3.1, 0.2, 1.5]], dtype=torch.float64)
    g = (M @ torch.stack([u, v, torch.ones_like(u)]).reshape(3, -1))[:2].T.reshape(1, 1, 3, 2)
    ref = F.grid_sample(img, g.expand(2, -1, -1, -1), mode="bilinear", padding_mode="border",
                        align_corners=False)
    assert torch.allclose(sample_at_coordinates(img, u, v), ref)


@pytest.mark.parametrize("call, name", [
    (lambda: sample_at_pixels(torch.zeros(3, 4, 5), torch.zeros(2, 2), torch.zeros(2, 2)), "image"),
    (lambda: sample_at_pixels(torch.zeros(1, 3, 4, 5, dtype=torch.long), torch.zeros(2, 2),
                              torch.zeros(2, 2)), "image"),
    (lambda: sample_at_pixels(torch.zeros(1, 3, 4, 5), [[0.0]], torch.zeros(1, 1)), "x, y"),
    (lambda: sample_at_pixels(torch.zeros(1, 3, 4, 5), torch.zeros(2, 2, dtype=torch.long),
                              torch.zeros(2, 2)), "x, y"),
    (lambda: sample_at_pixels(torch.zeros(1, 3, 4, 5), torch.zeros(2, 2), torch.zeros(3, 3)), "x, y"),
    (lambda: sample_at_pixels(torch.zeros(2, 3, 4, 5), torch.zeros(3, 2, 2), torch.zeros(3, 2, 2)),
     "x, y"),
    (lambda: sample_at_pixels(torch.zeros(1, 3, 4, 5), torch.zeros(4), torch.zeros(4)), "x, y"),
    (lambda: sample_at_coordinates(torch.zeros(1, 3, 4, 5), torch.zeros(4), torch.zeros(4)), "u, v"),
    (lambda: sample_at_pixels(torch.zeros(1, 3, 4, 5), torch.zeros(2, 2), torch.zeros(2, 2),
                              mode="area"), "mode"),
    (lambda: sample_at_pixels(torch.zeros(1, 3, 4, 5), torch.zeros(2, 2), torch.zeros(2, 2),
                              padding_mode="edge"), "padding_mode"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        call()


def _fingerprint(t: torch.Tensor) -> float:
    """A weighted sum that any change of any element moves."""
    w = torch.sin(torch.arange(t.numel(), dtype=torch.float64) * 0.7 + 0.3)
    return float((t.double().reshape(-1) * w).sum())


def _outputs() -> dict[str, torch.Tensor]:
    out = {}
    lf = textured_plane(0.7, slope=0.01, size=12, grid=3, seed=1)
    out["textured_plane"] = lf.views
    g = torch.Generator().manual_seed(0)
    dmap = torch.rand(12, 12, generator=g, dtype=torch.float64) * 3 - 1.5
    warped, valid = refocus_module.warp_lightfield_to_center(lf, dmap)
    out["warp_lightfield_to_center"], out["warp_lightfield_to_center_valid"] = warped, valid
    out["refocus"] = refocus_module.refocus(lf, 0.9)
    src = torch.rand(4, 3, 10, 11, generator=g)
    disp = torch.rand(10, 11, generator=g) * 4 - 2
    dr = torch.tensor([-1.0, 0, 1, 1])[:, None, None]
    dc = torch.tensor([1.0, -1, 0, 1])[:, None, None]
    s, inside = cost_volume.warp_views_to_center(src, disp, dr, dc)
    out["warp_views_to_center"], out["warp_views_to_center_inside"] = s, inside
    s, inside = cost_volume.warp_views_to_center(src[:1], disp, 1, -1)
    out["warp_views_to_center_int"], out["warp_views_to_center_int_inside"] = s, inside
    feats = torch.rand(9, 3, 10, 11, generator=g)
    offsets = [(r - 1, c - 1) for r in range(3) for c in range(3)]
    out["refine_disparity"] = cost_volume.refine_disparity(feats, offsets, 4, disp * 0.3, 3, 1)
    torch.manual_seed(0)
    net = CostNet(n_views=5, features=4, width=4, depth3d=1)
    views = torch.rand(2, len(net.view_bias), 10, 11, generator=g)
    with torch.no_grad():
        out["cost_net"] = net.cost(views, torch.linspace(-2, 2, 5))
    img = torch.rand(2, 3, 10, 11, generator=g, dtype=torch.float64)
    d2 = torch.rand(2, 10, 11, generator=g, dtype=torch.float64) * 4 - 2
    for pad in ("border", "zeros", "reflection"):
        wv, vv = backward_warp(img, d2, (1.0, 1.5), (0.3, 2.0), padding_mode=pad)
        out[f"backward_warp_{pad}"], out[f"backward_warp_{pad}_valid"] = wv, vv
    wv, vv = backward_warp(img.float(), d2.float(), torch.tensor([[1.0, 1.5], [0.0, 0.0]]),
                           (0.3, 2.0))
    out["backward_warp_f32"], out["backward_warp_f32_valid"] = wv, vv
    rng = np.random.default_rng(0)
    tex = rng.random((7, 9, 3)).astype(np.float32)
    u, v = rng.uniform(-12, 20, 200), rng.uniform(-10, 17, 200)
    out["sample_bilinear"] = torch.from_numpy(sample_bilinear(tex, u, v))
    cam = PinholeCamera.look_at([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], up=[0, -1, 0], width=16,
                                height=12)
    moved = PinholeCamera.look_at([0.05, 0.02, 0.0], [0.1, 0.0, 1.0], up=[0, -1, 0], width=20,
                                  height=15)
    depth = 1 + torch.rand(12, 16, generator=g, dtype=torch.float64)
    depth[0, :3] = 0
    image = torch.rand(3, 15, 20, generator=g)
    out["color_in_depth_camera"] = color_in_depth_camera(image, moved, depth, cam)
    A, b = source_homography(cam, moved)
    srcimg = torch.rand(15, 20, generator=g)
    s, inside = warp_source(srcimg, A, b, torch.tensor([0.2, 0.5, 1.0, 3.0]), 12, 16)
    out["warp_source"], out["warp_source_inside"] = s, inside
    return out


PINNED = {
    'backward_warp_border': -1.5430765547346392,
    'backward_warp_border_valid': 0.5526021272314834,
    'backward_warp_f32': 2.0237832473343307,
    'backward_warp_f32_valid': 4.141655895881184,
    'backward_warp_reflection': -1.5878761813838689,
    'backward_warp_reflection_valid': 0.5526021272314834,
    'backward_warp_zeros': -2.567178586174813,
    'backward_warp_zeros_valid': 0.5526021272314834,
    'color_in_depth_camera': -1.723370018895531,
    'cost_net': 0.27161394337492145,
    'refine_disparity': 2.28225543270524,
    'refocus': 0.45304029131916296,
    'sample_bilinear': -3.6080265653541974,
    'textured_plane': 0.04052137321104987,
    'warp_source': 6.300670716168335,
    'warp_source_inside': 3.52156338117672,
    'warp_lightfield_to_center': 1.5652991052547731,
    'warp_lightfield_to_center_valid': 13.34319036535278,
    'warp_views_to_center': 3.699142592444049,
    'warp_views_to_center_inside': -2.936507714731218,
    'warp_views_to_center_int': 2.467704482077563,
    'warp_views_to_center_int_inside': 5.022770144798985,
}


@pytest.fixture(scope="module")
def outputs():
    return _outputs()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_sampling_call_sites_are_pinned(outputs, name):
    t = outputs[name]
    # float32 results to a few ulps of their size, float64 and masks exactly
    tol = 1e-5 if t.dtype == torch.float32 else 1e-10
    assert _fingerprint(t) == pytest.approx(PINNED[name], rel=tol, abs=tol)


def test_every_call_site_is_pinned(outputs):
    assert set(outputs) == set(PINNED)


if __name__ == "__main__":  # prints PINNED from the current code
    for key, value in sorted(_outputs().items()):
        print(f"    {key!r}: {_fingerprint(value)!r},")
