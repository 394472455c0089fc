"""The library's one pixel-sampling rule: ``geodl.ops.sampling`` by hand, and
every function that samples images through it pinned on small seeded inputs
(a half-pixel shift anywhere moves these fingerprints by far more than their
tolerance)."""
import importlib

import numpy as np
import pytest
import torch

from geodl.datasets.plane_lightfield import textured_plane
from geodl.lightfield.depth import cost_volume
from geodl.lightfield.depth.cost_net import CostNet
from geodl.lightfield.synthesis.warp import backward_warp
from geodl.mvs.plane_sweep import source_homography, warp_source
from geodl.recon.posed_fusion import color_in_depth_camera
from geodl.render.textures import sample_bilinear
from geodl.structures import PinholeCamera

refocus_module = importlib.import_module("geodl.lightfield.refocus")


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
    warped, valid = refocus_module.warp_to_center(lf, dmap)
    out["warp_to_center"], out["warp_to_center_valid"] = warped, valid
    out["refocus"] = refocus_module.refocus(lf, 0.9)
    src = torch.rand(4, 3, 10, 11, generator=g)
    disp = torch.rand(10, 11, generator=g) * 4 - 2
    dr = torch.tensor([-1.0, 0, 1, 1])[:, None, None]
    dc = torch.tensor([1.0, -1, 0, 1])[:, None, None]
    s, inside = cost_volume.warp_to_centre(src, disp, dr, dc)
    out["warp_to_centre"], out["warp_to_centre_inside"] = s, inside
    s, inside = cost_volume.warp_to_centre(src[:1], disp, 1, -1)
    out["warp_to_centre_int"], out["warp_to_centre_int_inside"] = s, inside
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
    'warp_to_center': 1.5652991052547731,
    'warp_to_center_valid': 13.34319036535278,
    'warp_to_centre': 3.699142592444049,
    'warp_to_centre_inside': -2.936507714731218,
    'warp_to_centre_int': 2.467704482077563,
    'warp_to_centre_int_inside': 5.022770144798985,
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
