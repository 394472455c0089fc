"""RGB-D sequences: the 7-Scenes and TUM readers on tiny hand-made folders
(a pose, a depth value, a pixel), TUM's timestamp association against a
literal port of associate.py, refused input, layout detection, fusion of
rendered sensor frames, the structured-light model, the CLI."""
import math
import re

import numpy as np
import pytest
import torch
from PIL import Image

from geodl.cli import main
from geodl.recon import evaluate_reconstruction, load_captures, reconstruct_room
from geodl.recon.captures import detect_capture_kind
from geodl.recon.posed_fusion import color_in_depth_camera, fuse_posed_depth
from geodl.recon.rgbd_readers import (
    associate_timestamps,
    read_7scenes,
    read_tum,
    write_7scenes,
)
from geodl.render import Renderer, Scene, checker
from geodl.render.sensor import StructuredLightSensor
from geodl.structures import Mesh, PinholeCamera, PosedImages

K = np.array([[100.0, 0, 3.0], [0, 110.0, 2.0], [0, 0, 1]])
# camera-to-world: 90 degrees about z (camera x -> world y), centre (1, 2, 3)
POSE = np.array([[0.0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]])


def _seven_scenes(folder, frames=2, depth_size=(6, 4), color_size=(6, 4), jpg=False):
    folder.mkdir(parents=True, exist_ok=True)
    np.savetxt(folder / "camera-intrinsics.txt", K)
    for k in range(frames):
        depth = np.full(depth_size[::-1], 2000 + k, np.uint16)
        depth[1, 2] = 1500
        depth[0, 0] = 0
        depth[0, 1] = 65535  # 7-Scenes' "no depth"
        Image.fromarray(depth).save(folder / f"frame-{k:06d}.depth.png")
        rgb = np.zeros((*color_size[::-1], 3), np.uint8)
        rgb[1, 2] = (200, 100, 50)
        Image.fromarray(rgb).save(folder / f"frame-{k:06d}.color.{'jpg' if jpg else 'png'}")
        pose = POSE.copy()
        pose[0, 3] += k
        np.savetxt(folder / f"frame-{k:06d}.pose.txt", pose)
    return folder


def test_7scenes_reads_pose_depth_and_pixel(tmp_path):
    f = read_7scenes(_seven_scenes(tmp_path / "seq"))
    assert isinstance(f, PosedImages) and len(f) == 2 and f.depth_cameras is None
    assert f.names == ["frame-000000", "frame-000001"] and f.meta["layout"] == "7scenes"
    assert float(f.depth[0, 1, 2]) == pytest.approx(1.5)
    assert float(f.depth[1, 3, 5]) == pytest.approx(2.001)
    assert float(f.depth[0, 0, 0]) == 0 and float(f.depth[0, 0, 1]) == 0  # 0 and 65535: none
    assert torch.allclose(f.images[0, :, 1, 2] * 255, torch.tensor([200.0, 100, 50]), atol=1e-3)
    cam = f.cameras[1]
    expected = POSE.copy()
    expected[0, 3] += 1  # frame 1 was written one metre further along x
    assert torch.allclose(cam.cam_to_world, torch.from_numpy(expected))
    assert torch.allclose(cam.K, torch.from_numpy(K))
    # camera x is world y: a point 1 m ahead and 0.1 m right of the camera
    uv, z = cam.project(torch.tensor([[2.0, 2.1, 4.0]], dtype=torch.float64))
    assert float(z[0]) == pytest.approx(1.0) and float(uv[0, 0]) == pytest.approx(3 + 10)


def test_7scenes_options_stride_depth_max_scale(tmp_path):
    folder = _seven_scenes(tmp_path / "seq", frames=3)
    f = read_7scenes(folder, stride=2, depth_max=1.8, depth_scale=500.0)
    assert f.names == ["frame-000000", "frame-000002"]
    assert float(f.depth[0, 1, 2]) == 0.0  # 3 m at scale 500: beyond 1.8 m
    f = read_7scenes(folder, depth_scale=500.0, intrinsics=(50, 60, 3, 2))
    assert float(f.depth[0, 1, 2]) == pytest.approx(3.0) and float(f.cameras[0].K[1, 1]) == 60


def test_7scenes_depth_and_colour_of_different_sizes(tmp_path):
    f = read_7scenes(_seven_scenes(tmp_path / "seq", depth_size=(6, 4), color_size=(12, 8),
                                   jpg=True))
    assert f.image_size == (8, 12) and tuple(f.depth.shape) == (2, 4, 6)
    assert torch.allclose(f.depth_camera(0).K, torch.from_numpy(K))
    assert torch.allclose(f.cameras[0].K[:2], torch.from_numpy(K[:2] * 2))
    # a depth pixel's 3-D point lands on the matching colour pixel (same field of view)
    pts, _ = f.depth_camera(0).unproject(f.depth[0].double().clamp(min=1))
    uv, _ = f.cameras[0].project(pts[1, 2][None])
    assert torch.allclose(uv[0], torch.tensor([5.0, 3.0], dtype=torch.float64))


@pytest.mark.parametrize("damage, match", [
    (lambda d: (d / "frame-000001.depth.png").unlink(), r"frame-000001\.depth\.png: missing"),
    (lambda d: (d / "frame-000000.color.png").unlink(), r"frame-000000\.color\.png.*missing"),
    (lambda d: (d / "camera-intrinsics.txt").unlink(), r"camera-intrinsics\.txt: missing"),
    (lambda d: np.savetxt(d / "frame-000001.pose.txt", np.diag([1.0, 2, 1, 1])),
     r"frame-000001\.pose\.txt: not a rigid transform"),
    (lambda d: np.savetxt(d / "frame-000001.pose.txt", np.diag([1.0, 1, -1, 1])),
     r"frame-000001\.pose\.txt: not a rigid transform"),
    (lambda d: (d / "frame-000001.pose.txt").write_text("1 2 3\n"), r"frame-000001\.pose\.txt"),
    (lambda d: Image.fromarray(np.zeros((5, 6), np.uint16)).save(d / "frame-000001.depth.png"),
     r"frame-000001\.depth\.png: size 6x5 differs"),
    (lambda d: Image.fromarray(np.zeros((4, 6), np.uint8)).save(d / "frame-000001.depth.png"),
     r"frame-000001\.depth\.png: expected a single-channel 16-bit"),
    (lambda d: (d / "frame-000001.color.png").write_bytes(b"not a png"),
     r"frame-000001\.color\.png"),
])
def test_7scenes_bad_folders_raise_one_line_naming_the_file(tmp_path, damage, match):
    folder = _seven_scenes(tmp_path / "seq")
    damage(folder)
    with pytest.raises(ValueError, match=match) as err:
        read_7scenes(folder)
    assert "\n" not in str(err.value)


def test_the_first_bad_frame_in_order_is_reported(tmp_path):
    """Frames are decoded on threads; of two bad frames the earlier one is
    named, whichever thread finishes first (the later one fails fast: not a PNG)."""
    folder = _seven_scenes(tmp_path / "seq", frames=4)
    Image.fromarray(np.zeros((5, 6), np.uint16)).save(folder / "frame-000001.depth.png")
    (folder / "frame-000003.color.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"frame-000001\.depth\.png: size 6x5 differs"):
        read_7scenes(folder)


def test_a_slightly_off_rotation_is_reorthonormalised(tmp_path):
    folder = _seven_scenes(tmp_path / "seq", frames=1)
    pose = POSE.copy()
    pose[:3, :3] += 2e-4  # text poses of tracked data are off by about this much
    np.savetxt(folder / "frame-000000.pose.txt", pose)
    R = read_7scenes(folder).cameras[0].R
    assert torch.allclose(R @ R.T, torch.eye(3, dtype=torch.float64), atol=1e-12)


def test_write_7scenes_round_trip(tmp_path):
    f = read_7scenes(_seven_scenes(tmp_path / "seq"))
    out = write_7scenes(tmp_path / "copy", f)
    g = read_7scenes(out)
    assert torch.equal(g.depth, f.depth) and torch.allclose(g.images, f.images)
    assert all(torch.allclose(a.extrinsic, b.extrinsic) for a, b in zip(f.cameras, g.cameras))
    with pytest.raises(FileExistsError):
        write_7scenes(out, f)


# ----------------------------------------------------------------------- TUM
def associate_py(first: dict, second: dict, offset: float, max_difference: float):
    """TUM's associate.py ``associate``, as published (Sturm et al.)."""
    first_keys = list(first.keys())
    second_keys = list(second.keys())
    potential_matches = [(abs(a - (b + offset)), a, b) for a in first_keys for b in second_keys
                         if abs(a - (b + offset)) < max_difference]
    potential_matches.sort()
    matches = []
    for diff, a, b in potential_matches:
        if a in first_keys and b in second_keys:
            first_keys.remove(a)
            second_keys.remove(b)
            matches.append((a, b))
    matches.sort()
    return matches


@pytest.mark.parametrize("seed", range(5))
def test_association_is_tums(seed):
    rng = np.random.default_rng(seed)
    a = np.sort(rng.uniform(0, 3, 60).round(3))
    b = rng.uniform(0, 3, 90).round(3)  # unsorted, dense: many contested candidates
    a, b = np.unique(a), np.unique(b)
    rng.shuffle(b)
    ours = [(float(a[i]), float(b[j])) for i, j in associate_timestamps(a, b, 0.02, 0.005)]
    theirs = associate_py({float(v): 0 for v in a}, {float(v): 0 for v in b}, 0.005, 0.02)
    assert ours == theirs and len(ours) > 20


def test_association_by_hand():
    # 1.00 is nearest to 1.005 and 1.012; greedy by difference: (1.00, 1.005) first,
    # then 1.01 takes 1.012; 1.05 has nothing within 0.02
    pairs = associate_timestamps([1.00, 1.01, 1.05], [1.012, 1.005, 1.5])
    assert pairs == [(0, 1), (1, 0)]


#: (qx, qy, qz, qw) of 90 degrees about z
QUARTER_TURN_Z = (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))


def _tum(folder, quaternion=QUARTER_TURN_Z, size=(640, 480)):
    """A TUM sequence of ``size`` (width, height) frames: TUM's own 640 x 480,
    the size its published calibrations (the folder-name presets) describe."""
    (folder / "rgb").mkdir(parents=True)
    (folder / "depth").mkdir()
    rgb_t, depth_t, gt_t = [10.000, 10.033, 10.066], [10.003, 10.040, 10.200], \
        [9.99, 10.001, 10.031, 10.5]
    for k, t in enumerate(rgb_t):
        img = np.zeros((size[1], size[0], 3), np.uint8)
        img[1, 2] = (10 * k, 20, 30)
        Image.fromarray(img).save(folder / "rgb" / f"{t:.6f}.png")
    for k, t in enumerate(depth_t):
        Image.fromarray(np.full((size[1], size[0]), 5000 * (k + 1), np.uint16)).save(
            folder / "depth" / f"{t:.6f}.png")
    (folder / "rgb.txt").write_text("# color images\n# file\n# timestamp filename\n" + "".join(
        f"{t:.6f} rgb/{t:.6f}.png\n" for t in rgb_t))
    (folder / "depth.txt").write_text("# depth\n" + "".join(
        f"{t:.6f} depth/{t:.6f}.png\n" for t in depth_t))
    qx, qy, qz, qw = quaternion
    (folder / "groundtruth.txt").write_text("# timestamp tx ty tz qx qy qz qw\n" + "".join(
        f"{t:.4f} {k} 2.0 3.0 {qx} {qy} {qz} {qw}\n" for k, t in enumerate(gt_t)))
    return folder


def test_tum_associates_and_reads(tmp_path):
    folder = _tum(tmp_path / "rgbd_dataset_freiburg3_test")
    f = read_tum(folder)
    # rgb 10.000 -> depth 10.003 -> pose 10.001 (x = 1); rgb 10.033 -> depth 10.040 -> pose
    # 10.031 (x = 2); rgb 10.066 has no depth within 0.02 s
    assert f.names == ["10.000000", "10.033000"] and f.meta["unmatched"] == 1
    assert float(f.depth[0, 0, 0]) == pytest.approx(1.0) and float(f.depth[1, 0, 0]) == 2.0
    assert torch.allclose(f.images[1, :, 1, 2] * 255, torch.tensor([10.0, 20, 30]), atol=1e-3)
    c2w = f.cameras[1].cam_to_world
    assert torch.allclose(c2w[:3, 3], torch.tensor([2.0, 2, 3], dtype=torch.float64))
    # qz = sin 45, qw = cos 45: 90 degrees about z, camera x -> world y
    assert torch.allclose(c2w[:3, 0], torch.tensor([0.0, 1, 0], dtype=torch.float64),
                          atol=1e-12)
    assert torch.allclose(f.cameras[0].K[0], torch.tensor([535.4, 0, 320.1],
                                                          dtype=torch.float64))
    assert "freiburg3" in f.meta["intrinsics_source"]


def test_tum_refuses_a_non_unit_quaternion_and_missing_intrinsics(tmp_path):
    with pytest.raises(ValueError, match=r"groundtruth\.txt.*not a rigid transform.*norm"):
        read_tum(_tum(tmp_path / "rgbd_dataset_freiburg1_x", (0, 0, 0.5, 0.5)))
    with pytest.raises(ValueError, match=r"without intrinsics.*freiburg1"):
        read_tum(_tum(tmp_path / "my_scan"))
    assert len(read_tum(tmp_path / "my_scan", intrinsics="tum_default")) == 2


@pytest.mark.parametrize("damage, match", [
    (lambda d: (d / "rgb" / "10.033000.png").unlink(),
     r"rgb/10\.033000\.png: missing \(listed in .*rgb\.txt\)"),
    (lambda d: (d / "depth" / "10.003000.png").unlink(),
     r"depth/10\.003000\.png: missing \(listed in .*depth\.txt\)"),
    (lambda d: (d / "groundtruth.txt").write_text(
        (d / "groundtruth.txt").read_text().replace(" 2.0 3.0 ", " 2.0 abc ")),
     r"groundtruth\.txt \(stamp 10\.001000\): expected 7 numbers.*abc"),
    (lambda d: (d / "rgb.txt").write_text(
        (d / "rgb.txt").read_text().replace("10.033000 rgb", "nan rgb")),
     r"rgb\.txt:5: bad timestamp 'nan'"),
])
def test_tum_bad_folders_raise_one_line_naming_the_file(tmp_path, damage, match):
    folder = _tum(tmp_path / "rgbd_dataset_freiburg1_x")
    damage(folder)
    with pytest.raises(ValueError, match=match) as err:
        read_tum(folder)
    assert "\n" not in str(err.value)


def test_presets_are_refused_for_frames_of_another_size(tmp_path):
    """The presets calibrate 640 x 480 frames: for resized frames their K is
    wrong by the scale, so they are refused rather than used."""
    small = _tum(tmp_path / "rgbd_dataset_freiburg1_small", size=(320, 240))
    with pytest.raises(ValueError, match=r"10\.003000\.png: 320x240 px, but the intrinsics "
                       r"preset 'freiburg1' calibrates 640x480"):
        read_tum(small)
    with pytest.raises(ValueError, match=r"preset 'tum_default'"):
        read_tum(small, intrinsics="tum_default")
    assert len(read_tum(small, intrinsics=(258.65, 258.25, 159.3, 127.65))) == 2
    seven = _seven_scenes(tmp_path / "seq")
    with pytest.raises(ValueError, match=r"frame-000000\.depth\.png: 6x4 px, but the "
                       r"intrinsics preset '7scenes'"):
        read_7scenes(seven, intrinsics="7scenes")
    with pytest.raises(ValueError, match=r"frame-000000\.color\.png: 6x4 px, but the "
                       r"color_intrinsics preset '7scenes'"):
        read_7scenes(seven, color_intrinsics="7scenes")
    assert len(read_tum(_tum(tmp_path / "rgbd_dataset_freiburg2_full"))) == 2  # 640 x 480


def test_bad_intrinsics_are_refused_in_one_line(tmp_path):
    folder = _seven_scenes(tmp_path / "seq")
    np.savetxt(folder / "camera-intrinsics.txt", np.array([[np.nan, 0, 3], [0, 1, 2], [0, 0, 1]]))
    with pytest.raises(ValueError, match=r"camera-intrinsics\.txt: expected .*nan") as err:
        read_7scenes(folder)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"^intrinsics: expected .*\['a', 'b', 'c', 'd'\]"):
        read_7scenes(folder, intrinsics=["a", "b", "c", "d"])


def test_load_captures_detects_each_layout(tmp_path):
    seven = _seven_scenes(tmp_path / "seq")
    tum = _tum(tmp_path / "rgbd_dataset_freiburg2_x")
    assert detect_capture_kind(seven) == "7scenes" and detect_capture_kind(tum) == "tum"
    assert load_captures(seven).meta["layout"] == "7scenes"
    assert load_captures(tum, depth_max=1.5).depth[1].max() == 0
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no captures in .*7-Scenes"):
        load_captures(tmp_path / "empty")
    _tum(tmp_path / "seq2")
    _seven_scenes(tmp_path / "seq2")
    with pytest.raises(ValueError, match="several layouts.*kind="):
        load_captures(tmp_path / "seq2")
    assert load_captures(tmp_path / "seq2", kind="tum", intrinsics="tum_default").meta[
        "layout"] == "tum"
    with pytest.raises(ValueError, match="kind: expected one of"):
        load_captures(seven, kind="kinect")


# -------------------------------------------------------------------- fusion
def _box_scene() -> Scene:
    """A 2 m cube seen from inside (walls, floor, ceiling), checkered."""
    import trimesh

    box = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    scene = Scene()
    scene.add(Mesh.from_trimesh(box), checker((0.9, 0.8, 0.7), (0.2, 0.3, 0.5), 0.25), "box")
    return scene


def _scan(scene, sensor=None, n=8, size=(64, 48)):
    renderer = Renderer(scene)
    cams, images, depth = [], [], []
    for k in range(n):
        a = 2 * math.pi * k / n
        cam = PinholeCamera.look_at([0.2 * math.cos(a), 0.2 * math.sin(a), 0.1],
                                    [math.cos(a), math.sin(a), -0.2], up=(0, 0, 1),
                                    width=size[0], height=size[1], fov_deg=80)
        r = renderer.render(cam)
        cams.append(cam)
        images.append(r.color)
        depth.append(r.depth.float() if sensor is None else
                     sensor.measure(renderer, cam, r, np.random.default_rng(k)))
    return PosedImages(torch.stack(images), cams, torch.stack(depth))


def test_fusion_of_rendered_sensor_frames_recovers_the_room():
    scene = _box_scene()
    frames = _scan(scene, StructuredLightSensor(min_depth=0.1))
    assert 0.8 < float((frames.depth > 0).float().mean()) < 1.0  # holes, not all
    res = fuse_posed_depth(frames, voxel_size=0.02)
    m = evaluate_reconstruction(res.mesh, scene.to_mesh(), frames.cameras, threshold=0.05)
    assert m.fscore > 0.95 and m.accuracy < 0.01, m
    # the same through reconstruct_room, which picks the sensor's depth and a voxel itself
    auto = reconstruct_room(frames, progress=False)
    assert auto.meta["method"] == "sensor"
    assert auto.meta["voxel_size"] == pytest.approx(float(
        frames.depth[:, ::4, ::4][frames.depth[:, ::4, ::4] > 0].median()) / 128)


def test_fusion_with_colour_of_its_own_size_and_pose():
    scene = _box_scene()
    small = _scan(scene, size=(32, 24))
    big = _scan(scene, size=(64, 48))
    # depth at 32 x 24, colour at 64 x 48 with the same poses: Open3D's two intrinsics
    frames = PosedImages(big.images, big.cameras, small.depth, small.cameras)
    res = fuse_posed_depth(frames, voxel_size=0.04)
    ref = fuse_posed_depth(big, voxel_size=0.04)
    assert abs(float(res.mesh.colors.mean()) - float(ref.mesh.colors.mean())) < 0.03
    # a colour camera elsewhere: colour resampled into the depth camera by projection
    cam, dcam = big.cameras[0], small.cameras[0]
    moved = PinholeCamera(cam.K, cam.extrinsic @ torch.tensor(
        [[1.0, 0, 0, 0.01], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=torch.float64),
        cam.width, cam.height)
    img = torch.zeros(3, 48, 64)
    img[0] = torch.arange(64.0)[None] / 64  # red = colour column / 64
    out = color_in_depth_camera(img, moved, small.depth[0].double(), dcam)
    pts, _ = dcam.unproject(small.depth[0].double())
    uv, _ = moved.project(pts[10, 7][None])
    col = int(uv[0, 0])  # bilinear between pixel centres: within one column
    assert abs(float(out[0, 10, 7]) * 64 - (uv[0, 0] - 0.5)) < 1.0 and 0 <= col < 64


def test_structured_light_noise_grows_with_z_squared_and_shadows_edges():
    sensor = StructuredLightSensor(edge_dropout=0, speckle_dropout=0, min_depth=0.1)
    import trimesh

    scene = Scene()
    wall = trimesh.creation.box(extents=(8.0, 8.0, 0.1))
    wall.apply_translation((0, 0, 4.0))
    block = trimesh.creation.box(extents=(0.5, 3.0, 0.5))
    block.apply_translation((0, 0, 1.5))
    scene.add(Mesh.from_trimesh(wall), checker((1, 1, 1), (0.5, 0.5, 0.5), 1.0), "wall")
    scene.add(Mesh.from_trimesh(block), checker((1, 1, 1), (0.5, 0.5, 0.5), 1.0), "block")
    renderer = Renderer(scene)
    K = torch.tensor([[580.0, 0, 160], [0, 580, 120], [0, 0, 1]], dtype=torch.float64)
    cam = PinholeCamera(K, torch.eye(4, dtype=torch.float64), 320, 240)
    r = renderer.render(cam)
    d = sensor.measure(renderer, cam, r, np.random.default_rng(0))
    z = r.depth.float()
    on_wall = (d > 0) & (z > 3.9)
    on_block = (d > 0) & (z < 1.3)
    err_wall = float((d - z)[on_wall].std())
    err_block = float((d - z)[on_block].std())
    # sigma_z = z^2 sigma_d / (b f) plus quantisation: (3.95 / 1.25)^2 = 10 times larger
    assert 6 < err_wall / err_block < 16, (err_wall, err_block)
    # the projector sits at +x: the wall left of the block is in its shadow, right is not;
    # by hand, the projector's rays graze the block's front-left edge (x = -0.25, z = 1.25)
    # and reach the wall at x = -0.95, the camera sees the wall from x = -0.79 on: 24 px
    row = 120
    cols = torch.nonzero(z[row] < 2).flatten()
    right, left = int(cols.max()) + 1, int(cols.min()) - 1
    assert (d[row, left - 20:left] == 0).all() and (d[row, left - 30:left - 26] > 0).all()
    assert (d[row, right:right + 20] > 0).all()


def test_cli_renders_and_reconstructs_an_rgbd_scan(tmp_path, capsys):
    out = tmp_path / "scan"
    assert main(["render-captures", str(out), "--kind", "rgbd", "--seed", "5", "--frames", "6",
                 "--width", "80", "--height", "60"]) == 0
    assert (out / "frame-000005.depth.png").is_file() and (out / "room_gt.ply").is_file()
    assert main(["reconstruct", str(out), "--out", str(tmp_path / "room.ply"),
                 "--voxel", "0.05"]) == 0
    printed = capsys.readouterr().out
    assert "6 frames (7scenes)" in printed and "sensor" in printed
    f = float(re.search(r"F ([0-9.]+), precision", printed).group(1))
    assert f > 0.8, printed
    with pytest.raises(SystemExit):
        main(["reconstruct", str(out), "--out", str(tmp_path / "room.ply")])
    assert "--force" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reconstruct", str(out), "--out", str(tmp_path / "r2.ply"), "--method",
              "cost_volume"])
    assert "posed images take sensor" in capsys.readouterr().err
