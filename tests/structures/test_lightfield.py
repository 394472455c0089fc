"""LightField: the HCI disparity convention, validation (fuzzed too) and integer
images."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geodl.structures import LightField, PinholeCamera


def _lightfield(U=5, V=5, H=32, W=40):
    cam = PinholeCamera.look_at([0.0, 0, 0], [0, 0, 1], up=[0, -1, 0], fov_deg=50, width=W,
                                height=H)
    return LightField(torch.rand(U, V, 3, H, W), cam, baseline=0.02, focus_distance=2.0)


def test_lightfield_disparity_convention():
    """Project a point with every view's camera: it lands at
    (x - d (c - c0), y - d (r - r0)) with d = b f (1/Z - 1/F) (HCI convention)."""
    lf = _lightfield()
    X = torch.tensor([[0.3, -0.2, 1.3]], dtype=torch.float64)
    (x, y), Z = lf.camera.project(X)[0][0], lf.camera.project(X)[1][0]
    d = float(lf.depth_to_disparity(Z))
    assert d == pytest.approx(0.02 * lf.focal_px * (1 / float(Z) - 1 / 2.0))
    r0, c0 = lf.center_index
    for r in range(5):
        for c in range(5):
            uv, _ = lf.camera_at(r, c).project(X)
            assert torch.allclose(uv[0], torch.tensor([x - d * (c - c0), y - d * (r - r0)],
                                                      dtype=torch.float64), atol=1e-9)
    # points at the focus distance do not move between views
    Xf = torch.tensor([[0.1, 0.1, 2.0]], dtype=torch.float64)
    assert torch.allclose(lf.camera_at(0, 4).project(Xf)[0], lf.camera.project(Xf)[0])
    z = torch.tensor([0.5, 1.0, 2.0, 10.0], dtype=torch.float64)
    assert torch.allclose(lf.disparity_to_depth(lf.depth_to_disparity(z)), z)


def test_lightfield_validation():
    cam = PinholeCamera.look_at([0.0, 0, 0], [0, 0, 1], up=[0, -1, 0], width=8, height=6)
    with pytest.raises(ValueError, match=r"views: expected shape \(U, V, C, H, W\)"):
        LightField(torch.rand(3, 3, 6, 8), cam, 0.1, 1.0)
    with pytest.raises(ValueError, match="does not match"):
        LightField(torch.rand(3, 3, 3, 7, 8), cam, 0.1, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        LightField(torch.full((3, 3, 1, 6, 8), float("nan")), cam, 0.1, 1.0)
    with pytest.raises(ValueError, match="baseline"):
        LightField(torch.rand(3, 3, 1, 6, 8), cam, -0.1, 1.0)
    lf = LightField(torch.rand(3, 3, 1, 6, 8), cam, 0.1, 1.0)
    assert lf.center_view.shape == (1, 6, 8) and lf.center_index == (1, 1)
    # NaN-aware conversions: NaN stays NaN, at or beyond infinity gives inf,
    # and the round trip is exact elsewhere (d = b f (1/Z - 1/F), b f / F = 0.1 * fx)
    bf = 0.1 * lf.focal_px
    z = lf.disparity_to_depth(torch.tensor([float("nan"), -2 * bf, -1e6, 0.0, bf / 2]))
    assert torch.isnan(z[0]) and z[1] == torch.inf and z[2] == torch.inf
    assert z[3] == pytest.approx(1.0) and z[4] == pytest.approx(1 / 1.5)
    d = lf.depth_to_disparity(torch.tensor([float("nan"), float("inf"), 1.0, 0.5]))
    assert torch.isnan(d[:2]).all() and d[2] == 0 and d[3] == pytest.approx(bf)
    with pytest.raises(ValueError, match="positive"):
        lf.depth_to_disparity(torch.tensor([1.0, -2.0]))
    with pytest.raises(ValueError, match=r"\(r, c\)"):
        lf.view(3, 0)


@given(arrays(np.float32, st.tuples(*[st.integers(0, 3)] * 3 + [st.integers(5, 7), st.integers(7, 9)]),
              elements=st.floats(allow_nan=True, allow_infinity=True, width=32)),
       st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True))
def test_fuzz_lightfield(views, baseline, focus):
    cam = PinholeCamera.look_at([0.0, 0, 0], [0, 0, 1], up=[0, -1, 0], width=8, height=6)
    try:
        lf = LightField(views, cam, baseline, focus)
    except (ValueError, TypeError):
        return
    assert lf.views.shape[3:] == (6, 8) and torch.isfinite(lf.views).all()
    assert lf.baseline > 0 and lf.focus_distance > 0


@pytest.mark.parametrize("dtype,white", [(np.uint8, 255), (np.uint16, 65535)])
def test_lightfield_scales_8_and_16_bit_images(dtype, white):
    cam = PinholeCamera.look_at([0.0, 0, 0], [0, 0, 1], up=[0, -1, 0], width=8, height=6)
    raw = np.random.default_rng(0).integers(0, white + 1, (3, 3, 3, 6, 8)).astype(dtype)
    raw[0, 0, 0, 0, :2] = (0, white)
    lf = LightField(raw, cam, 0.1, 1.0)
    assert lf.views.is_floating_point()
    assert torch.allclose(lf.views, torch.from_numpy(raw.astype(np.float64) / white).float())
    assert float(lf.views.min()) == 0.0 and float(lf.views.max()) == 1.0


@pytest.mark.parametrize("dtype", [torch.int8, torch.int16, torch.int32, torch.int64,
                                   torch.bool])
def test_lightfield_refuses_other_integer_images(dtype):
    cam = PinholeCamera.look_at([0.0, 0, 0], [0, 0, 1], up=[0, -1, 0], width=8, height=6)
    with pytest.raises(TypeError, match="views: expected float images, or uint8"):
        LightField(torch.ones(3, 3, 3, 6, 8, dtype=dtype), cam, 0.1, 1.0)
