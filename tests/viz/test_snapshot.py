"""geodl.viz: headless PNGs (ray-cast meshes, splatted points and lines),
show() without a display, file loading and ``geodl view``."""
import numpy as np
import pytest
import torch
from PIL import Image

from geodl.structures import GroundTruth, LightField, Mesh, PinholeCamera, PointCloud
from geodl.viz import (
    Layer,
    load_file,
    render_mesh_grid,
    save_mesh_png,
    save_point_cloud_png,
    show,
    snapshot,
)
from geodl.viz.convert import to_primitives
from geodl.viz.raster import AMBIENT, DIFFUSE, render_image
from geodl.viz.view import View
from geodl.viz.window import to_open3d

FRONT = View(np.array([0.0, -4.0, 0.0]), np.zeros(3), np.array([0.0, 0.0, 1.0]), 40.0)


def _square(y: float = 0.0, colors=None) -> Mesh:
    v = torch.tensor([[-1, y, -1], [1, y, -1], [1, y, 1], [-1, y, 1]], dtype=torch.float64)
    return Mesh(v, torch.tensor([[0, 1, 2], [0, 2, 3]]))


def test_flat_face_is_lit_like_the_browser():
    """A face seen head-on: colour * (ambient + diffuse * |n . d|), d the ray;
    at the image centre n . d = 1."""
    img = render_image(to_primitives(Layer(_square(), color=(0.5, 0.4, 0.2))), FRONT, 41, 41,
                       supersample=1)
    np.testing.assert_allclose(img[20, 20], np.array([0.5, 0.4, 0.2]) * (AMBIENT + DIFFUSE),
                               atol=1e-6)
    # an off-centre pixel's ray meets the face obliquely: darker, by |n . d| of that ray
    cam = FRONT.camera(41, 41)
    d = cam.rays()[1][8, 8].numpy()
    np.testing.assert_allclose(img[8, 8], np.array([0.5, 0.4, 0.2]) * (
        AMBIENT + DIFFUSE * abs(d[1]) / np.linalg.norm(d)), atol=1e-6)
    assert (img[8, 8] < img[20, 20]).all()
    np.testing.assert_allclose(img[0, 0], 1.0)  # the corner misses the square: background


def test_vertex_colours_interpolate_barycentrically():
    """A triangle facing the camera: the colour at a pixel is the barycentric
    mix of the corner colours, computed here from the projected corners."""
    v = torch.tensor([[-1.0, 0, -1], [1, 0, -1], [0, 0, 1]], dtype=torch.float64)
    mesh = Mesh(v, torch.tensor([[0, 1, 2]]))
    rgb = np.eye(3)
    img = render_image(to_primitives(Layer(mesh, colors=rgb)), FRONT, 61, 61, supersample=1)
    cam = FRONT.camera(61, 61)
    uv, _ = cam.project(v)
    a, b, c = uv.numpy()
    for i, j in [(30, 30), (40, 25), (35, 36)]:
        p = np.array([j + 0.5, i + 0.5])
        T = np.column_stack([b - a, c - a])
        w1, w2 = np.linalg.solve(T, p - a)
        want = (1 - w1 - w2) * rgb[0] + w1 * rgb[1] + w2 * rgb[2]
        np.testing.assert_allclose(img[i, j], want * (AMBIENT + DIFFUSE * abs(
            cam.rays()[1][i, j, 1].item()) / cam.rays()[1][i, j].norm().item()), atol=1e-5)


def _pixel(cam: PinholeCamera, p) -> tuple[int, int]:
    uv, _ = cam.project(torch.tensor([p], dtype=torch.float64))
    u, v = uv[0].tolist()
    return int(v), int(u)


def test_points_are_hidden_behind_meshes_and_drawn_in_front():
    red = Layer(np.array([[0.0, -1.0, 0.0]]), color="red", point_size=0.3)  # in front
    blue = Layer(np.array([[0.5, 1.0, 0.0]]), color="blue", point_size=0.3)  # behind
    img = render_image(to_primitives([Layer(_square(), color="white"), red, blue]), FRONT,
                       81, 81, supersample=1)
    cam = FRONT.camera(81, 81)
    np.testing.assert_allclose(img[_pixel(cam, [0.0, -1.0, 0.0])], [1, 0, 0])
    hidden = img[_pixel(cam, [0.5, 1.0, 0.0])]
    np.testing.assert_allclose(hidden, hidden[0])  # the grey wall, not the blue point
    # without the wall the blue point shows
    img2 = render_image(to_primitives([blue]), FRONT, 81, 81, supersample=1)
    np.testing.assert_allclose(img2[_pixel(cam, [0.5, 1.0, 0.0])], [0, 0, 1])


def test_point_size_is_in_world_units():
    """A point of size s at depth z covers about s * f / z pixels (up to
    2 * MAX_RADIUS + 1: nearer points are clamped)."""
    s = 0.1
    img = render_image(to_primitives(Layer(np.zeros((1, 3)), color="black", point_size=s)),
                       FRONT, 201, 201, supersample=1)
    f = float(FRONT.camera(201, 201).K[1, 1])
    width = (img[100, :, 0] < 0.5).sum()
    assert abs(width - s * f / 4.0) <= 2


def test_lines_are_drawn():
    cam = PinholeCamera.look_at([0, -3, 0], [0, 0, 0], width=20, height=20)
    img = render_image(to_primitives(cam), FRONT, 60, 60)
    assert (img < 0.9).any()


def test_snapshot_writes_a_picture_with_colour_bar_and_legend(tmp_path):
    mesh = Mesh.icosphere(3)
    cloud = PointCloud(torch.randn(500, 3, generator=torch.Generator().manual_seed(0)) * 0.2
                       + torch.tensor([2.5, 0, 0]))
    path = snapshot({"sphere": Layer(mesh, scalars=mesh.verts64[:, 2], scalar_name="z"),
                     "cloud": Layer(cloud, edges=cloud.knn_graph(4))}, tmp_path / "s.png",
                    title="snapshot", width=320, height=240)
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape[1] > 320  # the image plus a colour bar
    assert img.std() > 20  # not blank


def test_legacy_helpers_still_write(tmp_path):
    mesh = Mesh.icosphere(2)
    save_mesh_png(mesh, tmp_path / "m.png", mesh.verts64[:, 0], title="x", size=2)
    save_point_cloud_png(PointCloud(mesh.verts64), tmp_path / "p.png",
                         edge_index=mesh.edge_index, title="p")
    render_mesh_grid(mesh, [mesh.verts64[:, 0], mesh.verts64[:, 1]], ["a", "b"],
                     tmp_path / "g.png", cols=2, panel=64)
    for name in ("m", "p", "g"):
        assert np.asarray(Image.open(tmp_path / f"{name}.png")).std() > 10


def test_to_open3d_geometries():
    mesh = Mesh.icosphere(1)
    cam = PinholeCamera.look_at([0, -3, 0], [0, 0, 0], width=8, height=8)
    geoms = to_open3d(to_primitives([Layer(mesh, scalars=mesh.verts64[:, 2]), mesh.verts64, cam]))
    assert [type(g).__name__ for g in geoms] == ["TriangleMesh", "PointCloud", "LineSet"]
    assert len(geoms[0].triangles) == mesh.num_faces and geoms[0].has_vertex_colors()
    assert len(geoms[1].points) == mesh.num_verts and len(geoms[2].lines) == 11


def test_show_without_display_writes_html(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    path = show(Mesh.icosphere(1), title="shown")
    assert path is not None and path.parent == tmp_path and path.suffix == ".html"
    assert "<title>shown</title>" in path.read_text()
    assert str(path) in capsys.readouterr().out
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("GEODL_VIEWER", "html")  # forces the page even with a display
    assert show(Mesh.icosphere(0)) is not None


# ------------------------------------------------------------------- files
PLY = """ply
format ascii 1.0
element vertex 4
property float x
property float y
property float z
property float quality
element face 2
property list uchar int vertex_indices
end_header
0 0 0 0.1
1 0 0 0.2
1 1 0 0.3
0 1 0 0.4
3 0 1 2
3 0 2 3
"""


def test_load_file_with_a_ply_property(tmp_path):
    (tmp_path / "q.ply").write_text(PLY)
    (p,) = to_primitives(load_file(tmp_path / "q.ply", scalar="quality"))
    assert p.kind == "mesh" and p.colorbar.label == "quality"
    assert (p.colorbar.lo, p.colorbar.hi) == pytest.approx((0.1, 0.4))
    with pytest.raises(ValueError, match="has no per-vertex property 'nope' .*quality"):
        load_file(tmp_path / "q.ply", scalar="nope")
    with pytest.raises(FileNotFoundError):
        load_file(tmp_path / "missing.ply")
    (tmp_path / "x.abc").write_text("")
    with pytest.raises(ValueError, match="cannot view .abc"):
        load_file(tmp_path / "x.abc")


def test_load_file_formats(tmp_path):
    import trimesh

    mesh = Mesh.icosphere(1)
    for suffix in ("obj", "off", "stl"):
        mesh.save(tmp_path / f"m.{suffix}")
        (p,) = to_primitives(load_file(tmp_path / f"m.{suffix}"))
        assert p.kind == "mesh" and p.count == mesh.num_faces
    trimesh.Scene([trimesh.creation.box(), trimesh.creation.icosphere(1)]).export(tmp_path / "s.glb")
    assert [p.kind for p in to_primitives(load_file(tmp_path / "s.glb"))] == ["mesh", "mesh"]
    PointCloud(torch.rand(30, 3, dtype=torch.float64)).save(tmp_path / "c.pcd")
    (p,) = to_primitives(load_file(tmp_path / "c.pcd"))
    assert p.kind == "points" and p.count == 30


def test_cli_view(tmp_path, capsys):
    from geodl.cli import main
    from geodl.lightfield import write_hci_scene

    cam = PinholeCamera.look_at([0, -3, 1], [0, 0, 1], width=16, height=12, fov_deg=50)
    views = torch.rand(3, 3, 3, 12, 16, generator=torch.Generator().manual_seed(0))
    lf = LightField(views, cam, 0.05, 2.5)
    z = torch.full((12, 16), 2.0, dtype=torch.float64)
    lf.ground_truth = GroundTruth(lf.depth_to_disparity(z), z)
    folder = write_hci_scene(tmp_path / "scene", lf, scene="tiny")
    (tmp_path / "q.ply").write_text(PLY)
    assert main(["view", str(folder), "--html", str(tmp_path / "v.html"),
                 "--png", str(tmp_path / "v.png")]) == 0
    page = (tmp_path / "v.html").read_text()
    assert "tiny: centre view" in page and "tiny: rig (3x3)" in page
    assert np.asarray(Image.open(tmp_path / "v.png")).std() > 10
    assert main(["view", str(tmp_path / "q.ply"), "--scalar", "quality", "--html",
                 str(tmp_path / "q.html")]) == 0
    assert '"label":"quality"' in (tmp_path / "q.html").read_text()
    assert main(["view", str(folder), "--scalar", "disparity", "--html",
                 str(tmp_path / "d.html")]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["view", str(tmp_path / "missing.ply"), "--html", str(tmp_path / "m.html")])
    assert "geodl: error: view: " in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["view", str(folder), "--scalar", "speed", "--html", str(tmp_path / "m.html")])
    assert "scalar" in capsys.readouterr().err
