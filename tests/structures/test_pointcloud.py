"""PointCloud: validation (fuzzed, with the camera), file and library round trips,
voxel downsampling, normals and the point-cloud Laplacian."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geodl.structures import PinholeCamera, PointCloud


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
