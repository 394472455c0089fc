"""PinholeCamera: rays against Open3D, project / unproject, validation, crops and
ray bundles."""
import numpy as np
import pytest
import torch

from geodl._optional import open3d
from geodl.structures import PinholeCamera


def test_camera_rays_match_open3d():
    cam = PinholeCamera.look_at([1.0, 2, 3], [0, 0, 0], fov_deg=70, width=64, height=48)
    o3d = open3d()
    ref = o3d.t.geometry.RaycastingScene.create_rays_pinhole(
        o3d.core.Tensor(cam.K.numpy()), o3d.core.Tensor(cam.extrinsic.numpy()), 64, 48).numpy()
    o, d = cam.rays()
    assert np.allclose(o.numpy(), ref[..., :3], atol=1e-6)
    assert np.allclose(d.numpy(), ref[..., 3:], atol=1e-6)


def test_project_unproject_round_trip_and_frame():
    cam = PinholeCamera.look_at([0.0, -3, 1], [0, 0, 0.5], up=[0, 0, 1], width=40, height=30)
    # the target projects to the image centre, in front of the camera
    uv, z = cam.project(torch.tensor([[0.0, 0, 0.5]]))
    assert torch.allclose(uv, torch.tensor([[20.0, 15.0]], dtype=torch.float64))
    assert z.item() == pytest.approx(float(np.hypot(3, 0.5)))
    # a point above the target appears higher in the image (smaller v: y down)
    uv_up, _ = cam.project(torch.tensor([[0.0, 0, 1.0]]))
    assert uv_up[0, 1] < 15.0
    depth = torch.full((30, 40), 2.0, dtype=torch.float64)
    depth[0, 0] = float("nan")
    pts, valid = cam.unproject(depth)
    assert not valid[0, 0] and valid.sum() == 30 * 40 - 1
    uv2, z2 = cam.project(pts[valid])
    assert torch.allclose(uv2, cam.pixel_grid()[valid], atol=1e-9)
    assert torch.allclose(z2, torch.full_like(z2, 2.0))


def test_camera_validation():
    K = PinholeCamera.intrinsics(60, 32, 24)
    with pytest.raises(ValueError, match="rotation"):
        PinholeCamera(K, torch.diag(torch.tensor([1.0, 1, -1, 1])), 32, 24)
    with pytest.raises(ValueError, match="focal"):
        PinholeCamera(torch.diag(torch.tensor([-1.0, 1, 1])), torch.eye(4), 32, 24)
    with pytest.raises(ValueError, match="width"):
        PinholeCamera(K, torch.eye(4), 0, 24)
    with pytest.raises(ValueError, match="up"):
        PinholeCamera.look_at([0, 0, 0], [0, 0, 1], up=[0, 0, 1])
    with pytest.raises(ValueError, match="depth"):
        PinholeCamera(K, torch.eye(4), 32, 24).unproject(torch.ones(3, 3))


def test_camera_crop_gives_the_window_rays():
    cam = PinholeCamera.look_at([0.3, -1, 2], [0, 0, 0], up=(0, 0, 1), width=40, height=30)
    _, d = cam.rays()
    _, d_crop = cam.crop(5, 7, 10, 20).rays()
    assert torch.allclose(d_crop, d[5:15, 7:27], atol=1e-12)
    with pytest.raises(ValueError, match="crop"):
        cam.crop(25, 0, 10, 5)


def test_ray_bundle_packs_rays_in_float32():
    cam = PinholeCamera.look_at([0.3, -1, 2], [0, 0, 0], up=(0, 0, 1), width=40, height=30)
    o, d = cam.rays()
    bundle = cam.ray_bundle()
    assert bundle.dtype == np.float32 and bundle.shape == (30, 40, 6)
    assert np.allclose(bundle[..., :3], o.numpy(), atol=1e-6)
    assert np.allclose(bundle[..., 3:], d.numpy(), rtol=1e-6, atol=1e-6)
