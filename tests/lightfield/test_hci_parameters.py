import pytest

from geodl.lightfield import HCIParameters

EXAMPLE = """[intrinsics]
image_resolution_x_px = 512
image_resolution_y_px = 512
focal_length_mm = 100
sensor_size_mm = 35
fstop = 100

[extrinsics]
num_cams_x = 9
num_cams_y = 9
baseline_mm = 90.0
focus_distance_m = 8.0
center_cam_x_m = 1.5
center_cam_y_m = -2.0
center_cam_z_m = 0.3
center_cam_rx_rad = 1.57
center_cam_ry_rad = 0.0
center_cam_rz_rad = 0.1
offset = 0.0

[meta]
disp_min = -1.5
disp_max = 1.2
frustum_disp_min = -1.8
frustum_disp_max = 1.5
depth_map_scale = 100.0
scene = kitchen
category = test
date = 2026
version = 1
authors = someone
contact = nobody
cycles_seed = 7
custom_key = kept
"""


def test_read_write_round_trip(tmp_path):
    (tmp_path / "parameters.cfg").write_text(EXAMPLE)
    p = HCIParameters.read(tmp_path / "parameters.cfg")
    assert p.num_cams_x == 9 and p.baseline_mm == 90.0 and p.scene == "kitchen"
    assert p.focal_px == pytest.approx(100 / 35 * 512)  # 1462.857 px
    assert p.baseline_m == pytest.approx(0.09)
    assert p.extra == {"meta.custom_key": "kept"}
    p.write(tmp_path / "out" / "parameters.cfg")
    assert HCIParameters.read(tmp_path / "out" / "parameters.cfg") == p


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        HCIParameters.read(tmp_path / "missing.cfg")
    (tmp_path / "a.cfg").write_text(EXAMPLE.replace("[meta]", "[metadata]"))
    with pytest.raises(ValueError, match=r"\[meta\]"):
        HCIParameters.read(tmp_path / "a.cfg")
    (tmp_path / "b.cfg").write_text(EXAMPLE.replace("baseline_mm = 90.0", "baseline_mm = wide"))
    with pytest.raises(ValueError, match="baseline_mm"):
        HCIParameters.read(tmp_path / "b.cfg")
    (tmp_path / "c.cfg").write_text(EXAMPLE.replace("focus_distance_m = 8.0\n", ""))
    with pytest.raises(ValueError, match="focus_distance_m"):
        HCIParameters.read(tmp_path / "c.cfg")
    (tmp_path / "d.cfg").write_text("not an ini file at all [")
    with pytest.raises(ValueError):
        HCIParameters.read(tmp_path / "d.cfg")


@pytest.mark.parametrize("line,key", [
    ("image_resolution_x_px = 512", "image_resolution_x_px = 0"),
    ("image_resolution_y_px = 512", "image_resolution_y_px = -4"),
    ("image_resolution_x_px = 512", "image_resolution_x_px = 512.5"),
    ("num_cams_x = 9", "num_cams_x = -9"),
    ("num_cams_y = 9", "num_cams_y = 0"),
    ("baseline_mm = 90.0", "baseline_mm = -90.0"),
    ("baseline_mm = 90.0", "baseline_mm = 0"),
    ("baseline_mm = 90.0", "baseline_mm = nan"),
    ("focal_length_mm = 100", "focal_length_mm = 0"),
    ("sensor_size_mm = 35", "sensor_size_mm = -35"),
    ("focus_distance_m = 8.0", "focus_distance_m = -1"),
    ("center_cam_x_m = 1.5", "center_cam_x_m = inf"),
    ("disp_min = -1.5", "disp_min = 2.0"),
])
def test_read_refuses_impossible_values(tmp_path, line, key):
    (tmp_path / "p.cfg").write_text(EXAMPLE.replace(line, key))
    name = key.split(" =")[0]
    with pytest.raises(ValueError, match=name):
        HCIParameters.read(tmp_path / "p.cfg")


@pytest.mark.parametrize("kwargs", [{"num_cams_x": 0}, {"baseline_mm": -1.0},
                                    {"image_resolution_y_px": 0}, {"fstop": 0.0},
                                    {"num_cams_y": 2.5}])
def test_constructor_refuses_impossible_values(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        HCIParameters(**kwargs)


@pytest.mark.parametrize("scene", ["50%_grey", "%(scene)s", "100%", "a%%b", "per%cent%"])
def test_percent_signs_round_trip_without_interpolation(tmp_path, scene):
    p = HCIParameters(scene=scene, authors="x % y", extra={"meta.note": "%(authors)s"})
    p.write(tmp_path / "parameters.cfg")
    q = HCIParameters.read(tmp_path / "parameters.cfg")
    assert q.scene == scene and q.authors == "x % y" and q.extra == {"meta.note": "%(authors)s"}
    assert q == p


@pytest.mark.parametrize("content, match", [
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary"),
    ("[intrinsics]\nfocal_length_mm = 50\n# \u00e9t\u00e9\n".encode("latin-1"), "not UTF-8.*0xe9"),
])
def test_a_binary_or_non_utf8_file_is_named(tmp_path, content, match):
    (tmp_path / "parameters.cfg").write_bytes(content)
    with pytest.raises(ValueError, match=f"parameters.cfg.*{match}|{match}"):
        HCIParameters.read(tmp_path / "parameters.cfg")
