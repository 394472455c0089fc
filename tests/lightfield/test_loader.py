"""load_lightfield: each name layout in a known view order, bit depths, dead
views, ambiguous layouts; the disparity range estimated from the views; the
image reader over every PIL mode; light fields without a camera."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from geodl.io import read_image
from geodl.lightfield import load_hci, load_lightfield, write_hci_scene
from geodl.lightfield.depth import estimate_disparity_range
from geodl.structures import LightField
from tests.helpers import REPO


def _stamp(U, V, H, W, bits=8):
    """Views whose pixel (0, 0) encodes the grid position: view (r, c) has
    value (r * V + c + 1) / (U * V + 1) in its first pixel, noise elsewhere."""
    g = np.random.default_rng(0)
    views = g.uniform(0.2, 0.8, size=(U, V, H, W, 3))
    for r in range(U):
        for c in range(V):
            views[r, c, 0, 0] = (r * V + c + 1) / (U * V + 1)
    scale = 255 if bits == 8 else 65535
    return np.round(views * scale).astype(np.uint8 if bits == 8 else np.uint16)


def _write(folder, views, name, bits=8):
    folder.mkdir(parents=True, exist_ok=True)
    for (r, c), fname in name.items():
        img = views[r, c]
        if bits == 16:  # PIL writes 16-bit PNG from grey I;16 only
            Image.fromarray(img[..., 0]).save(folder / fname)
        else:
            Image.fromarray(img).save(folder / fname)


def _order(lf):
    """(U, V) grid of the position codes read back from pixel (0, 0)."""
    U, V = lf.grid_shape
    return np.round(lf.views[:, :, 0, 0, 0].numpy() * (U * V + 1)).astype(int) - 1


@pytest.mark.parametrize("U,V,H,W", [(3, 3, 6, 9), (4, 2, 7, 5), (2, 5, 5, 8)])
def test_rowcol_names_one_based_in_grid_order(tmp_path, U, V, H, W):
    views = _stamp(U, V, H, W)
    _write(tmp_path, views, {(r, c): f"scene_{r + 1:02d}_{c + 1:02d}.png"
                             for r in range(U) for c in range(V)})
    lf = load_lightfield(tmp_path, drop_dead_views=False)
    assert lf.grid_shape == (U, V) and (lf.height, lf.width) == (H, W)
    assert (_order(lf) == np.arange(U * V).reshape(U, V)).all()
    assert lf.meta["layout"] == "rowcol" and lf.meta["scene"] == "scene"
    assert lf.camera is None and not lf.is_metric
    assert torch.allclose(lf.views[1, 1], torch.from_numpy(views[1, 1] / 255.0).float()
                          .permute(2, 0, 1), atol=1e-6)


def test_stanford_names_zero_based_and_flips(tmp_path):
    U, V = 3, 4
    views = _stamp(U, V, 5, 6)
    _write(tmp_path, views, {(r, c): f"out_{r:02d}_{c:02d}_{-10.5 * r:.6f}_{3.25 * c:.6f}_.png"
                             for r in range(U) for c in range(V)})
    truth = np.arange(U * V).reshape(U, V)
    lf = load_lightfield(tmp_path, drop_dead_views=False)
    assert lf.meta["layout"] == "stanford" and (_order(lf) == truth).all()
    flipped = load_lightfield(tmp_path, flip_rows=True, flip_cols=True, drop_dead_views=False)
    assert (_order(flipped) == truth[::-1, ::-1]).all()
    assert (_order(load_lightfield(tmp_path, transpose=True, drop_dead_views=False))
            == truth.T).all()


def test_zero_based_rowcol_and_hci_without_parameters(tmp_path):
    views = _stamp(2, 2, 4, 4)
    _write(tmp_path / "a", views, {(r, c): f"v_{r}_{c}.png" for r in range(2) for c in range(2)})
    assert (_order(load_lightfield(tmp_path / "a", drop_dead_views=False))
            == [[0, 1], [2, 3]]).all()
    views = _stamp(2, 3, 4, 4)
    _write(tmp_path / "b", views, {(r, c): f"input_Cam{r * 3 + c:03d}.png"
                                   for r in range(2) for c in range(3)})
    with pytest.raises(ValueError, match="grid"):  # 6 views: not a square grid
        load_lightfield(tmp_path / "b")
    lf = load_lightfield(tmp_path / "b", grid=(2, 3), drop_dead_views=False)
    assert (_order(lf) == np.arange(6).reshape(2, 3)).all()


def test_hci_without_parameters_keeps_its_ground_truth(tmp_path):
    """Public copies of benchmark scenes come without parameters.cfg: the
    centre view's gt_disp_lowres.pfm is still read (values as written), and
    one of another size is refused naming the file."""
    from geodl.lightfield.pfm import write_pfm

    views = _stamp(3, 3, 5, 6)
    _write(tmp_path, views, {(r, c): f"input_Cam{r * 3 + c:03d}.png"
                             for r in range(3) for c in range(3)})
    assert load_lightfield(tmp_path).ground_truth is None
    truth = np.arange(30, dtype=np.float32).reshape(5, 6) / 10 - 1
    write_pfm(tmp_path / "gt_disp_lowres.pfm", truth)
    lf = load_lightfield(tmp_path)
    assert np.array_equal(lf.ground_truth.disparity.numpy(), truth.astype(np.float64))
    write_pfm(tmp_path / "gt_disp_lowres.pfm", truth[:4])
    with pytest.raises(ValueError, match="gt_disp_lowres.pfm"):
        load_lightfield(tmp_path)


def test_sixteen_bit_views_keep_their_values(tmp_path):
    views = _stamp(3, 3, 5, 7, bits=16)
    _write(tmp_path, views, {(r, c): f"x_{r + 1}_{c + 1}.png" for r in range(3) for c in range(3)},
           bits=16)
    lf = load_lightfield(tmp_path, drop_dead_views=False)
    expect = torch.from_numpy(views[..., 0] / 65535.0).float()
    assert torch.allclose(lf.views[:, :, 0], expect, atol=1e-6)
    assert torch.equal(lf.views[:, :, 0], lf.views[:, :, 2])  # grey repeated
    assert 0.2 < float(lf.views.mean()) < 0.8  # not saturated to white


def test_ambiguous_layouts_say_so(tmp_path):
    views = _stamp(2, 2, 4, 4)
    _write(tmp_path / "two", views, {**{(r, c): f"a_{r + 1}_{c + 1}.png" for r in range(2)
                                        for c in range(2)}})
    _write(tmp_path / "two", views, {(r, c): f"b_{r + 1}_{c + 1}.png" for r in range(2)
                                     for c in range(2)})
    with pytest.raises(ValueError, match="ambiguous layout.*'a', 'b'"):
        load_lightfield(tmp_path / "two")
    _write(tmp_path / "mixed", views, {(0, 0): "input_Cam000.png", (0, 1): "s_1_1.png"})
    with pytest.raises(ValueError, match="ambiguous layout"):
        load_lightfield(tmp_path / "mixed")
    _write(tmp_path / "start", views, {(r, c): f"s_{r + 3}_{c + 3}.png" for r in range(2)
                                       for c in range(2)})
    with pytest.raises(ValueError, match="index_base"):
        load_lightfield(tmp_path / "start")
    assert load_lightfield(tmp_path / "start", index_base=1, grid=(4, 4),
                           drop_dead_views=False).grid_shape == (4, 4)
    (tmp_path / "none").mkdir()
    with pytest.raises(FileNotFoundError, match="no light-field views"):
        load_lightfield(tmp_path / "none")


def test_corrupt_and_mis_sized_views_name_the_file(tmp_path):
    views = _stamp(2, 2, 4, 4)
    _write(tmp_path, views, {(r, c): f"s_{r + 1}_{c + 1}.png" for r in range(2) for c in range(2)})
    data = (tmp_path / "s_2_2.png").read_bytes()
    (tmp_path / "s_2_2.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="s_2_2.png"):
        load_lightfield(tmp_path)
    Image.fromarray(views[1, 1][:3]).save(tmp_path / "s_2_2.png")
    with pytest.raises(ValueError, match="s_2_2.png: size 4x3"):
        load_lightfield(tmp_path)


def test_dead_views_are_left_out(tmp_path):
    U = V = 5
    views = _stamp(U, V, 8, 8)
    views[0, 0] = 0  # vignetted corners: black
    views[4, 4] = 3
    views[0, 4] = 128  # a constant frame
    _write(tmp_path, views, {(r, c): f"s_{r + 1}_{c + 1}.png" for r in range(U) for c in range(V)
                             if (r, c) != (4, 0)})  # and one missing file
    lf = load_lightfield(tmp_path)
    dropped = {(r, c): why for r, c, why in lf.meta["dropped_views"]}
    assert set(dropped) == {(0, 0), (4, 4), (0, 4), (4, 0)}
    assert "dark" in dropped[(0, 0)] and "contrast" in dropped[(0, 4)]
    assert "missing" in dropped[(4, 0)]
    # the largest usable sub-grid around the centre (2, 2): rows 1-3 and all 5 columns
    # (or the transpose); the centre view stays the centre view
    assert lf.grid_shape in ((3, 5), (5, 3))
    assert torch.equal(lf.center_view, torch.from_numpy(views[2, 2] / 255.0).float()
                       .permute(2, 0, 1))
    assert lf.meta["view_validity"].sum() == U * V - 4
    full = load_lightfield(tmp_path, drop_dead_views=False)
    assert full.grid_shape == (5, 5)
    views[2, 2] = 0
    Image.fromarray(views[2, 2]).save(tmp_path / "s_3_3.png")
    with pytest.raises(ValueError, match="centre view s_3_3.png"):
        load_lightfield(tmp_path)


def test_hci_folder_through_the_loader(tmp_path):
    views = torch.rand(3, 3, 3, 6, 8, generator=torch.Generator().manual_seed(1))
    from geodl.structures import PinholeCamera

    cam = PinholeCamera.look_at([0.0, 0.0, -2.0], [0.0, 0.0, 0.0], up=[0, -1, 0], width=8,
                                height=6, fov_deg=60)
    write_hci_scene(tmp_path / "s", LightField(views, cam, 0.05, 2.0))
    lf = load_lightfield(tmp_path / "s")
    assert lf.meta["layout"] == "hci" and lf.is_metric
    assert torch.allclose(lf.views, load_hci(tmp_path / "s").views)
    assert torch.allclose(lf.views, views, atol=0.5 / 255 + 1e-6)


def test_a_light_field_without_camera_refuses_metric_operations():
    lf = LightField(torch.rand(3, 3, 3, 4, 5))
    assert "no calibration" in repr(lf)
    with pytest.raises(ValueError, match="lacks camera, baseline, focus_distance"):
        lf.disparity_to_depth(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="lacks camera"):
        lf.camera_at(0, 0)
    lf = LightField(torch.rand(3, 3, 3, 4, 5), baseline=0.1)
    with pytest.raises(ValueError, match="lacks camera, focus_distance"):
        lf.depth_to_disparity(torch.ones(4, 5))


def _texture(H, W, seed):
    t = torch.rand(1, 3, H, W, generator=torch.Generator().manual_seed(seed))
    k = torch.tensor([1.0, 4, 6, 4, 1])
    k = (k[:, None] * k[None]) / 256
    return F.conv2d(F.pad(t, (2, 2, 2, 2), mode="reflect"), k.expand(3, 1, 5, 5), groups=3)[0]


def _sample(tex, x, y):
    C, H, W = tex.shape
    grid = torch.stack((2 * x / (W - 1) - 1, 2 * y / (H - 1) - 1), -1)[None]
    return F.grid_sample(tex[None], grid, align_corners=True, padding_mode="border")[0]


def _square_over_plane(U, V, H, W, d_bg, d_fg):
    """A textured square at disparity ``d_fg`` in front of a textured plane at
    ``d_bg``: view (r, c) shows centre pixel (x, y) at (x - d (c - c0), y - d (r - r0))."""
    bg, fg = _texture(H + 40, W + 40, 0), _texture(H + 40, W + 40, 1)
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32),
                            torch.arange(W, dtype=torch.float32), indexing="ij")
    r0, c0 = U // 2, V // 2
    views = torch.empty(U, V, 3, H, W)
    for r in range(U):
        for c in range(V):
            xf, yf = xs + d_fg * (c - c0), ys + d_fg * (r - r0)
            inside = ((xf >= 0.3 * W) & (xf < 0.7 * W) & (yf >= 0.3 * H) & (yf < 0.7 * H)).float()
            back = _sample(bg, xs + d_bg * (c - c0) + 20, ys + d_bg * (r - r0) + 20)
            views[r, c] = inside * _sample(fg, xf + 20, yf + 20) + (1 - inside) * back
    return views


@pytest.mark.parametrize("U,V,H,W,d_bg,d_fg", [(5, 5, 64, 80, -1.3, 1.7),
                                               (4, 6, 70, 50, 0.4, 2.2),
                                               (1, 7, 60, 90, -0.8, 1.1)])
def test_automatic_range_recovers_a_known_range(U, V, H, W, d_bg, d_fg):
    lo, hi = estimate_disparity_range(LightField(_square_over_plane(U, V, H, W, d_bg, d_fg)))
    assert abs(lo - d_bg) < 0.25 and abs(hi - d_fg) < 0.25


def test_automatic_range_refuses_blank_views():
    with pytest.raises(ValueError, match="too little texture"):
        estimate_disparity_range(LightField(torch.full((3, 3, 3, 32, 32), 0.5)))


_MODES = {"L": (np.uint8, 255, ()), "I;16": (np.uint16, 65535, ()),
          "RGB": (np.uint8, 255, (3,)), "RGBA": (np.uint8, 255, (4,))}


@settings(max_examples=40, deadline=None)
@given(mode=st.sampled_from(sorted(_MODES)), h=st.integers(1, 6), w=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1), suffix=st.sampled_from([".png", ".tif"]))
def test_read_image_gives_the_written_values_over_the_mode_maximum(tmp_path_factory, mode, h, w,
                                                                   seed, suffix):
    dtype, top, extra = _MODES[mode]
    values = np.random.default_rng(seed).integers(0, top + 1, size=(h, w, *extra), dtype=np.int64)
    path = tmp_path_factory.mktemp("img") / f"x{suffix}"
    img = Image.fromarray(values.astype(dtype))
    assert img.mode == mode
    img.save(path)
    back = read_image(path, channels=None)
    expect = values.astype(np.float64) / top
    assert back.shape[:2] == (h, w)
    assert np.allclose(back, expect.reshape(h, w, -1), atol=1e-6)


def test_depth_command_on_a_capture_without_parameters(tmp_path, capsys):
    from geodl.cli import main
    from geodl.lightfield import read_pfm

    views = _square_over_plane(5, 5, 48, 56, -0.8, 1.2)
    views[0, 0] = 0  # a vignetted corner
    lf = LightField(views)
    from geodl.lightfield.loader import write_views

    write_views(tmp_path / "cap", lf, "cap")
    assert main(["depth", str(tmp_path / "cap"), "--out", str(tmp_path / "d.pfm")]) == 0
    out = capsys.readouterr().out
    assert "left out 1 views" in out and "(0, 0) dark" in out
    assert "estimated from the views" in out
    d = read_pfm(tmp_path / "d.pfm")
    assert d.shape == (48, 56) and np.isfinite(d).all()
    assert abs(float(np.median(d[20:28, 24:32])) - 1.2) < 0.3  # inside the square


def test_cli_layout_errors_are_one_line(tmp_path, capsys):
    from geodl.cli import main

    views = _stamp(2, 2, 4, 4)
    _write(tmp_path / "amb", views, {(0, 0): "input_Cam000.png", (0, 1): "s_1_1.png"})
    _write(tmp_path / "bad", views, {(r, c): f"s_{r + 1}_{c + 1}.png" for r in range(2)
                                     for c in range(2)})
    (tmp_path / "bad" / "s_1_2.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    for folder, message in (("amb", "ambiguous layout"), ("bad", "s_1_2.png")):
        with pytest.raises(SystemExit) as exit_:
            main(["depth", str(tmp_path / folder), "--out", str(tmp_path / "d.pfm")])
        err = capsys.readouterr().err.strip().splitlines()
        assert exit_.value.code == 2 and len(err) == 1 and message in err[0], err


def test_view_of_a_light_field_without_camera_names_what_is_missing(tmp_path, capsys):
    from geodl.cli import main

    views = _stamp(3, 3, 6, 6)
    _write(tmp_path / "cap", views, {(r, c): f"s_{r + 1}_{c + 1}.png" for r in range(3)
                                     for c in range(3)})
    with pytest.raises(SystemExit) as exit_:
        main(["view", str(tmp_path / "cap"), "--html", str(tmp_path / "v.html")])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1
    assert "lacks camera, baseline, focus_distance" in err[0], err


@pytest.mark.slow  # three depth runs: 109 s measured while the machine was shared (load 24)
def test_readme_camera_section_runs_as_pasted(tmp_path, monkeypatch, capsys):
    """The README section's shell lines and Python block, on small light fields
    written where its placeholder paths point."""
    import re
    import shlex

    from geodl.cli import main
    from geodl.lightfield.loader import write_views

    small = LightField(_square_over_plane(5, 5, 40, 48, -0.6, 0.9))
    write_views(tmp_path / "path/to/2067", small, "2067")
    stanford = tmp_path / "path/to/stanford/lego"
    stanford.mkdir(parents=True)
    for r in range(5):
        for c in range(5):
            img = (small.views[r, c].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            Image.fromarray(img).save(stanford / f"out_{r:02d}_{c:02d}_{-1.5 * r:.6f}_{2.0 * c:.6f}_.png")
    nine = LightField(_square_over_plane(9, 9, 32, 32, -0.5, 0.5).flip(0))
    write_views(tmp_path / "path/to/views", nine, "v")
    text = (REPO / "README.md").read_text()
    section = text.split("## Light fields from cameras and benchmarks", 1)[1].split("\n## ", 1)[0]
    monkeypatch.chdir(tmp_path)
    for line in re.findall(r"```bash\n(.*?)```", section, re.S)[0].splitlines():
        argv = shlex.split(line.split("#", 1)[0])
        if argv:
            assert argv[0].endswith("geodl") and main(argv[1:]) == 0, line
    scope: dict = {}
    exec(compile(re.findall(r"```python\n(.*?)```", section, re.S)[0], "README.md", "exec"),
         scope)
    assert scope["disparity"].shape == (40, 48)
    lo, hi = scope["estimate_disparity_range"](scope["lf"])
    assert abs(lo + 0.6) < 0.25 and abs(hi - 0.9) < 0.25
