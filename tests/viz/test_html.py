"""geodl.viz: objects -> primitives -> the offline HTML page (no browser here;
tests/viz/test_viewer_browser.py opens the pages in Chromium)."""
import base64
import hashlib
import json
import re

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geodl.structures import GroundTruth, LightField, Mesh, PinholeCamera, PointCloud
from geodl.viz import Layer, center_points, to_html
from geodl.viz.colormap import colorbar_stops, map_scalars
from geodl.viz.convert import to_primitives
from geodl.viz.frustum import frustum_lines
from geodl.viz.html import html_page, viewer_js
from tests.helpers import REPO

WEB = REPO / "geodl" / "viz" / "web"


def _spec(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="geodl-scene">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def _decode(buf: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(buf["data"]), dtype=buf["dtype"]).reshape(buf["shape"])


def _light_field(U=3, V=3, H=12, W=16, depth=2.0) -> LightField:
    cam = PinholeCamera.look_at([0, -3, 1], [0, 0, 1], width=W, height=H, fov_deg=50)
    views = torch.rand(U, V, 3, H, W, generator=torch.Generator().manual_seed(0))
    z = torch.full((H, W), depth, dtype=torch.float64)
    z[0, 0] = float("nan")  # an invalid pixel
    return LightField(views, cam, 0.05, 2.5, ground_truth=GroundTruth(depth=z), meta={"scene": "test"})


# ------------------------------------------------------------------- bundle
def test_bundle_was_built_from_the_sources_in_the_repository():
    """static/viewer.js names a SHA-256 of src/viewer.js + package-lock.json;
    editing either without `make viewer-js` fails here."""
    h = hashlib.sha256()
    for name in ("src/viewer.js", "package-lock.json"):
        h.update((WEB / name).read_bytes())
    banner = viewer_js().splitlines()[0]
    assert f"sources sha256 {h.hexdigest()}" in banner
    assert "three.js 0.187.0" in banner
    lock = json.loads((WEB / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/three"]["version"] == "0.187.0"
    assert "Permission is hereby granted" in viewer_js()[:3000]  # three.js's licence travels


def test_page_is_self_contained():
    page = html_page(Mesh.icosphere(1))
    # nothing is fetched: no external scripts, styles, images or fonts
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(?!data:)', page)
    assert "@import" not in page and "url(http" not in page
    assert page.count("</script>") == 2  # the JSON and the viewer


# --------------------------------------------------------------- round trip
def test_mesh_with_scalars_round_trip():
    mesh = Mesh.icosphere(2)
    phi = mesh.verts64[:, 2]
    spec = _spec(html_page(Layer(mesh, scalars=phi, scalar_name="height", cmap="coolwarm"),
                           title="t"))
    (obj,) = spec["objects"]
    assert obj["kind"] == "mesh" and obj["count"] == mesh.num_faces
    np.testing.assert_allclose(_decode(obj["positions"]), mesh.verts64.numpy(), atol=1e-6)
    np.testing.assert_array_equal(_decode(obj["index"]), mesh.faces.numpy())
    # colours: matplotlib's coolwarm at (phi - min) / (max - min), to a uint8 step
    t = (phi - phi.min()) / (phi.max() - phi.min())
    want = matplotlib.colormaps["coolwarm"](t.numpy())[:, :3] * 255
    assert np.abs(_decode(obj["colors"]).astype(float) - want).max() <= 0.5 + 1e-9
    cb = obj["colorbar"]
    assert cb["label"] == "height" and cb["min"] == pytest.approx(-1) and cb["max"] == pytest.approx(1)
    assert cb["stops"] == colorbar_stops("coolwarm")


def test_per_face_scalars_give_each_face_its_own_corners():
    mesh = Mesh.icosphere(1)
    (p,) = to_primitives(Layer(mesh, scalars=torch.arange(mesh.num_faces).double()))
    assert len(p.positions) == 3 * mesh.num_faces
    np.testing.assert_allclose(p.positions[p.index], mesh.verts64.numpy()[mesh.faces.numpy()])
    c = p.colors[p.index]  # (F, 3 corners, RGB): one colour per face
    np.testing.assert_array_equal(c[:, 0], c[:, 1])
    np.testing.assert_array_equal(c[:, 0], c[:, 2])


def test_points_are_quantised_within_half_a_step():
    g = torch.Generator().manual_seed(1)
    p = torch.randn(5000, 3, generator=g, dtype=torch.float64) * torch.tensor([10.0, 1.0, 0.1])
    (obj,) = _spec(html_page(PointCloud(p)))["objects"]
    buf = obj["positions"]
    assert buf["dtype"] == "uint16"
    back = np.asarray(buf["offset"]) + np.asarray(buf["scale"]) * _decode(buf) / 65535.0
    step = np.ptp(p.numpy(), axis=0) / 65535.0
    assert (np.abs(back - p.numpy()) <= step / 2 + 1e-12).all()


@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.just(3)),
              elements=st.floats(-1e6, 1e6)))
def test_quantisation_error_bound_fuzzed(p):
    (obj,) = _spec(html_page(p))["objects"]
    buf = obj["positions"]
    back = np.asarray(buf["offset"]) + np.asarray(buf["scale"]) * _decode(buf) / 65535.0
    bound = np.maximum(np.ptp(p, axis=0), 1e-12) / 65535.0 / 2
    assert (np.abs(back - p) <= bound * (1 + 1e-6) + 1e-9).all()


@given(arrays(np.float64, st.integers(1, 50),
              elements=st.floats(allow_nan=True, allow_infinity=True, width=32)))
def test_map_scalars_fuzzed(v):
    colors, (lo, hi) = map_scalars(v)
    assert colors.shape == (len(v), 3) and np.isfinite(colors).all()
    assert (colors >= 0).all() and (colors <= 1).all() and hi > lo
    np.testing.assert_allclose(colors[~np.isfinite(v)], 0.6)


def test_graph_edges_once_per_undirected_edge():
    cloud = PointCloud(torch.rand(200, 3, generator=torch.Generator().manual_seed(0)))
    ei = cloud.knn_graph(5)
    pts, edges = to_primitives(Layer(cloud, edges=ei))
    assert pts.kind == "points" and edges.kind == "lines"
    want = {tuple(sorted(e)) for e in ei.t().tolist()}
    assert {tuple(e) for e in edges.index.tolist()} == want and len(edges.index) == len(want)


def test_mesh_edges():
    mesh = Mesh.icosphere(1)
    _, edges = to_primitives(Layer(mesh, edges=True))
    assert len(edges.index) == len(mesh.edges)  # 3F/2 on a closed mesh


# ------------------------------------------------------------------ cameras
def test_frustum_corners_project_to_the_image_corners():
    cam = PinholeCamera.look_at([1, -2, 0.5], [0, 0, 0], width=64, height=48, fov_deg=70)
    pts, seg = frustum_lines(cam, 0.7)
    np.testing.assert_allclose(pts[0], cam.center.numpy())
    uv, z = cam.project(torch.from_numpy(pts[1:5]))
    np.testing.assert_allclose(uv.numpy(), [[0, 0], [64, 0], [64, 48], [0, 48]], atol=1e-9)
    np.testing.assert_allclose(z.numpy(), 0.7)
    uv, _ = cam.project(torch.from_numpy(pts[7:8]))  # the up marker's tip: above row 0
    assert uv[0, 1] < 0
    assert seg.max() == 7


def test_light_field_rig_draws_every_view_and_marks_the_centre():
    lf = _light_field(3, 5)
    (rig,) = to_primitives(Layer(lf, frustum_depth=0.1))
    assert rig.kind == "lines" and len(rig.index) == 11 * 15 and len(rig.positions) == 8 * 15
    apexes = rig.positions[::8]
    want = np.stack([lf.camera_at(r, c).center.numpy() for r in range(3) for c in range(5)])
    np.testing.assert_allclose(apexes, want, atol=1e-12)
    centre = 1 * 5 + 2
    assert not np.allclose(rig.colors[8 * centre], rig.colors[0])  # the centre stands out


def test_frustum_depth_defaults_to_a_fraction_of_the_scene():
    cam = PinholeCamera.look_at([0, -3, 0], [0, 0, 0], width=8, height=8)
    _, fr = to_primitives([Mesh.icosphere(1, radius=5.0), cam])
    depth = float(np.dot(fr.positions[1] - fr.positions[0], cam.R[2].numpy()))
    assert depth == pytest.approx(0.06 * np.linalg.norm([10, 10, 10]), rel=0.02)


def test_center_points_back_project_to_their_pixels():
    lf = _light_field()
    cloud, pixels = center_points(lf)
    assert len(cloud) == lf.height * lf.width - 1  # the NaN pixel is dropped
    uv, z = lf.camera.project(cloud.points)
    i, j = pixels // lf.width, pixels % lf.width
    np.testing.assert_allclose(uv.numpy(), np.stack([j + 0.5, i + 0.5], 1), atol=1e-9)
    np.testing.assert_allclose(z.numpy(), 2.0)
    np.testing.assert_allclose(cloud.colors.numpy(),
                               lf.center_view.permute(1, 2, 0).reshape(-1, 3)[pixels].double())


def test_center_points_from_disparity_when_depth_is_absent():
    lf = _light_field()
    disp = lf.depth_to_disparity(torch.where(lf.depth.isnan(), 2.0, lf.depth))
    lf2 = LightField(lf.views, lf.camera, lf.baseline, lf.focus_distance,
                     ground_truth=GroundTruth(disparity=disp))
    cloud, _ = center_points(lf2)
    _, z = lf2.camera.project(cloud.points)
    np.testing.assert_allclose(z.numpy(), 2.0, rtol=1e-9)


# -------------------------------------------------------------- other types
def test_pyg_data_mesh_and_graph():
    mesh = Mesh.icosphere(1)
    (m,) = to_primitives(Layer(mesh.to_data(), scalars=None))
    assert m.kind == "mesh" and m.count == mesh.num_faces
    cloud = PointCloud(torch.rand(50, 3, generator=torch.Generator().manual_seed(0)))
    data = cloud.to_data(edge_index=cloud.knn_graph(3), y=torch.arange(50.0))
    pts, edges = to_primitives(Layer(data, scalars="y"))
    assert pts.colorbar.label == "y" and pts.colorbar.hi == 49 and edges.kind == "lines"
    with pytest.raises(ValueError, match="scalars: 'nope'"):
        to_primitives(Layer(data, scalars="nope"))


def test_trimesh_and_open3d_geometries():
    import trimesh

    from geodl._optional import open3d

    o3d = open3d()
    box = trimesh.creation.box()
    box.visual.vertex_colors = np.tile([255, 0, 0, 255], (len(box.vertices), 1))
    (tm,) = to_primitives(box)
    np.testing.assert_allclose(tm.colors, np.tile([1.0, 0, 0], (8, 1)))
    scene = trimesh.Scene([trimesh.creation.box(), trimesh.creation.icosphere(1)])
    assert [p.kind for p in to_primitives(scene)] == ["mesh", "mesh"]
    (pc,) = to_primitives(trimesh.PointCloud(np.random.default_rng(0).random((10, 3))))
    assert pc.kind == "points" and pc.count == 10
    om = o3d.geometry.TriangleMesh.create_sphere(resolution=6)
    (a,) = to_primitives(om)
    assert a.kind == "mesh" and a.count == len(om.triangles)
    (b,) = to_primitives(o3d.t.geometry.PointCloud(o3d.core.Tensor(np.zeros((4, 3), np.float32))))
    assert b.kind == "points" and b.count == 4
    ls = o3d.geometry.LineSet(o3d.utility.Vector3dVector(np.eye(3)),
                              o3d.utility.Vector2iVector([[0, 1], [1, 2]]))
    (c,) = to_primitives(ls)
    assert c.kind == "lines" and c.count == 2


def test_arrays_tensors_and_names():
    prims = to_primitives({"a": np.zeros((3, 3)), "b": torch.ones(4, 3)})
    assert [(p.name, p.kind, p.count) for p in prims] == [("a", "points", 3), ("b", "points", 4)]


def test_room_scene_groups_objects_by_kind():
    from geodl.render import make_room

    room = make_room(0)
    prims = to_primitives(room)
    names = [p.name for p in prims]
    assert {"floor", "ceiling", "wall", "picture"} <= set(names)
    assert not prims[names.index("ceiling")].visible  # so the room can be seen from above
    assert sum(len(p.index) for p in prims) == sum(o.mesh.num_faces for o in room.objects)


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("objects, error, match", [
    ([], ValueError, "objects: nothing"),
    (object(), TypeError, "objects: cannot draw"),
    (np.zeros((4, 2)), ValueError, r"objects: .*\(N, 3\)"),
    (np.array([[0.0, np.nan, 0]]), ValueError, "NaN"),
    (Layer(Mesh.icosphere(0), scalars=torch.zeros(5)), ValueError, r"scalars: expected \(12,\)"),
    (Layer(Mesh.icosphere(0), scalars=torch.zeros(12), clim=(1, 0)), ValueError, "clim"),
    (Layer(Mesh.icosphere(0), scalars=torch.zeros(12), cmap="nope"), ValueError, "cmap"),
    (Layer(Mesh.icosphere(0), colors=torch.full((12, 3), 2.0)), ValueError, "colors"),
    (Layer(PointCloud(torch.zeros(3, 3)), edges=True), ValueError, "edges: PointCloud has no graph"),
    (Layer(PointCloud(torch.zeros(3, 3)), edges=torch.tensor([[0], [7]])), ValueError, "edges"),
    (Layer(PointCloud(torch.zeros(3, 3)), point_size=-1.0), ValueError, "point_size"),
    (Layer(PointCloud(torch.zeros(3, 3)), opacity=0.0), ValueError, "opacity"),
])
def test_bad_input(objects, error, match):
    with pytest.raises(error, match=match):
        to_primitives(objects)


def test_bad_page_options():
    m = Mesh.icosphere(0)
    with pytest.raises(ValueError, match="up"):
        html_page(m, up="w")
    with pytest.raises(TypeError, match="view"):
        html_page(m, view=3)
    with pytest.raises(ValueError, match="tables"):
        html_page(m, tables={"t": 5})
    with pytest.raises(ValueError, match="background"):
        html_page(m, background="nocolour")


def test_title_and_tables_are_escaped_and_json_safe(tmp_path):
    path = to_html({"</script><b>x": Mesh.icosphere(0)}, tmp_path / "a" / "v.html",
                   title="<i>T</i>",
                   tables={"scores": [{"scene": "</script>", "mse": float("nan"), "n": 3}],
                           "grid": {"columns": ["a", "b"], "rows": [[1, 2.5]]}})
    page = path.read_text()
    assert "<title>&lt;i&gt;T&lt;/i&gt;</title>" in page and page.count("</script>") == 2
    spec = _spec(page)
    assert spec["objects"][0]["name"] == "</script><b>x"
    assert spec["tables"][0] == {"caption": "scores", "columns": ["scene", "mse", "n"],
                                 "rows": [["</script>", "nan", 3]]}
    assert spec["tables"][1]["rows"] == [[1, 2.5]]


def test_view_through_a_camera():
    cam = PinholeCamera.look_at([0, -3, 1], [0, 0, 1], width=40, height=30, fov_deg=60)
    v = _spec(html_page(Mesh.icosphere(1), view=cam))["view"]
    np.testing.assert_allclose(v["eye"], [0, -3, 1], atol=1e-12)
    np.testing.assert_allclose(v["up"], [0, 0, 1], atol=1e-12)
    d = np.subtract(v["target"], v["eye"])
    np.testing.assert_allclose(d / np.linalg.norm(d), [0, 1, 0], atol=1e-12)
    # vertical fov from K: 2 atan(H / 2 / fy)
    assert v["fov"] == pytest.approx(np.degrees(2 * np.arctan(15 / float(cam.K[1, 1]))))


def test_to_html_replaces_a_file_whole(tmp_path):
    p = tmp_path / "v.html"
    p.write_text("old")
    to_html(Mesh.icosphere(0), p)
    assert p.read_text().startswith("<!doctype html>")
    assert [q.name for q in tmp_path.iterdir()] == ["v.html"]  # no temporary left behind


def test_big_clouds_are_shuffled_together_with_their_colours():
    """Above 20k points the page holds them in a seeded random order (the
    viewer draws a prefix while moving): the same points, each with its colour."""
    g = torch.Generator().manual_seed(0)
    p = torch.rand(30000, 3, generator=g, dtype=torch.float64)
    c = p.clone()  # colour = position, so pairs can be checked after the shuffle
    (obj,) = _spec(html_page(PointCloud(p, c)))["objects"]
    buf = obj["positions"]
    back = np.asarray(buf["offset"]) + np.asarray(buf["scale"]) * _decode(buf) / 65535.0
    assert not np.allclose(back[:100], p.numpy()[:100], atol=1e-3)  # reordered
    np.testing.assert_allclose(_decode(obj["colors"]) / 255.0, back, atol=1 / 255 + 1e-4)
    # the same multiset of points: compare the quantised integers, sorted
    q = np.rint((p.numpy() - buf["offset"]) / buf["scale"] * 65535).astype(np.int64)
    rows = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731
    np.testing.assert_array_equal(rows(_decode(buf).astype(np.int64)), rows(q))
