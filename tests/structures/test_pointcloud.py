import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geodl._optional import open3d
from geodl.structures import LightField, PinholeCamera, PointCloud


def _sphere_cloud(n=2000, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return p / p.norm(dim=1, keepdim=True)


def test_pointcloud_validation():
    with pytest.raises(ValueError, match="colors: expected 4 rows"):
        PointCloud(torch.rand(4, 3), colors=torch.rand(3, 3))
    with pytest.raises(ValueError, match=r"colors: expected RGB values in \[0, 1\]"):
        PointCloud(torch.rand(2, 3), colors=torch.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="points"):
        PointCloud(torch.rand(4, 4))


def test_pointcloud_open3d_trimesh_and_ply(tmp_path):
    g = torch.Generator().manual_seed(0)
    pc = PointCloud(torch.rand(50, 3, generator=g, dtype=torch.float64),
                    colors=torch.rand(50, 3, generator=g, dtype=torch.float64),
                    normals=_sphere_cloud(50))
    back = PointCloud.from_open3d(pc.to_open3d())
    assert torch.allclose(back.points, pc.points) and torch.allclose(back.colors, pc.colors)
    pc.save(tmp_path / "c.ply")
    loaded = PointCloud.load(tmp_path / "c.ply")
    assert torch.allclose(loaded.points, pc.points, atol=1e-6)
    assert torch.allclose(loaded.normals, pc.normals, atol=1e-6)
    tm = PointCloud.from_trimesh(pc.to_trimesh())
    assert torch.allclose(tm.points, pc.points)
    assert torch.allclose(tm.colors, pc.colors, atol=1 / 255)


def test_voxel_downsample_averages_each_voxel():
    g = torch.Generator().manual_seed(0)
    p = torch.rand(500, 3, generator=g, dtype=torch.float64)
    out = PointCloud(p).voxel_downsample(0.25)
    # independent: average of the points falling in each occupied voxel
    # (open3d's voxel grid starts half a voxel below the cloud's minimum corner)
    key = torch.floor((p - p.min(0).values + 0.125) / 0.25).long()
    uniq, inv = torch.unique(key, dim=0, return_inverse=True)
    means = torch.zeros(len(uniq), 3, dtype=torch.float64).index_add_(0, inv, p)
    means /= torch.bincount(inv)[:, None]
    a = np.sort(np.round(out.points.numpy(), 9).view("f8,f8,f8"), axis=0)
    b = np.sort(np.round(means.numpy(), 9).view("f8,f8,f8"), axis=0)
    assert len(out) == len(uniq) and np.array_equal(a, b)


def test_normals_on_sphere_point_outwards():
    pc = PointCloud(_sphere_cloud(1500)).estimate_normals(k=20, orient_towards=[0, 0, 0])
    # oriented towards the centre: normals = -positions
    assert float((pc.normals * pc.points).sum(1).max()) < -0.97


def test_pointcloud_laplacian_spectrum_on_sphere():
    """Random samples of the unit sphere: eigenvalues 0, 2 (x3), 6 (x5).
    Measured with 3000 points: within 1 % (l = 1) and 1.5 % (l = 2)."""
    evals, _ = PointCloud(_sphere_cloud(3000)).eigen(9)
    assert abs(float(evals[0])) < 1e-6
    assert torch.allclose(evals[1:4], torch.full((3,), 2.0, dtype=torch.float64), rtol=0.02)
    assert torch.allclose(evals[4:9], torch.full((5,), 6.0, dtype=torch.float64), rtol=0.03)


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


@given(arrays(np.float64, st.tuples(st.integers(0, 5), st.integers(0, 4)),
              elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_fuzz_pointcloud_and_camera(arr):
    try:
        pc = PointCloud(arr)
        assert torch.isfinite(pc.points).all()
    except (ValueError, TypeError):
        pass
    try:
        cam = PinholeCamera(arr[:3, :3] if arr.ndim == 2 else arr, np.eye(4), 4, 4)
        assert torch.isfinite(cam.K).all()
    except (ValueError, TypeError):
        pass


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


@pytest.mark.parametrize("k", [0, -1, 1, 2, 2.5, "5", None, True])
def test_estimate_normals_rejects_bad_k_before_open3d(k):
    """Open3D kills the process on k = 0: the argument is checked first."""
    with pytest.raises(ValueError, match="k"):
        PointCloud(_sphere_cloud(50)).estimate_normals(k)


@pytest.mark.parametrize("where", [[0, 0], [0, 0, float("nan")], "origin", [[0, 0, 0]]])
def test_estimate_normals_rejects_bad_camera_location(where):
    with pytest.raises(ValueError, match="orient_towards"):
        PointCloud(_sphere_cloud(50)).estimate_normals(5, orient_towards=where)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_estimate_normals_needs_three_points(n):
    with pytest.raises(ValueError, match="points"):
        PointCloud(_sphere_cloud(50)[:n]).estimate_normals(3)


@pytest.mark.parametrize("size", [0.0, -0.1, float("nan"), float("inf"), 1e-12])
def test_voxel_downsample_rejects_bad_sizes_before_open3d(size):
    pc = PointCloud(_sphere_cloud(50) * 1e3)
    with pytest.raises(ValueError, match="voxel_size"):
        pc.voxel_downsample(size)


def test_estimate_normals_small_valid_k_still_works():
    pc = PointCloud(_sphere_cloud(200)).estimate_normals(3, orient_towards=[0, 0, 0])
    assert torch.allclose(pc.normals.norm(dim=1), torch.ones(200, dtype=torch.float64))


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


def test_estimate_normals_turns_open3d_orientation_failure_into_a_value_error():
    """Qhull (inside Open3D's consistent orientation) refuses exactly
    cospherical input: a ValueError naming the way out, not a RuntimeError."""
    from geodl.structures import Mesh

    R = torch.tensor([[0.36, 0.48, -0.8], [-0.8, 0.6, 0.0], [0.48, 0.64, 0.6]],
                     dtype=torch.float64)
    pts = Mesh.icosphere(2).verts64 @ R.T + 1.5
    try:
        pc = PointCloud(pts).estimate_normals(12)
    except ValueError as err:
        assert "orient_towards" in str(err)
    else:  # where Qhull copes, the normals must at least be unit and radial
        radial = (pts - 1.5) / (pts - 1.5).norm(dim=1, keepdim=True)
        assert ((pc.normals * radial).sum(1).abs() > 0.9).all()
