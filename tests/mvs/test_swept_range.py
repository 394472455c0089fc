"""Depth ranges of a model of cameras only from a wide low-resolution sweep."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from geodl.mvs import multi_view_stereo
from geodl.mvs.depth_range import scene_range
from geodl.mvs.swept_range import WIDE, nearest_views, swept_range
from geodl.structures import PinholeCamera, PosedImages
from tests.mvs.test_mvs import _render_plane, _texture

Z0 = 3.0  # the textured wall ahead


def _sequence(n: int = 8) -> PosedImages:
    """A camera walking towards a textured wall at Z0, drifting sideways, as a
    hand-held sequence does; no 3-D points."""
    tex = _texture(seed=4)
    cams = [PinholeCamera.look_at([0.06 * i, 0.02 * i, 0.1 * i], [0.06 * i, 0.02 * i, Z0],
                                  up=(0, -1, 0), width=160, height=120, fov_deg=60)
            for i in range(n)]
    images = torch.stack([_render_plane(c, tex, Z0).expand(3, -1, -1) for c in cams])
    return PosedImages(images, cams)


def test_a_sequence_looking_ahead_gets_its_range_from_the_photos():
    frames = _sequence()
    frusta = scene_range(frames)
    assert frusta.source == "frusta"
    # the frusta bound nothing here: far points lie in every view
    assert bool((frusta.ranges[:, 1] > WIDE * frusta.ranges[:, 0]).all())
    swept = swept_range(frames, frusta)
    assert swept.source == "frusta+swept"
    for k, cam in enumerate(frames.cameras):
        true = Z0 - float(cam.center[2])  # the wall's z-depth in view k
        near, far = swept.ranges[k].tolist()
        frusta_ratio = float(frusta.ranges[k, 1] / frusta.ranges[k, 0])
        assert near < true < far and far < 2.5 * near < frusta_ratio / 5 * near, (k, near, far)
    assert swept.scale == pytest.approx(Z0 - 0.35, rel=0.1)  # the median view's distance
    # the whole pipeline then finds the wall (its frusta's range alone would not)
    st = multi_view_stereo(frames, textureless=None, progress=False)
    depth, kept = st.depth[3], st.consistent[3]
    assert float(kept.float().mean()) > 0.5
    assert float(depth[kept].median()) == pytest.approx(Z0 - 0.3, rel=0.01)


def test_converging_cameras_keep_the_frusta_range():
    """A ring around an object bounds its depth (ratio near 1.6 on the
    temple): the sweep is not asked, even with photos that would match."""
    cams = [PinholeCamera.look_at([2 * math.cos(a), 2 * math.sin(a), 0.3], [0, 0, 0],
                                  width=64, height=48, fov_deg=40)
            for a in np.linspace(0, 2 * math.pi, 12, endpoint=False)]
    frames = PosedImages(torch.rand(12, 3, 48, 64, generator=torch.Generator().manual_seed(0)),
                         cams)
    frusta = scene_range(frames)
    assert swept_range(frames, frusta) is frusta


def test_nearest_views_look_the_same_way():
    cams = [PinholeCamera.look_at([0.1 * i, 0, 0], [0.1 * i, 0, 1], up=(0, -1, 0), width=32,
                                  height=24)
            for i in range(4)]
    cams.append(PinholeCamera.look_at([0.05, 0, 0], [0.05, 0, -1], up=(0, -1, 0), width=32,
                                  height=24))  # behind
    assert nearest_views(cams, 0, views=2) == [1, 2]
    assert 4 not in nearest_views(cams, 1, views=4)
    with pytest.raises(ValueError, match="percentiles"):
        swept_range(_sequence(2), scene_range(_sequence(2)), percentiles=(0.9, 0.1))
