"""The learned refinement of cost_volume (refine_net): its features, its start
at the classical answer, save/reload, training, and the shipped weights on planes."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geodl.lightfield.depth import METHODS, estimate_disparity
from geodl.lightfield.depth.learned import WEIGHTS_DIR, load_model, save_model
from geodl.lightfield.depth.refine_net import (
    FEATURES,
    MATCHING,
    RefineNet,
    refine_features,
    refine_with_confidence,
)
from geodl.structures import LightField
from geodl.training.depth import TrainConfig, train
from geodl.training.depth_refine import RefineRoom, sample_crop
from tests.helpers import interior, plane_lightfield


def test_features_show_a_wrong_disparity_and_are_invariant_to_transposes():
    lf, truth = plane_lightfield(size=48, a=0.8)
    conf = torch.ones_like(truth)
    right = refine_features(lf, truth.float(), conf)
    wrong = refine_features(lf, truth.float() + 0.5, conf)
    assert right.shape == (FEATURES, 48, 48)
    inner = (slice(8, -8), slice(8, -8))
    assert float(right[5:][(slice(None), *inner)].mean()) < 0.1 * float(
        wrong[5:][(slice(None), *inner)].mean())
    # transposing both the image axes and the view grid transposes every feature map
    t = LightField(lf.views.permute(1, 0, 2, 4, 3).contiguous(), lf.camera, lf.baseline,
                   lf.focus_distance)
    ft = refine_features(t, truth.float().T + 0.3, conf.T)
    f = refine_features(lf, truth.float() + 0.3, conf)
    assert torch.allclose(ft, f.transpose(1, 2), atol=1e-5)


def test_network_gives_a_logit_per_pixel_at_any_size():
    torch.manual_seed(0)
    net = RefineNet((4, 6, 8)).eval()
    with torch.no_grad():
        assert net(torch.rand(2, FEATURES, 19, 27)).shape == (2, 19, 27)
    with pytest.raises(ValueError, match="expected"):
        net(torch.rand(1, 3, 8, 8))


def test_a_right_confidence_repairs_a_wrong_patch():
    _, truth = plane_lightfield(size=40, a=0.4, bx=0.01)
    d = truth.float().clone()
    d[15:25, 15:25] += 0.8  # a wrong patch inside a slanted, textureless plane
    right = torch.ones_like(d)
    right[15:25, 15:25] = 0
    out = refine_with_confidence(d, right, torch.full((3, 40, 40), 0.5))
    assert float((out - truth)[15:25, 15:25].abs().max()) < 0.02


def test_matching_pins_every_cost_volume_option():
    # a new or changed cost_volume default must not silently change what the
    # shipped weights read, nor reuse training caches built with other settings
    from geodl.training.depth_refine import refine_room_path
    trained = {"step": 0.2, "views": "star", "tau": 0.05, "tau_grad": 0.1, "alpha": 1.0,
               "radius": 0, "eps": 1e-4, "sgm_penalties": (0.002, 0.01), "sgm_paths": 4,
               "iterations": 3, "lk_radius": 3, "median": 4, "blur": 0.5, "lines": 2}
    assert MATCHING.matching() == trained and MATCHING.smooth == 0
    # the cache name (a hash of the matching) of the features the weights were trained on
    assert refine_room_path(Path("c"), 100, 512, MATCHING).name.endswith("_58d3bb8a.npz")


def test_data_weight_is_the_probability_to_the_power():
    # two pixels, uniform guide (affinity 1): the WLS normal equations
    # [[c1 + lam, -lam], [-lam, c2 + lam]] x = [c1 d1, c2 d2] solved by hand,
    # with c = p^4 + 1e-4
    d = torch.tensor([[0.0, 1.0]])
    p = torch.tensor([[1.0, 0.5]])
    guide = torch.zeros(3, 1, 2)
    c1, c2, lam = 1.0 + 1e-4, 0.5 ** 4 + 1e-4, 1.0
    det = (c1 + lam) * (c2 + lam) - lam ** 2
    expected = torch.tensor([[lam * c2 / det, (c1 + lam) * c2 / det]])
    out = refine_with_confidence(d, p, guide, lam=lam, power=4)
    assert torch.allclose(out, expected, atol=1e-5)
    # with the matching's confidence (0.8, 0.5) and confidence_power 1: c = p^4 conf + 1e-4
    conf = torch.tensor([[0.8, 0.5]])
    c1, c2 = 0.8 + 1e-4, 0.5 ** 4 * 0.5 + 1e-4
    det = (c1 + lam) * (c2 + lam) - lam ** 2
    expected = torch.tensor([[lam * c2 / det, (c1 + lam) * c2 / det]])
    out = refine_with_confidence(d, p, guide, lam=lam, power=4, confidence=conf,
                                 confidence_power=1)
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.equal(refine_with_confidence(d, p, guide, confidence=conf, confidence_power=0),
                       refine_with_confidence(d, p, guide))
    with pytest.raises(ValueError, match="power"):
        refine_with_confidence(d, p, guide, power=0)
    with pytest.raises(ValueError, match="confidence_power"):
        refine_with_confidence(d, p, guide, confidence=conf, confidence_power=-1)
    with pytest.raises(ValueError, match="confidence"):
        refine_with_confidence(d, p, guide, confidence=torch.ones(2, 2))


def test_save_reload_identical(tmp_path):
    torch.manual_seed(1)
    net = RefineNet((4, 6, 8)).eval()
    with torch.no_grad():
        for p in net.parameters():  # not the init: make every weight matter
            p.add_(0.01 * torch.randn_like(p))
    save_model(net, "refine_net", {"widths": [4, 6, 8]}, tmp_path)
    again = load_model("refine_net", tmp_path / "refine_net.pt")
    x = torch.rand(1, FEATURES, 24, 24)
    with torch.no_grad():
        assert torch.equal(net(x), again(x))
    lf, _ = plane_lightfield(size=32, a=0.7)
    a = METHODS["refine_net"](lf, (-2.0, 2.0), checkpoint=tmp_path / "refine_net.pt")
    b = METHODS["refine_net"](lf, (-2.0, 2.0), checkpoint=tmp_path)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def _tiny_rooms() -> list[RefineRoom]:
    """Random features; the classical disparity (channel 3) is 0.3 px off
    wherever the all-view residual (channel 9) exceeds 0.5, right elsewhere."""
    g = torch.Generator().manual_seed(0)
    rooms = []
    for _ in range(2):
        f = torch.rand(FEATURES, 32, 32, generator=g)
        rooms.append(RefineRoom(f, f[3] + 0.3 * (f[9] > 0.5).float()))
    return rooms


def test_crops_keep_input_and_truth_aligned():
    room = _tiny_rooms()[0]
    g = torch.Generator().manual_seed(3)
    for _ in range(8):
        f, d = sample_crop(room, 16, g)
        assert f.shape == (FEATURES, 16, 16) and d.shape == (16, 16)
        assert torch.allclose(d - f[3], 0.3 * (f[9] > 0.5).float(), atol=1e-5)


def test_training_learns_the_confidence_and_resumes(tmp_path):
    import json

    rooms = _tiny_rooms()
    cfg = dict(model="refine_net", batch=4, patch=16, val_every=40, ckpt_every=40, lr=1e-2,
               arch={"widths": [8, 8]})
    train(TrainConfig(steps=40, **cfg), tmp_path, cache=tmp_path, rooms=(rooms, rooms),
          progress=False)
    with pytest.raises(FileExistsError, match="resume"):
        train(TrainConfig(steps=40, **cfg), tmp_path, cache=tmp_path, rooms=(rooms, rooms),
              progress=False)
    model = train(TrainConfig(steps=80, **cfg), tmp_path, cache=tmp_path,
                  rooms=(rooms, rooms), progress=False, resume=True)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [40, 80] and "cost_volume_badpix_0.07" in log[-1]
    f, bad = rooms[0].features, rooms[0].features[9] > 0.5
    with torch.no_grad():
        p = torch.sigmoid(model(f[None])[0])
    assert float(p[~bad].mean()) > float(p[bad].mean()) + 0.3  # it tells right from wrong
    assert load_model("refine_net", tmp_path) is not None


@pytest.mark.skipif(not (WEIGHTS_DIR / "refine_net.pt").exists(), reason="no shipped weights")
@pytest.mark.parametrize("plane,tol", [({"a": 1.3}, 0.05), ({"a": -0.8}, 0.05),
                                       ({"a": 0.4, "bx": 0.02, "by": -0.015}, 0.1)])
def test_shipped_weights_recover_planes(plane, tol):
    lf, truth = plane_lightfield(size=64, seed=7, **plane)
    disp, conf = estimate_disparity(lf, method="refine_net", disp_range=(-3.0, 3.0))
    err = float(interior((disp - truth).abs(), 12).median())
    print(f"refine_net {plane}: median |error| {err:.4f} px")
    assert err < tol
