"""Typed settings of the estimators and of the training loop: the answers
they pin on a small slanted plane, the keyword interface beside
``config=``, hashing and checks."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from geodl.lightfield.depth import cost_volume_disparity
from geodl.lightfield.depth.cost_volume import ROOM_MATCHING
from tests.helpers import plane_lightfield

#: sums of disparity, confidence and squared disparity on the 5 x 5, 32 px
#: plane d = 0.5 + 0.01 (x - mid), range (-1, 2): the answers of the settings.
#: The rooms' matching (``ROOM_MATCHING``) and its variants keep the answers the
#: defaults gave before the real-scene defaults, so the room benchmark, the
#: room fusion and ``refine_net`` read the same disparity
PINNED = [({"config": ROOM_MATCHING},
           (510.79624778032303, 657.7521962672472, 265.80769655045447)),
          ({"config": ROOM_MATCHING, "iterations": 0},
           (510.8434725718107, 657.7521962672472, 264.1536024916646)),
          ({"config": ROOM_MATCHING, "smooth": 0, "views": "all", "lines": 4},
           (510.31317296624184, 636.6063871532679, 265.58017385142085)),
          ({}, (508.1488182756584, 668.38622187078, 261.85290800077325))]


@pytest.fixture(scope="module")
def plane():
    return plane_lightfield(size=32, n=5, a=0.5, bx=0.01)[0]


@pytest.mark.parametrize("options, sums", PINNED)
def test_cost_volume_answers_are_pinned(plane, options, sums):
    d, c = cost_volume_disparity(plane, (-1.0, 2.0), **options)
    got = (float(d.double().sum()), float(c.double().sum()), float(d.double().square().sum()))
    assert got == pytest.approx(sums, rel=1e-6)


def test_keywords_and_config_give_the_same_answer(plane):
    from geodl.lightfield.depth import estimate_disparity
    from geodl.lightfield.depth.cost_volume import CostVolumeConfig

    by_name = cost_volume_disparity(plane, (-1.0, 2.0), iterations=0, median=2)
    config = CostVolumeConfig(iterations=0, median=2)
    assert all(torch.equal(a, b) for a, b in
               zip(by_name, cost_volume_disparity(plane, (-1.0, 2.0), config=config)))
    # keywords replace single fields of a given config
    mixed = cost_volume_disparity(plane, (-1.0, 2.0), config=CostVolumeConfig(median=2),
                                  iterations=0)
    assert all(torch.equal(a, b) for a, b in zip(by_name, mixed))
    through = estimate_disparity(plane, "cost_volume", disp_range=(-1.0, 2.0), config=config)
    assert all(torch.equal(a, b) for a, b in zip(by_name, through))


def test_unknown_options_are_named(plane):
    from geodl.lightfield.depth import estimate_disparity
    from geodl.lightfield.depth.textureless import fill_textureless

    with pytest.raises(TypeError, match="'iteration'"):
        cost_volume_disparity(plane, (-1.0, 2.0), iteration=0)
    with pytest.raises(TypeError, match="'tau_grd'.*cost_volume_disparity|cost_volume_disparity.*'tau_grd'"):
        estimate_disparity(plane, "cost_volume", disp_range=(-1.0, 2.0), tau_grd=0.1)
    with pytest.raises(TypeError, match="'nope'"):
        estimate_disparity(plane, "refine_net", disp_range=(-1.0, 2.0), nope=1)
    with pytest.raises(TypeError, match="'rings'"):
        fill_textureless(torch.zeros(8, 8), torch.zeros(8, 8), torch.zeros(3, 8, 8), rings=2)
    with pytest.raises(TypeError, match="config: expected a CostVolumeConfig"):
        cost_volume_disparity(plane, (-1.0, 2.0), config={"iterations": 0})


def test_configs_are_frozen_hashable_and_checked():
    from geodl.lightfield.depth.cost_volume import CostVolumeConfig
    from geodl.lightfield.depth.refine_net import MATCHING, RefineConfig
    from geodl.lightfield.depth.textureless import TexturelessConfig

    a = CostVolumeConfig(sgm_penalties=[0.008, 0.04])  # a list becomes the default tuple
    assert a == CostVolumeConfig() and hash(a) == hash(CostVolumeConfig())
    assert len({CostVolumeConfig(), CostVolumeConfig(iterations=3), a}) == 2  # cache keys
    assert hash(RefineConfig()) == hash(RefineConfig(matching=MATCHING))
    assert hash(TexturelessConfig(min_size=100)) != hash(TexturelessConfig())
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.step = 0.1
    for cls, field, value in ((CostVolumeConfig, "step", 0.0), (CostVolumeConfig, "views", "ring"),
                              (CostVolumeConfig, "sgm_penalties", (0.02, 0.01)),
                              (CostVolumeConfig, "sgm_paths", 6), (CostVolumeConfig, "lines", 0),
                              (CostVolumeConfig, "iterations", -1),
                              (TexturelessConfig, "gate", 0.0), (TexturelessConfig, "spread", 2.0),
                              (TexturelessConfig, "erode", -1)):
        with pytest.raises(ValueError, match=field):
            cls(**{field: value})
    with pytest.raises(TypeError, match="matching"):
        RefineConfig(matching={"iterations": 0})


def test_refine_net_options_reach_the_matching_and_the_wls(plane):
    from geodl.lightfield.depth import estimate_disparity
    from geodl.lightfield.depth.refine_net import MATCHING, RefineConfig

    r = {"disp_range": (-1.0, 2.0)}
    by_name = estimate_disparity(plane, "refine_net", iterations=0, confidence_power=1.0, **r)
    config = RefineConfig(confidence_power=1.0, matching=dataclasses.replace(MATCHING,
                                                                             iterations=0))
    by_config = estimate_disparity(plane, "refine_net", config=config, **r)
    assert all(torch.equal(a, b) for a, b in zip(by_name, by_config))
    default = estimate_disparity(plane, "refine_net", **r)
    assert not torch.equal(default[0], by_name[0])


def test_textureless_keywords_and_config_agree():
    from geodl.lightfield.depth.textureless import TexturelessConfig, fill_textureless

    g = torch.Generator().manual_seed(0)
    image = torch.rand(3, 40, 40, generator=g) * 0.5
    image[:, 5:35, 5:35] = 0.4
    d = torch.linspace(0, 1, 40)[None].expand(40, 40).double() + 0.02 * torch.rand(40, 40, generator=g)
    c = torch.rand(40, 40, generator=g).double()
    a = fill_textureless(d, c, image, min_size=50, ring=3)
    b = fill_textureless(d, c, image, config=TexturelessConfig(min_size=50, ring=3))
    assert bool(a.filled.any())
    assert torch.equal(a.disparity, b.disparity) and torch.equal(a.filled, b.filled)


def test_loop_config_comes_from_the_training_configs():
    from geodl.training.depth import TrainConfig
    from geodl.training.loop import LoopConfig, run_loop
    from geodl.training.synthesis import SynthTrainConfig

    cfg = TrainConfig(model="epinet", steps=7, lr=0.01, seed=3, val_every=2, ckpt_every=5)
    assert cfg.loop == LoopConfig(steps=7, lr=0.01, seed=3, ema=0.999, val_every=2, ckpt_every=5)
    assert SynthTrainConfig(steps=9).loop.steps == 9
    assert "loop" not in dataclasses.asdict(cfg)  # config.json unchanged
    with pytest.raises(ValueError, match="steps"):
        LoopConfig(steps=0)
    with pytest.raises(ValueError, match="ema"):
        LoopConfig(steps=1, ema=1.5)
    with pytest.raises(TypeError, match="loop"):
        run_loop(lambda: torch.nn.Linear(1, 1), {"steps": 1}, out=Path("."), config={},
                 sample=None, loss=None, validate=None, save_weights=None, rank=0, world=1,
                 device=torch.device("cpu"))
