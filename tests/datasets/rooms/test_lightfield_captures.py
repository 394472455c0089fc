"""Room captures (geodl.datasets.rooms.lightfield_captures) and captures folders
(geodl.recon.captures): placement, poses through parameters.cfg, round trips,
the ground-truth mesh with object ids, errors, determinism."""
import json
import math
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from geodl.cli import main
from geodl.datasets import render_room_captures, write_room_captures
from geodl.lightfield import HCIParameters, load_hci, write_hci_scene
from geodl.recon import load_captures, load_room_ground_truth
from geodl.structures import GroundTruth, LightField, PinholeCamera

SEED = 7  # a training seed: benchmark rooms are for evaluation only
FOV = 72.0
WALLS = ("wall_x-", "wall_x+", "wall_y-", "wall_y+")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("captures") / "room"
    return write_room_captures(out, SEED, captures=4, size=80, grid=3, fov_deg=FOV,
                               progress=False)


def _names(rc):
    return rc.object_names()


def _world_points(camera, depth):
    pts, valid = camera.unproject(depth)
    return pts, valid


def _wall_plane(rc, wall):
    """(axis, coordinate) of the inner face of ``wall``, from the wall's own mesh."""
    verts = next(o.mesh.verts64 for o in rc.room.objects if o.name == wall)
    axis = 0 if wall.startswith("wall_x") else 1
    coord = verts[:, axis].max() if wall.endswith("-") else verts[:, axis].min()
    return axis, float(coord)


def test_captures_stand_at_head_height_inside_the_room_clear_of_furniture(written):
    _, rc = written
    lo = np.array([-3.0, -2.5, 0.0])
    hi = np.array([3.0, 2.5, 3.0])
    assert rc.room_size == (6.0, 5.0, 3.0)
    assert rc.names == [f"capture_{k:02d}" for k in range(4)]
    for lf in rc.captures:
        eye = lf.camera.center.numpy()
        assert 1.4 <= eye[2] <= 1.8
        assert np.all(eye[:2] > lo[:2] + 0.39) and np.all(eye[:2] < hi[:2] - 0.39)
        z = lf.depth[torch.isfinite(lf.depth)]
        assert float(z.min()) > 0.6  # not inside or against furniture
        assert math.isclose(float(lf.camera.K[0, 0]), 40 / math.tan(math.radians(FOV / 2)))
        # HCI-like disparities: about [-3, 3] px over the rendered depths
        d = lf.disparity[torch.isfinite(lf.disparity)]
        assert -3.2 < float(d.min()) < -2.5 and 2.5 < float(d.max()) < 3.2


def test_captures_look_different_ways_overlap_and_cover_walls_and_floor(written):
    _, rc = written
    azimuths = [math.degrees(math.atan2(float(lf.camera.R[2, 1]), float(lf.camera.R[2, 0])))
                for lf in rc.captures]
    for k in range(4):
        for j in range(k):
            gap = abs((azimuths[k] - azimuths[j] + 180) % 360 - 180)
            assert gap > 60, (azimuths, k, j)
    # neighbours overlap: capture k's ground-truth points that capture k+1 sees
    # (inside its image, in front of it, and not occluded there)
    for k in range(4):
        a, b = rc.captures[k], rc.captures[(k + 1) % 4]
        pts, valid = a.camera.unproject(a.depth)
        uv, z = b.camera.project(pts[valid])
        col, row = uv[:, 0].floor().long(), uv[:, 1].floor().long()
        inside = (z > 0) & (col >= 0) & (col < b.width) & (row >= 0) & (row < b.height)
        seen = torch.zeros_like(inside)
        zb = b.depth[row[inside], col[inside]]
        seen[inside] = (zb - z[inside]).abs() < 0.05
        assert seen.float().mean() > 0.1, (k, float(seen.float().mean()))
    # together the captures see every wall and the floor over many pixels
    names = _names(rc)
    pixels = {}
    for lf in rc.captures:
        for oid, n in zip(*lf.meta["object_id"].unique(return_counts=True)):
            if int(oid):
                pixels[names[int(oid)]] = pixels.get(names[int(oid)], 0) + int(n)
    for part in WALLS + ("floor",):
        assert pixels.get(part, 0) > 0.1 * 80 * 80, (part, pixels)


def test_poses_from_parameters_put_two_captures_points_of_one_wall_on_its_plane(written):
    out, rc = written
    loaded = {lf.meta["scene"]: lf for lf in load_captures(out)}
    names = _names(rc)
    checked = 0
    for wall in WALLS:
        axis, plane = _wall_plane(rc, wall)
        oid = next(i for i, n in names.items() if n == wall)
        seen = [(name, rc_lf) for name, rc_lf in zip(rc.names, rc.captures)
                if int((rc_lf.meta["object_id"] == oid).sum()) > 50]
        if len(seen) < 2:
            continue
        clouds = []
        for name, rc_lf in seen[:2]:
            lf = loaded[name]  # pose and depth from the folder; the id mask from the render
            mask = rc_lf.meta["object_id"] == oid
            # away from the wall's edges (pixels straddling a corner)
            mask[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
            pts, valid = lf.camera.unproject(lf.depth)
            clouds.append(pts[mask & valid])
        for pts in clouds:
            assert len(pts) > 20
            assert (pts[:, axis] - plane).abs().max() < 2e-3, (wall, float(
                (pts[:, axis] - plane).abs().max()))
        # two different views of it: the clouds differ but share the plane
        assert not torch.allclose(clouds[0].mean(0), clouds[1].mean(0), atol=0.05)
        checked += 1
    assert checked >= 2


def test_write_load_round_trip_with_a_wide_lens(written):
    out, rc = written
    loaded = load_captures(out)
    index = json.loads((out / "captures.json").read_text())
    assert index["seed"] == SEED and index["room_size"] == [6.0, 5.0, 3.0]
    assert [c["folder"] for c in index["captures"]] == rc.names
    for a, b, entry in zip(rc.captures, loaded, index["captures"]):
        p = b.meta["parameters"]
        assert abs(p.focal_length_mm - 100) > 50  # a wide lens, not the benchmark's
        torch.testing.assert_close(b.camera.K, a.camera.K, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(b.camera.extrinsic, a.camera.extrinsic, rtol=0, atol=1e-12)
        assert b.baseline == pytest.approx(a.baseline, rel=1e-12)
        assert b.focus_distance == pytest.approx(a.focus_distance, rel=1e-12)
        assert b.grid_shape == (3, 3) and (b.height, b.width) == (80, 80)
        torch.testing.assert_close(b.views, (a.views * 255).round() / 255, atol=1e-6, rtol=0)
        torch.testing.assert_close(b.depth, a.depth.float().double(), equal_nan=True)
        d = a.disparity[torch.isfinite(a.disparity)]
        assert (p.disp_min, p.disp_max) == pytest.approx((float(d.min()), float(d.max())))
        assert set(b.ground_truth.masks) >= {"planes", "discontinuities"}
        np.testing.assert_allclose(entry["camera_to_world"], b.camera.cam_to_world.numpy(),
                                   atol=1e-12)
        np.testing.assert_allclose(entry["K"], b.camera.K.numpy())
        assert entry["baseline"] == pytest.approx(b.baseline)
        assert entry["focus_distance"] == pytest.approx(b.focus_distance)
        assert (entry["width"], entry["height"], entry["grid"]) == (80, 80, [3, 3])


@pytest.mark.parametrize("fov, size, angles", [
    (30.0, (48, 32), (0.3, -0.2, 2.0)),
    (83.0, (40, 64), (-1.2, 0.7, -2.9)),
    (110.0, (50, 50), (math.pi / 2, 0.1, 0.5)),  # camera looking straight down or up
])
def test_hci_round_trip_of_any_lens_and_pose(tmp_path, fov, size, angles):
    W, H = size
    rx, ry, rz = angles
    c, s = np.cos([rx, ry, rz]), np.sin([rx, ry, rz])
    Rx = np.array([[1, 0, 0], [0, c[0], -s[0]], [0, s[0], c[0]]])
    Ry = np.array([[c[1], 0, s[1]], [0, 1, 0], [-s[1], 0, c[1]]])
    Rz = np.array([[c[2], -s[2], 0], [s[2], c[2], 0], [0, 0, 1]])
    R = torch.from_numpy(Rz @ Ry @ Rx)  # float64: orthonormal to rounding
    E = torch.eye(4, dtype=torch.float64)
    E[:3, :3] = R
    E[:3, 3] = torch.tensor([0.4, -1.3, 2.2], dtype=torch.float64)
    cam = PinholeCamera(PinholeCamera.intrinsics(fov, W, H), E, W, H)
    depth = torch.full((H, W), 2.5, dtype=torch.float64)
    lf = LightField(torch.rand(3, 3, 3, H, W), cam, 0.037, 1.9,
                    ground_truth=GroundTruth(depth=depth))
    back = load_hci(write_hci_scene(tmp_path / "s", lf))
    torch.testing.assert_close(back.camera.K, cam.K, rtol=1e-13, atol=1e-12)
    torch.testing.assert_close(back.camera.extrinsic, cam.extrinsic, rtol=0, atol=1e-12)
    assert back.baseline == pytest.approx(0.037, rel=1e-14)
    assert back.focus_distance == 1.9
    p = HCIParameters.read(tmp_path / "s" / "parameters.cfg")
    # the lens as a photographer would read it: f_mm / sensor_mm = f_px / max(W, H)
    assert p.focal_length_mm / p.sensor_size_mm == pytest.approx(
        0.5 * W / math.tan(math.radians(fov) / 2) / max(W, H))


def test_room_ground_truth_round_trip_with_object_ids(written):
    out, rc = written
    mesh, ids, names = load_room_ground_truth(out)
    expected = rc.room.to_mesh()
    assert mesh.num_verts == expected.num_verts
    torch.testing.assert_close(mesh.faces, expected.faces)
    torch.testing.assert_close(mesh.verts64, expected.verts64, atol=1e-6, rtol=0)  # float32 PLY
    want = torch.cat([torch.full((o.mesh.num_verts,), o.object_id) for o in rc.room.objects])
    assert ids.dtype == torch.long and torch.equal(ids, want)
    assert names == rc.object_names()
    assert {"floor", "ceiling", *WALLS} <= set(names.values())
    floor = next(i for i, n in names.items() if n == "floor")
    assert torch.allclose(mesh.verts64[ids == floor][:, 2].max(), torch.tensor(0.0, dtype=torch.float64))


def test_captures_of_other_makers_load_in_name_order_ignoring_other_entries(written, tmp_path):
    out, _ = written
    own = tmp_path / "mine"
    own.mkdir()
    shutil.copytree(out / "capture_02", own / "b_kitchen")
    shutil.copytree(out / "capture_00", own / "a_hall")
    (own / "notes.txt").write_text("not a capture")
    (own / "thumbnails").mkdir()
    for f in (own / "a_hall").glob("gt_*"):  # no ground truth: still a capture
        f.unlink()
    lfs = load_captures(own)
    assert [lf.meta["scene"] for lf in lfs] == ["a_hall", "b_kitchen"]
    assert lfs[0].ground_truth is None or lfs[0].depth is None
    assert lfs[1].depth is not None


def _copy(out, tmp_path):
    dst = tmp_path / "caps"
    shutil.copytree(out, dst)
    return dst


def _break_pose(folder):
    cfg = folder / "capture_01" / "parameters.cfg"
    cfg.write_text("\n".join(line for line in cfg.read_text().splitlines()
                             if not line.startswith("center_cam_rx_rad")))


def _drop_view(folder):
    (folder / "capture_01" / "input_Cam004.png").unlink()


def _extra_view(folder):
    shutil.copy(folder / "capture_01" / "input_Cam000.png", folder / "capture_01" / "input_Cam009.png")


def _resize_view(folder):
    Image.new("RGB", (40, 80)).save(folder / "capture_01" / "input_Cam003.png")


def _garble_view(folder):
    (folder / "capture_01" / "input_Cam003.png").write_bytes(b"not a png")


@pytest.mark.parametrize("damage, match", [
    (_break_pose, r"capture_01.*no camera pose.*center_cam_rx_rad"),
    (_drop_view, r"capture_01.*input_Cam004.png.*missing"),
    (_extra_view, r"capture_01.*more views"),
    (_resize_view, r"capture_01.*input_Cam003.png: size 40x80"),
    (_garble_view, r"capture_01.*input_Cam003.png"),
])
def test_bad_captures_raise_one_clear_value_error(written, tmp_path, damage, match):
    folder = _copy(written[0], tmp_path)
    damage(folder)
    with pytest.raises(ValueError, match=match) as err:
        load_captures(folder)
    assert "\n" not in str(err.value)


def test_no_captures_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no captures"):
        load_captures(tmp_path)
    (tmp_path / "room_gt.ply").write_text("x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=f"no captures in {tmp_path}"):
        load_captures(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        load_captures(tmp_path / "nothing")
    with pytest.raises(ValueError, match="object_id|cannot read"):
        load_room_ground_truth(tmp_path)


def test_an_existing_output_is_refused_and_force_replaces_only_captures(tmp_path, capsys):
    out = tmp_path / "caps"
    args = ["render-captures", str(out), "--seed", "3", "--captures", "3", "--size", "24",
            "--grid", "3", "--fov", "70"]
    assert main(args) == 0
    (out / "notes.txt").write_text("mine")
    (out / "capture_02" / "my_depth.pfm").write_text("mine too")
    before = (out / "capture_00" / "parameters.cfg").read_text()
    with pytest.raises(FileExistsError):
        write_room_captures(out, 3, captures=2, size=24, grid=3)
    with pytest.raises(SystemExit) as exit_:
        main(args[:5] + ["2"] + args[6:])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("geodl: error: ") and "--force" in err
    assert (out / "capture_00" / "parameters.cfg").read_text() == before
    assert main(args[:5] + ["2"] + args[6:] + ["--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine"
    # the third capture of the old set is gone, bar the file someone else put there
    assert [p.name for p in (out / "capture_02").iterdir()] == ["my_depth.pfm"]
    assert [lf.meta["scene"] for lf in load_captures(out)] == ["capture_00", "capture_01"]
    assert len(json.loads((out / "captures.json").read_text())["captures"]) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_same_seed_same_bytes_other_seed_other_room(tmp_path):
    a, _ = write_room_captures(tmp_path / "a", 5, captures=2, size=24, grid=3)
    b, _ = write_room_captures(tmp_path / "b", 5, captures=2, size=24, grid=3)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) > 10
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    other = render_room_captures(6, captures=2, size=24, grid=3)
    assert not torch.equal(other.captures[0].camera.extrinsic,
                           load_captures(a)[0].camera.extrinsic)


@pytest.mark.parametrize("kwargs, match", [
    ({"captures": 0}, "captures"), ({"grid": 4}, "grid"), ({"size": 4}, "size"),
    ({"fov_deg": 0}, "fov_deg"), ({"captures": 2.5}, "captures"),
])
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        render_room_captures(1, **kwargs)


def test_block_median_ground_truth_agrees_with_the_plain_render_on_planes():
    plain = render_room_captures(2, captures=1, size=32, grid=1).captures[0]
    median = render_room_captures(2, captures=1, size=32, grid=1, gt_factor=4).captures[0]
    torch.testing.assert_close(median.camera.extrinsic, plain.camera.extrinsic)
    planes = plain.ground_truth.masks["planes"] & torch.isfinite(median.depth)
    assert planes.sum() > 100
    err = (median.depth - plain.depth)[planes].abs()
    assert float(err.median()) < 0.01 and float(err.max()) < 0.1


def test_force_never_follows_an_index_out_of_the_folder(tmp_path):
    out = tmp_path / "caps"
    write_room_captures(out, 3, captures=1, size=16, grid=1)
    shutil.copytree(out / "capture_00", tmp_path / "precious")
    shutil.copy(out / "capture_00" / "parameters.cfg", tmp_path / "parameters.cfg")
    index = json.loads((out / "captures.json").read_text())
    index["captures"] += [{"folder": ".."}, {"folder": "../precious"}, {"folder": 3}, "x"]
    (out / "captures.json").write_text(json.dumps(index))
    write_room_captures(out, 3, captures=1, size=16, grid=1, overwrite=True)
    assert (tmp_path / "precious" / "parameters.cfg").is_file()
    assert (tmp_path / "parameters.cfg").is_file()
    assert len(load_captures(out)) == 1


def test_the_room_index_is_defined_once(tmp_path):
    from geodl.recon.captures import (
        INDEX_FILE,
        INDEX_KEYS,
        read_room_index,
        room_index,
        write_room_index,
    )
    index = room_index("colmap", 3, (6, 5.0, 3), {2: "floor"}, photos=["a.png"], model="m")
    assert list(index) == [*INDEX_KEYS, "photos", "model"]
    assert index["format"] == "geodl room photos" and index["objects"] == {"2": "floor"}
    assert index["room_size"] == [6.0, 5.0, 3.0] and index["ground_truth"] == "room_gt.ply"
    assert read_room_index(tmp_path) is None
    assert write_room_index(tmp_path, index) == tmp_path / INDEX_FILE
    assert read_room_index(tmp_path) == index
    (tmp_path / INDEX_FILE).write_text("[1, 2]")
    with pytest.raises(ValueError, match="captures.json: not a captures index"):
        read_room_index(tmp_path)
    (tmp_path / INDEX_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="captures.json: not a captures index"):
        read_room_index(tmp_path)
    with pytest.raises(ValueError, match="^layout:"):
        room_index("tum", 3, (1, 1, 1), {})
    with pytest.raises(ValueError, match="^entries: version"):
        room_index("lightfield", 3, (1, 1, 1), {}, version=2)
