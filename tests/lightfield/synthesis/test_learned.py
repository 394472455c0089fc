"""Learned view synthesis: the model's shapes and ranges, exact save/reload,
gradients reaching both stages, training examples that keep the light-field
geometry, and a training run that logs, saves and resumes."""
from __future__ import annotations

import json

import pytest
import torch

from geodl.lightfield.synthesis.learned import (
    STORE,
    SynthesisNet,
    load_synthesis_model,
    synthesize_learned,
    warp_sources,
)
from geodl.training.synthesis import (
    SynthRoom,
    SynthTrainConfig,
    sample_batch,
    sample_example,
    train_synthesis,
)
from tests.helpers import (
    assert_ranks_agree_and_trained,
    lightfield_of,
    plane_views,
    train_on_two_gloo_ranks,
)

TINY = {"levels": 8, "width": 8, "dilations": [1, 2], "colour_width": 4, "decoder_width": 4,
        "disp_scale": 2}
CORNERS = [(0, 0), (0, 8), (8, 0), (8, 8)]


def _rgb(grey: torch.Tensor) -> torch.Tensor:
    """(..., H, W) grey -> (..., 3, H, W) with a different gain per channel."""
    gains = torch.tensor([1.0, 0.8, 0.6])[:, None, None]
    return grey[..., None, :, :] * gains


def _plane_room(a: float, size: int, seed: int = 0) -> SynthRoom:
    views, _ = plane_views(size=size, a=a, seed=seed)
    u8 = (_rgb(views) * 255).round().to(torch.uint8)
    return SynthRoom(u8, (a - 0.25, a + 0.25), torch.full((size, size), a))


def _perturbed(arch: dict, seed: int = 0) -> SynthesisNet:
    torch.manual_seed(seed)
    model = SynthesisNet(**arch).eval()
    with torch.no_grad():
        for p in model.parameters():  # not the init: make every weight matter
            p.add_(0.05 * torch.randn_like(p))
    return model


@pytest.mark.parametrize("n_src", [4, 5])
def test_model_shapes_and_ranges(n_src):
    model = _perturbed(TINY)
    views = torch.rand(2, n_src, 3, 30, 38)
    pos = torch.tensor(CORNERS + [(4, 4)])[:n_src].float().expand(2, -1, -1)
    target = torch.tensor([[3.5, 2.25], [4.0, 4.0]])
    rng = torch.tensor([[-1.0, 2.0], [-3.0, 0.5]])
    with torch.no_grad():
        colour, disp = model(views, pos, target, rng)
    assert colour.shape == (2, 3, 30, 38) and disp.shape == (2, 30, 38)
    assert torch.isfinite(colour).all()
    for b in range(2):  # the soft-argmin stays inside the scene's range
        assert float(disp[b].min()) >= rng[b, 0] - 1e-5 and float(disp[b].max()) <= rng[b, 1] + 1e-5


def test_synthesize_learned_clips_and_checks(tmp_path):
    model = _perturbed(TINY)
    views = torch.rand(4, 3, 24, 24)
    out, disp = synthesize_learned(views, CORNERS, [(4, 4), (1.5, 6.25)], (-2.0, 2.0),
                                   model=model)
    assert out.shape == (2, 3, 24, 24) and disp.shape == (2, 24, 24)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    with pytest.raises(ValueError, match="positions"):
        synthesize_learned(views, CORNERS[:3], [(4, 4)], (-2.0, 2.0), model=model)
    with pytest.raises(ValueError, match="disp_range"):
        synthesize_learned(views, CORNERS, [(4, 4)], (2.0, -2.0), model=model)
    with pytest.raises(ValueError, match="views"):
        model(torch.rand(1, 4, 1, 8, 8), torch.zeros(1, 4, 2), torch.zeros(1, 2),
              torch.tensor([[0.0, 1.0]]))


def test_save_reload_identical(tmp_path):
    model = _perturbed(TINY, seed=3)
    STORE.save(model, "learned", TINY, tmp_path)
    again = load_synthesis_model(tmp_path / "learned.pt")
    views = torch.rand(4, 3, 20, 22)
    a = synthesize_learned(views, CORNERS, [(2.5, 3.0)], (-1.0, 1.5), model=model)
    b = synthesize_learned(views, CORNERS, [(2.5, 3.0)], (-1.0, 1.5), model=again)
    c = synthesize_learned(views, CORNERS, [(2.5, 3.0)], (-1.0, 1.5), checkpoint=tmp_path)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and torch.equal(a[0], c[0])
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        load_synthesis_model(tmp_path / "missing.pt")


def test_gradient_reaches_both_stages():
    model = _perturbed(TINY).train()
    views = torch.rand(1, 4, 3, 24, 24)
    pos = torch.tensor([CORNERS]).float()
    colour, _ = model(views, pos, torch.tensor([[3.0, 5.0]]), torch.tensor([[-2.0, 2.0]]))
    (colour - torch.rand_like(colour)).abs().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # the disparity net learns from the colour loss alone, through the warp
    assert float(model.disp_net[-1].weight.grad.abs().sum()) > 0
    assert float(model.encoder[0].weight.grad.abs().sum()) > 0


def test_examples_keep_the_light_field_geometry():
    """Whatever sub-grid, rotation, transpose and scale were drawn, warping the
    example's sources by the plane's disparity (halved at scale 2) reproduces
    its target: views and positions were re-indexed consistently."""
    a, margin = 2.0, 16
    room = _plane_room(a, size=112)
    g = torch.Generator().manual_seed(0)
    scales, worst, wrong = set(), 0.0, []
    for i in range(24):
        ex = sample_example(room, 16, margin, g, [9, 7, 5, 3], centre=bool(i % 2))
        d = float(ex.disp_range.mean())  # a / s
        scales.add(round(a / d))
        # the true disparity of the target follows the scale
        assert torch.allclose(ex.truth_disp, torch.full_like(ex.truth_disp, d), atol=1e-5)
        S = ex.views.shape[-1]
        off = (ex.target[None] - ex.positions)[None]
        for sign, store in ((1.0, None), (-1.0, wrong)):
            warped = warp_sources(ex.views[None], torch.full((1, S, S), sign * d), off)[0]
            err = (warped - ex.truth)[..., margin:-margin, margin:-margin].abs().amax()
            if store is None:
                worst = max(worst, float(err))
            else:
                store.append(float(err))
    assert scales == {1, 2}
    assert worst < 2e-3
    assert min(wrong) > 0.02  # negative control: the wrong sign does not fit


def test_sample_batch_shapes_and_centre_source():
    rooms = [_plane_room(1.0, 64, seed=s) for s in range(2)]
    g = torch.Generator().manual_seed(1)
    ns = set()
    for _ in range(12):
        views, pos, tgt, truth, rng, truth_disp = sample_batch(rooms, 3, 16, 8, g, [9, 7, 4],
                                                               0.5)
        assert truth_disp.shape == (3, 32, 32)  # the plane's, halved at scale 2
        assert torch.allclose(truth_disp, rng.mean(1)[:, None, None].expand(3, 32, 32))
        n = views.shape[1]
        ns.add(n)
        assert views.shape[0] == 3 and views.shape[2:] == (3, 32, 32)
        assert pos.shape == (3, n, 2) and tgt.shape == (3, 2) and truth.shape == (3, 3, 32, 32)
        assert rng.shape == (3, 2)
        assert float(views.min()) >= 0 and float(views.max()) <= 1
        for b in range(3):  # the target is never a source
            assert not (pos[b] == tgt[b]).all(1).any()
    assert ns == {4, 5}


def _tiny_rooms() -> list[SynthRoom]:
    return [_plane_room(0.5 + s, 64, seed=s) for s in range(2)]


CFG = dict(batch=2, patch=16, margin=8, val_every=2, ckpt_every=2, val_crop=40, arch=TINY)


def test_training_resumes_and_refuses_to_overwrite(tmp_path):
    rooms = _tiny_rooms()
    train_synthesis(SynthTrainConfig(steps=2, **CFG), tmp_path, cache=tmp_path,
                    rooms=(rooms, rooms[:1]), progress=False)
    with pytest.raises(FileExistsError, match="resume"):
        train_synthesis(SynthTrainConfig(steps=2, **CFG), tmp_path, cache=tmp_path,
                        rooms=(rooms, rooms[:1]), progress=False)
    train_synthesis(SynthTrainConfig(steps=4, **CFG), tmp_path, cache=tmp_path,
                    rooms=(rooms, rooms[:1]), progress=False, resume=True)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4]
    assert {"psnr", "psnr_9x9", "psnr_7x7", "loss", "seconds"} <= set(log[-1])
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 4
    best = json.loads((tmp_path / "best.json").read_text())["info"]  # the best validation
    assert best["val_psnr"] == max(r["psnr"] for r in log)
    assert best["steps"] in (2, 4)
    model = load_synthesis_model(tmp_path)  # model.pt + model.json of the run
    for k, v in model.state_dict().items():
        assert torch.equal(v, ck["ema"][k]), k
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["steps"] == 4 and cfg["arch"] == TINY


def test_training_changes_weights_and_keeps_the_plane_sweep_start(tmp_path):
    """The untrained network is the plane sweep (exact on a fronto-parallel
    plane); a few steps change every trained layer and keep it accurate."""
    from geodl.training.synthesis import validate

    rooms = _tiny_rooms()[:1]
    torch.manual_seed(0)
    init = SynthesisNet(**TINY)
    assert validate(init, rooms, 40, 8, torch.device("cpu"))["psnr"] > 40
    cfg = dict(CFG, val_every=10, ckpt_every=10, lr=3e-3)
    model = train_synthesis(SynthTrainConfig(steps=10, **cfg), tmp_path, cache=tmp_path,
                            rooms=(rooms, rooms), progress=False)
    log = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    assert log["psnr"] > 30
    changed = {k.split(".")[0] for k, v in model.state_dict().items()
               if not torch.equal(v, init.state_dict()[k])}
    assert {"disp_net", "encoder", "decoder", "weight_head", "sweep_gain"} <= changed


def test_config_validates():
    with pytest.raises(ValueError, match="subgrids"):
        SynthTrainConfig(subgrids=[10])
    with pytest.raises(ValueError, match="batch"):
        SynthTrainConfig(batch=0)
    with pytest.raises(ValueError, match="val_crop"):
        SynthTrainConfig(val_crop=40, margin=24)
    with pytest.raises(ValueError, match="levels"):
        SynthesisNet(levels=1)
    with pytest.raises(ValueError, match="benchmark"):
        from geodl.datasets import BENCHMARK_SEEDS
        from geodl.training.synthesis import cache_room
        cache_room(BENCHMARK_SEEDS[0], 64, "/nonexistent")


def _train_on_a_rank(out: str) -> torch.nn.Module:
    rooms = _tiny_rooms()
    cfg = SynthTrainConfig(steps=3, **dict(CFG, val_every=3, ckpt_every=3))
    return train_synthesis(cfg, out, cache=out, rooms=(rooms, rooms[:1]), progress=False,
                           device=torch.device("cpu"))


@pytest.mark.slow
def test_ddp_two_gloo_ranks_end_identical(tmp_path):
    states = train_on_two_gloo_ranks(_train_on_a_rank, tmp_path)
    torch.manual_seed(0)
    init = SynthesisNet(**TINY).state_dict()
    assert_ranks_agree_and_trained(states, init, tmp_path / "run")


def _plane_lf(a: float = 1.0, size: int = 48, seed: int = 0):
    views, _ = plane_views(size=size, a=a, seed=seed)
    return lightfield_of(_rgb(views))


def test_front_door_learned(tmp_path):
    from geodl.lightfield.synthesis import METHODS, synthesize_views

    assert "learned" in METHODS
    STORE.save(_perturbed(TINY), "learned", TINY, tmp_path)
    lf = _plane_lf()
    out, valid, where = synthesize_views(lf, "corners", [(4, 4), (2.5, 3.25)], method="learned",
                                         disp_range=(-2.0, 2.0), checkpoint=tmp_path,
                                         progress=False)
    assert out.shape == (2, 3, 48, 48) and valid.shape == (2, 48, 48) and where.shape == (2, 2)
    assert float(out.min()) >= 0 and float(out.max()) <= 1 and valid.any()
    # many sources: each target uses its nearest max_sources, the result has the same form
    out, valid, _ = synthesize_views(lf, "all-but-centre", [(4, 4)], method="learned",
                                     disp_range=(-2.0, 2.0), checkpoint=tmp_path,
                                     max_sources=4, progress=False)
    assert out.shape == (1, 3, 48, 48) and bool(valid.all())  # the 4 neighbours cover it
    with pytest.raises(ValueError, match="disparity"):
        synthesize_views(lf, "corners", [(4, 4)], method="learned", disp_range=(-2.0, 2.0),
                         checkpoint=tmp_path, disparity=torch.zeros(9, 9, 48, 48))
    with pytest.raises(ValueError, match="max_sources"):
        synthesize_views(lf, "corners", [(4, 4)], method="learned", disp_range=(-2.0, 2.0),
                         checkpoint=tmp_path, max_sources=1)


def test_shipped_weights_load_and_run():
    from geodl.lightfield.synthesis.learned import WEIGHTS_DIR

    if not (WEIGHTS_DIR / "learned.pt").exists():
        pytest.skip("no shipped weights")
    model = load_synthesis_model()
    assert sum(p.numel() for p in model.parameters()) < 1_000_000  # a small model
    views = torch.rand(4, 3, 40, 40)
    out, disp = synthesize_learned(views, CORNERS, [(4, 4), (3.5, 2.25)], (-3.0, 3.0), model=model)
    assert out.shape == (2, 3, 40, 40) and torch.isfinite(disp).all()
    assert float(disp.min()) >= -3.0 - 1e-4 and float(disp.max()) <= 3.0 + 1e-4


def test_disparity_term_of_the_loss():
    """The disparity term is the mean |d - truth| over known pixels, weighted."""
    from geodl.training.synthesis import synthesis_loss

    pred = torch.zeros(1, 3, 12, 12)
    truth = torch.zeros(1, 3, 12, 12)
    d = torch.full((1, 12, 12), 0.5)
    t = torch.full((1, 12, 12), 1.0)
    t[0, :, :6] = torch.nan  # unknown: not counted
    t[0, 3, 8] = 3.0
    loss = synthesis_loss(pred, truth, 2, 0.5, d, t, 0.1)
    # by hand: the 8 x 8 inner pixels, columns 2-5 unknown -> 32 known, 31 off
    # by 0.5 and one by 2.5: mean 18 / 32
    assert float(loss) == pytest.approx(0.1 * 18 / 32)
    assert float(synthesis_loss(pred, truth, 2, 0.5, d, t, 0.0)) == 0.0


def test_plane_sweep_over_a_range_narrower_than_three_labels():
    """A range of one or two labels (a scene of one depth, halved by a scale
    augmentation) gives the nearest label instead of failing."""
    from geodl.lightfield.synthesis.sparse_disparity import plane_sweep_disparity

    lf = _plane_lf(a=1.0, size=32)
    views = torch.stack([lf.view(r, c) for r, c in CORNERS])
    for rng in ((0.95, 1.05), (0.9, 1.1)):
        d, _ = plane_sweep_disparity(views, torch.tensor(CORNERS).double(), (4.0, 4.0), rng)
        assert float((d[8:-8, 8:-8] - 1.0).abs().median()) <= 0.1
