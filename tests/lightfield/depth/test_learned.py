"""Learned disparity methods: augmentations keep the light-field geometry,
save/reload is exact, the shipped weights recover planes, and two gloo ranks
of DistributedDataParallel end with identical weights."""
from __future__ import annotations

import time

import pytest
import torch

from geodl.lightfield.depth import METHODS, estimate_disparity
from geodl.lightfield.depth.learned import WEIGHTS_DIR, load_model, save_model, star_stacks, star_views
from geodl.training.depth import (
    DEFAULT_CONFIGS,
    Room,
    TrainConfig,
    augment_grid,
    build_model,
    predict,
    sample_patch,
    train,
)
from tests.helpers import (
    assert_ranks_agree_and_trained,
    interior,
    plane_lightfield,
    plane_views,
    train_on_two_gloo_ranks,
)

MODELS = ["epinet", "cost_net"]


def _shift_residual(grid: torch.Tensor, d: int) -> float:
    """max |view(r, c)[y, x] - centre[y + d dr, x + d dc]| over the star views' interiors."""
    n = grid.shape[0]
    m = n // 2
    P = grid.shape[-1]
    k = abs(d) * m
    worst = 0.0
    for r, c in star_views(n):
        dr, dc = d * (r - m), d * (c - m)
        v = grid[r, c, k:P - k, k:P - k]
        ref = grid[m, m, k + dr:P - k + dr, k + dc:P - k + dc]
        worst = max(worst, float((v - ref).abs().max()))
    return worst


def test_star_layout():
    stacks = star_stacks(9)
    assert [len(s) for s in stacks] == [9] * 4
    assert len(star_views(9)) == 33
    for s in stacks:  # every stack passes through the centre, offsets along one line
        assert (4, 4) in s
    with pytest.raises(ValueError, match="grid"):
        star_stacks(8)


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("transpose", [False, True])
def test_augment_keeps_disparity_geometry(k, transpose):
    views, disp = plane_views(size=48, a=1.0, seed=3)
    assert _shift_residual(views, 1) < 1e-5  # the plane itself obeys the HCI relation
    grid, d = augment_grid(views, disp, k, transpose)
    assert _shift_residual(grid, 1) < 1e-5
    assert torch.equal(d, torch.ones_like(d))


def test_augment_images_alone_would_flip_the_sign():
    """Negative control: turning the images but not the view grid breaks the
    relation (it would need disparity -1), so the test above can fail."""
    views, _ = plane_views(size=48, a=1.0, seed=3)
    flipped = torch.flip(views, dims=(3,))
    assert _shift_residual(flipped, 1) > 0.05
    assert _shift_residual(torch.flip(flipped, dims=(0, 1)), -1) > 0.05
    assert _shift_residual(torch.flip(views, dims=(1, 3)), 1) < 1e-5


def test_sample_patch_scales_labels_and_rejects_flat():
    views, disp = plane_views(size=96, a=2.0, seed=1)
    room = Room(torch.stack([views[r, c] for r, c in star_views(9)]), disp)
    g = torch.Generator().manual_seed(0)
    labels = set()
    for _ in range(20):
        grid, d = sample_patch(room, 24, g, min_texture=0.0)
        assert grid.shape == (9, 9, 24, 24) and d.shape == (24, 24)
        labels.add(round(float(d.mean()), 4))
    assert labels == {2.0, 1.0}  # scale 1 and scale 2 (disparity halved)
    flat = Room(torch.full((33, 96, 96), 0.5), disp)
    assert sample_patch(flat, 24, g, min_texture=0.03, tries=5) is None


@pytest.mark.parametrize("name", MODELS)
def test_fully_convolutional_any_size(name):
    torch.manual_seed(0)
    model = build_model(name, DEFAULT_CONFIGS[name]).eval()
    with torch.no_grad():
        out = predict(model, torch.rand(2, 9, 9, 19, 27))
    assert out.shape == (2, 19, 27) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", MODELS)
def test_save_reload_identical(name, tmp_path):
    torch.manual_seed(1)
    model = build_model(name, DEFAULT_CONFIGS[name]).eval()
    with torch.no_grad():
        for p in model.parameters():  # not the init: make every weight matter
            p.add_(0.01 * torch.randn_like(p))
    save_model(model, name, DEFAULT_CONFIGS[name], tmp_path)
    again = load_model(name, tmp_path / f"{name}.pt")
    lf, _ = plane_lightfield(size=40, a=0.7)
    a = METHODS[name](lf, (-2.0, 2.0), checkpoint=tmp_path / f"{name}.pt")
    b = METHODS[name](lf, (-2.0, 2.0), checkpoint=tmp_path)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    grids = torch.rand(1, 9, 9, 24, 24)
    with torch.no_grad():
        assert torch.equal(predict(model, grids), predict(again, grids))
    with pytest.raises(ValueError, match="holds a"):
        load_model("cost_net" if name == "epinet" else "epinet", tmp_path / f"{name}.pt")


PLANES = [({"a": 1.3}, 0.05), ({"a": -0.8}, 0.05), ({"a": 0.4, "bx": 0.02, "by": -0.015}, 0.1)]
# measured with the shipped weights (tests/lightfield/depth/test_learned.py -s prints them):
# cost_net 0.028 / 0.029 / 0.035 px, epinet 0.069 / 0.036 / 0.026 px
EPINET_MISS = pytest.mark.xfail(reason="shipped epinet: 0.069 px on the 1.3 px plane (goal "
                                "0.05); more training is needed", strict=True)


@pytest.mark.skipif(not (WEIGHTS_DIR / "epinet.pt").exists(), reason="no shipped weights")
@pytest.mark.parametrize("name,plane,tol", [
    pytest.param(n, p, t, marks=EPINET_MISS if (n, p["a"]) == ("epinet", 1.3) else ())
    for n in MODELS for p, t in PLANES])
def test_shipped_weights_recover_planes(name, plane, tol):
    lf, truth = plane_lightfield(size=64, seed=7, **plane)
    t0 = time.perf_counter()
    disp, conf = estimate_disparity(lf, method=name, disp_range=(-3.0, 3.0))
    seconds = time.perf_counter() - t0
    assert disp.shape == (64, 64) and conf.shape == (64, 64)
    assert float(conf.min()) >= 0 and float(conf.max()) <= 1
    err = float(interior((disp - truth).abs(), 12).median())
    print(f"{name} {plane}: median |error| {err:.4f} px, {seconds:.2f} s")
    assert seconds < 60  # "in seconds"; a loose bound: the speed goals live in benchmarks/
    assert err < tol


def _tiny_rooms() -> list[Room]:
    rooms = []
    for s in range(2):
        views, disp = plane_views(size=40, a=0.5 + s, seed=s)
        rooms.append(Room(torch.stack([views[r, c] for r, c in star_views(9)]), disp))
    return rooms


TINY = {"n_views": 9, "features": 4, "width": 4, "depth3d": 1, "label_step": 1.0}


def test_training_resumes_and_refuses_to_overwrite(tmp_path):
    import json

    rooms = _tiny_rooms()
    cfg = dict(model="cost_net", batch=2, patch=16, val_every=2, ckpt_every=2, val_crop=32,
               arch=TINY)
    train(TrainConfig(steps=2, **cfg), tmp_path, cache=tmp_path, rooms=(rooms, rooms[:1]),
          progress=False)
    with pytest.raises(FileExistsError, match="resume"):
        train(TrainConfig(steps=2, **cfg), tmp_path, cache=tmp_path, rooms=(rooms, rooms[:1]),
              progress=False)
    train(TrainConfig(steps=4, **cfg), tmp_path, cache=tmp_path, rooms=(rooms, rooms[:1]),
          progress=False, resume=True)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and "badpix_0.07" in log[-1]
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 4
    model = load_model("cost_net", tmp_path)  # model.pt + model.json of the run
    assert torch.equal(model.state_dict()["view_bias"], ck["ema"]["view_bias"])


def test_train_config_validates():
    with pytest.raises(ValueError, match="model"):
        TrainConfig(model="nope")
    with pytest.raises(ValueError, match="batch"):
        TrainConfig(model="epinet", batch=-1)


def _train_on_a_rank(out: str) -> torch.nn.Module:
    rooms = _tiny_rooms()
    cfg = TrainConfig(model="cost_net", steps=3, batch=2, patch=16, val_every=3, ckpt_every=3,
                      val_crop=32, arch=TINY)
    return train(cfg, out, cache=out, rooms=(rooms, rooms[:1]), progress=False,
                 device=torch.device("cpu"))


@pytest.mark.slow
def test_ddp_two_gloo_ranks_end_identical(tmp_path):
    states = train_on_two_gloo_ranks(_train_on_a_rank, tmp_path)
    torch.manual_seed(0)
    init = build_model("cost_net", TINY).state_dict()
    assert_ranks_agree_and_trained(states, init, tmp_path / "run")


@pytest.mark.parametrize("name", MODELS)
def test_learned_methods_reject_other_grids(name):
    lf, _ = plane_lightfield(size=24, n=7, a=0.5)
    with pytest.raises(ValueError, match="grid"):  # the weights are for 9 x 9
        estimate_disparity(lf, method=name, disp_range=(-2, 2))
    views = lf.views[:, :6]
    from geodl.structures import LightField
    with pytest.raises(ValueError, match="square odd grid"):
        estimate_disparity(LightField(views, lf.camera, 0.01, 1.0), method=name,
                           disp_range=(-2, 2))


def test_room_caches_are_named_by_how_the_rooms_were_rendered(tmp_path):
    """A cache of one-ray-per-pixel rooms is never read as
    the anti-aliased rooms: the file names carry the rays per pixel side, and
    refine_net's also the matching options' hash."""
    from geodl.datasets import ROOM_SUPERSAMPLE
    from geodl.lightfield.depth import CostVolumeConfig
    from geodl.training.depth_refine import refine_room_path
    from geodl.training.rooms import room_path

    assert room_path(tmp_path, 3, 64).name == f"room_0003_64_ss{ROOM_SUPERSAMPLE}.npz"
    a = refine_room_path(tmp_path, 3, 64, CostVolumeConfig())
    b = refine_room_path(tmp_path, 3, 64, CostVolumeConfig(iterations=3))
    assert a.name.startswith(f"refine_0003_64_ss{ROOM_SUPERSAMPLE}_") and a != b
    # the final smoothing is no part of the matching the features hold
    assert refine_room_path(tmp_path, 3, 64, CostVolumeConfig(smooth=0.0)) == a


def test_objects_scenes_join_the_training_caches(tmp_path):
    """An objects scene is cached beside the rooms under its own name (a
    room and an objects scene of one seed never share a file), read back as
    a training room with its +-4 px disparity, and recorded with the run."""
    from geodl.lightfield.depth.refine_net import MATCHING
    from geodl.training.depth import cache_room
    from geodl.training.depth_refine import RefineRoom, cache_refine_room, refine_room_path
    from geodl.training.rooms import render_training_scene, training_scenes

    path = cache_room(2, 32, tmp_path, "objects")
    assert path.name.startswith("objects_0002_32_")
    room = Room.load(path)
    assert room.views.shape == (len(star_views(9)), 32, 32)
    d = room.disparity[torch.isfinite(room.disparity)]
    assert float(d.max()) > 3.0 and float(d.min()) < -3.0
    assert refine_room_path(tmp_path, 2, 32, MATCHING, "objects").name.startswith("refine_objects_")
    refine = RefineRoom.load(cache_refine_room(2, 32, tmp_path, "objects"))
    assert refine.features.shape[1:] == (32, 32)
    assert bool(torch.isfinite(refine.features).all())
    assert torch.equal(refine.disparity, room.disparity)  # the same scene's ground truth
    assert training_scenes(8, 4) == "training_seeds(8) + objects scenes 0..3"
    with pytest.raises(ValueError, match="family"):
        render_training_scene("streets", 0, 32)
    with pytest.raises(ValueError, match="objects"):
        TrainConfig(model="epinet", objects=-1)


def test_a_real_scene_folder_is_validated_whole(tmp_path):
    """``val_scenes``: a light-field folder with ground truth is read as
    grey star views and scored whole with the benchmark's 15 px border; the
    logged BadPix equals that of the saved weights run through
    ``estimate_disparity`` on the folder read back, an independent path."""
    import json

    from geodl.lightfield import load_lightfield
    from geodl.lightfield.hci_io import write_hci_scene
    from geodl.structures.disparity_ground_truth import GroundTruth

    lf, disp = plane_lightfield(size=48, a=0.8, bx=0.01, seed=3)
    bare = write_hci_scene(tmp_path / "bare", lf)
    lf.ground_truth = GroundTruth(disparity=disp)
    scene = write_hci_scene(tmp_path / "plane", lf)
    room = Room.from_scene(scene)
    assert room.views.shape == (len(star_views(9)), 48, 48)
    assert torch.allclose(room.disparity, disp, atol=1e-5)
    tiny_epinet = {"n_views": 9, "width": 4, "stream_blocks": 1, "merge_blocks": 1,
                   "normalize": True}
    cfg = TrainConfig(model="epinet", steps=2, batch=2, patch=16, val_every=2, ckpt_every=2,
                      val_crop=32, val_scenes=[str(scene)], arch=tiny_epinet)
    rooms = _tiny_rooms()
    train(cfg, tmp_path / "run", cache=tmp_path, rooms=(rooms, rooms[:1]), progress=False)
    last = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[-1])
    est, _ = estimate_disparity(load_lightfield(scene), method="epinet",
                                checkpoint=str(tmp_path / "run"), planes=False)
    bad = 100 * float(((est - disp).abs() > 0.07)[15:-15, 15:-15].float().mean())
    assert last["plane_badpix_0.07"] == pytest.approx(bad, abs=0.5)
    assert "badpix_0.07" in last  # the held-out room beside it
    with pytest.raises(ValueError, match="ground-truth"):
        Room.from_scene(bare)
    with pytest.raises(ValueError, match="val_scenes"):
        TrainConfig(model="refine_net", val_scenes=[str(scene)])
