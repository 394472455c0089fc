"""Typed settings of the classical estimators: the answers they pin on a
small slanted plane, and the keyword interface beside ``config=``."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from lf_planes import plane_lightfield  # noqa: E402

from geodl.lightfield.depth import cost_volume_disparity  # noqa: E402

#: sums of disparity, confidence and squared disparity on the 5 x 5, 32 px
#: plane d = 0.5 + 0.01 (x - mid), range (-1, 2): the answers of the settings
PINNED = [({}, (510.79624778032303, 657.7521962672472, 265.80769655045447)),
          ({"iterations": 0}, (510.8434725718107, 657.7521962672472, 264.1536024916646)),
          ({"smooth": 0, "views": "all", "lines": 4},
           (510.31317296624184, 636.6063871532679, 265.58017385142085))]


@pytest.fixture(scope="module")
def plane():
    return plane_lightfield(size=32, n=5, a=0.5, bx=0.01)[0]


@pytest.mark.parametrize("options, sums", PINNED)
def test_cost_volume_answers_are_pinned(plane, options, sums):
    d, c = cost_volume_disparity(plane, (-1.0, 2.0), **options)
    got = (float(d.double().sum()), float(c.double().sum()), float(d.double().square().sum()))
    assert got == pytest.approx(sums, rel=1e-6)
