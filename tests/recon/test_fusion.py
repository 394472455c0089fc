"""TSDF fusion (geodl.recon.fusion): pixel convention, box room, colours, export, errors."""
import math

import numpy as np
import pytest
import torch

from geodl.recon import DepthFrame, TSDFVolume, evaluate_reconstruction, fuse_tsdf, save_mesh
from geodl.render import Renderer, Scene, checker
from geodl.structures import Mesh, PinholeCamera

W = H = 96


def _camera(eye=(0.0, 0.0, 0.0), target=(0.0, 0.0, 1.0), up=(0.0, -1.0, 0.0), K=None):
    return PinholeCamera.look_at(eye, target, up, K=K, fov_deg=60, width=W, height=H)


def _plane_depth(cam: PinholeCamera, normal, offset) -> torch.Tensor:
    """z-depth at every pixel centre of the camera-frame plane ``n . x = offset``
    (an independent ray-plane intersection, not the renderer)."""
    n = torch.tensor(normal, dtype=torch.float64)
    grid = cam.pixel_grid()
    rays = torch.cat([grid, torch.ones(H, W, 1, dtype=torch.float64)], -1) \
        @ torch.linalg.inv(cam.K).T  # camera-frame directions with z = 1
    return offset / (rays @ n)  # ray parameter t = z-depth


def test_fronto_parallel_plane_at_its_depth_and_place():
    cam = _camera()
    Z, voxel = 1.503, 0.01
    depth = torch.full((H, W), Z, dtype=torch.float64)
    depth[:, W // 2:] = torch.nan  # only the left half: its edge is the plane x = 0
    mesh = fuse_tsdf([DepthFrame(cam, depth)], voxel_size=voxel)
    v = mesh.verts64.numpy()
    # depth: every vertex on the plane, far below a voxel
    assert np.abs(v[:, 2] - Z).max() < 0.01 * voxel
    # lateral: the surface ends at the last voxel column whose projection falls
    # in a valid pixel: within one voxel inside the edge, never beyond it
    assert -voxel - 1e-6 <= v[:, 0].max() <= 1e-6
    half_width = Z * math.tan(math.radians(30))
    assert v[:, 0].min() < -half_width + 2 * voxel


def _slanted_plane_bias(K_shift: float) -> float:
    """Mean signed distance of the fused surface to a plane tilted 60 degrees
    about the camera's y axis, its depth made at our pixel centres and fused
    with the principal point moved by ``K_shift`` px."""
    cam = _camera()
    n = np.array([math.sin(math.radians(60)), 0.0, -math.cos(math.radians(60))])
    offset = -1.5 * math.cos(math.radians(60))  # passes through (0, 0, 1.5)
    depth = _plane_depth(cam, n, offset)
    K = cam.K.clone()
    K[0, 2] += K_shift
    shifted = PinholeCamera(K, cam.extrinsic, W, H)
    mesh = fuse_tsdf([DepthFrame(shifted, depth)], voxel_size=0.005)
    v = mesh.verts64.numpy()
    inner = np.abs(v[:, 0]) < 0.3  # away from the image border
    return float((v[inner] @ n - offset).mean())


def test_open3d_integration_reads_our_pixel_centres():
    # Moving the principal point by s px moves the fused steep plane by about
    # s * z / f * (a few): measured at -0.5, 0 and +0.5 px, the surface is
    # linear in s and the s at which it is unbiased is the convention's
    # offset: 0 (within 0.1 px; the residual comes from nearest-pixel reads
    # of a depth that is not linear in u). Rounding to integer pixel
    # centres would put it at 0.5.
    minus, ours, plus = (_slanted_plane_bias(s) for s in (-0.5, 0.0, 0.5))
    per_px = plus - minus
    assert abs(per_px) > 0.01  # the test is sensitive: > 1 cm per pixel
    assert abs(ours / per_px) < 0.1, (minus, ours, plus)
    assert abs(0.5 * (plus + minus) - ours) < 0.1 * abs(per_px)  # linear


ROOM_TEXTURE = checker((0.9, 0.2, 0.2), (0.2, 0.2, 0.9), 0.5)


def _box_room():
    scene = Scene()
    import trimesh

    room = trimesh.creation.box(extents=(4.0, 3.0, 2.5))
    room.apply_translation((0.1, 0.13, 1.32))
    scene.add(Mesh.from_trimesh(room), ROOM_TEXTURE, "room")
    return scene


def _room_cameras(n=6, size=128):
    cams = []
    for k in range(n):
        a = 2 * math.pi * k / n
        target = (1.5 * math.cos(a), 1.2 * math.sin(a), 0.6 + 0.4 * (k % 2))
        cams.append(PinholeCamera.look_at((0.1 * math.cos(a), 0.1 * math.sin(a), 1.3), target,
                                          fov_deg=90, width=size, height=size))
    return cams


def test_box_room_from_ground_truth_depth():
    scene = _box_room()
    renderer = Renderer(scene)
    cams = _room_cameras()
    frames = []
    for cam in cams:
        r = renderer.render(cam)
        frames.append(DepthFrame(cam, r.depth, r.color))
    mesh = fuse_tsdf(frames, voxel_size=0.04)
    assert mesh.colors is not None and mesh.colors.shape == (mesh.num_verts, 3)
    m = evaluate_reconstruction(mesh, scene.to_mesh(), cams, threshold=0.05, samples=20000)
    assert m.fscore > 0.95, m
    assert m.accuracy < 0.02 and m.completeness < 0.03, m
    # colours: vertices on the checker's red squares are redder than blue, and
    # the other way round (square edges, where colours mix, are the exceptions);
    # the squares from the room's own texture at the vertices and their normals
    import trimesh

    c, v = mesh.colors.numpy(), mesh.verts64.numpy()
    normals = trimesh.Trimesh(v, mesh.faces.numpy(), process=False).vertex_normals
    expected = ROOM_TEXTURE(v, np.asarray(normals))
    red_square = expected[:, 0] > expected[:, 2]
    assert ((c[:, 0] > c[:, 2]) == red_square).mean() > 0.9


def test_nan_and_masked_pixels_are_not_fused():
    cam = _camera()
    depth = torch.full((H, W), 2.0, dtype=torch.float64)
    depth[:, :W // 2] = torch.nan
    mask = torch.ones(H, W, dtype=torch.bool)
    mask[: H // 2] = False
    mesh = fuse_tsdf([DepthFrame(cam, depth, mask=mask)], voxel_size=0.02)
    uv, _ = cam.project(mesh.verts64)
    assert (uv[:, 0] > W // 2 - 2).all() and (uv[:, 1] > H // 2 - 2).all()


def test_min_weight_and_cleaning():
    cam = _camera()
    depth = torch.full((H, W), 2.0, dtype=torch.float64)
    depth[40:43, 10:13] = 1.0  # a small floater in front of the wall
    vol = TSDFVolume(voxel_size=0.02)
    vol.integrate(DepthFrame(cam, depth))
    kept = vol.extract_mesh()
    cleaned = vol.extract_mesh(min_component_area=0.04)
    assert (kept.verts64[:, 2] < 1.5).any() and not (cleaned.verts64[:, 2] < 1.5).any()
    with pytest.raises(ValueError, match="min_weight"):
        vol.extract_mesh(min_weight=0)
    # seen once: gone when two observations are required
    with pytest.raises(ValueError, match="no surface"):
        vol.extract_mesh(min_weight=2)
    vol.integrate(DepthFrame(cam, depth))
    assert vol.extract_mesh(min_weight=2).num_faces > 0
    outliers = vol.extract_mesh(outlier_neighbours=10)
    assert 0 < outliers.num_verts <= kept.num_verts
    with pytest.raises(ValueError, match="min_component_area"):
        vol.extract_mesh(min_component_area=-1)


@pytest.mark.parametrize("suffix", [".ply", ".obj", ".glb"])
def test_export_keeps_vertex_colours(tmp_path, suffix):
    cam = _camera()
    depth = torch.full((H, W), 2.0, dtype=torch.float64)
    color = torch.zeros(3, H, W)
    color[1] = 0.8
    mesh = fuse_tsdf([DepthFrame(cam, depth, color)], voxel_size=0.04)
    path = save_mesh(mesh, tmp_path / f"room{suffix}")
    back = Mesh.load(path)
    assert back.num_faces == mesh.num_faces
    assert torch.allclose(back.verts64, mesh.verts64, atol=1e-5)
    assert back.colors is not None
    assert torch.allclose(back.colors, mesh.colors.double(), atol=1 / 255)
    with pytest.raises(ValueError, match="exists"):
        save_mesh(mesh, path)
    save_mesh(mesh, path, overwrite=True)


def test_bad_input():
    cam = _camera()
    good = torch.full((H, W), 2.0)
    with pytest.raises(ValueError, match="depth"):
        DepthFrame(cam, torch.ones(H, W + 1))
    with pytest.raises(ValueError, match="depth"):
        DepthFrame(cam, torch.ones(H, W, dtype=torch.int64))
    with pytest.raises(ValueError, match="color"):
        DepthFrame(cam, good, torch.ones(3, H, W) * 2)
    with pytest.raises(ValueError, match="mask"):
        DepthFrame(cam, good, mask=torch.ones(H, W))
    with pytest.raises(TypeError, match="camera"):
        DepthFrame("cam", good)
    with pytest.raises(ValueError, match="frames"):
        fuse_tsdf([])
    with pytest.raises(TypeError, match="frames"):
        fuse_tsdf([good])
    with pytest.raises(ValueError, match="voxel_size"):
        fuse_tsdf([DepthFrame(cam, good)], voxel_size=0)
    with pytest.raises(ValueError, match="sdf_trunc"):
        fuse_tsdf([DepthFrame(cam, good)], voxel_size=0.02, sdf_trunc=0.001)
    with pytest.raises(ValueError, match="device"):
        fuse_tsdf([DepthFrame(cam, good)], device="TPU:0")
    with pytest.raises(ValueError, match="no surface"):
        fuse_tsdf([DepthFrame(cam, torch.full((H, W), torch.nan))])
    with pytest.raises(ValueError, match="path"):
        save_mesh(Mesh.grid(2, 2), "room.stl")
