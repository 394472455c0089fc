"""Depth ranges of a model of cameras only from a wide low-resolution sweep."""
from __future__ import annotations

import math

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
        assert near < true < far, (k, near, far, true)
        assert far < 3.5 * near, (k, near, far)  # the frusta's span 10x and more
    assert swept.scale == pytest.approx(Z0 - 0.35, rel=0.1)  # the median view's distance
    # the whole pipeline then finds the wall (its frusta's range alone would not)
    st = multi_view_stereo(frames, textureless=None, progress=False)
    depth, kept = st.depth[3], st.consistent[3]
    assert float(kept.float().mean()) > 0.5
    assert float(depth[kept].median()) == pytest.approx(Z0 - 0.3, rel=0.01)


def test_a_ring_keeps_the_frusta_range():
    """A ring around an object bounds its depth (ratio near 1.6 on the
    temple): its views are not swept at all."""
    cams = [PinholeCamera.look_at([2 * math.cos(a), 2 * math.sin(a), 0.3], [0, 0, 0],
                                  width=64, height=48, fov_deg=40)
            for a in torch.linspace(0, 2 * math.pi, 13)[:12].tolist()]
    frames = PosedImages(torch.zeros(12, 3, 48, 64), cams)
    frusta = scene_range(frames)
    assert bool((frusta.ranges[:, 1] < WIDE * frusta.ranges[:, 0]).all())
    assert swept_range(frames, frusta) is frusta


def test_cameras_converging_on_a_wall_find_it():
    """Five cameras on a line, converging on a textured wall: the frusta's
    range spans 40x (they bound nothing far), the sweep finds the wall."""
    tex = _texture(seed=5)
    cams = [PinholeCamera.look_at([x, 0.0, 0.0], [0.0, 0.0, Z0], up=(0, -1, 0), width=160,
                                  height=120, fov_deg=40) for x in (-1.0, -0.5, 0.0, 0.5, 1.0)]
    frames = PosedImages(torch.stack([_render_plane(c, tex, Z0).expand(3, -1, -1) for c in cams]),
                         cams)
    swept = swept_range(frames, scene_range(frames))
    assert swept.source == "frusta+swept"
    near, far = swept.ranges[2].tolist()  # the middle camera looks straight at the wall
    assert near < Z0 < far < 2.5 * near


def test_nearest_views_look_the_same_way():
    cams = [PinholeCamera.look_at([0.1 * i, 0, 0], [0.1 * i, 0, 1], up=(0, -1, 0), width=32,
                                  height=24)
            for i in range(4)]
    cams.append(PinholeCamera.look_at([0.05, 0, 0], [0.05, 0, -1], up=(0, -1, 0), width=32,
                                  height=24))  # behind
    assert nearest_views(cams, 0, views=2) == [1, 2]
    assert 4 not in nearest_views(cams, 1, views=4)


@pytest.mark.parametrize("option, value", [("percentiles", (0.9, 0.1)), ("size", 8),
                                           ("min_pixels", 0), ("views", 0), ("wide", 0.5),
                                           ("peak_ratio", 0.0), ("margin", -0.1)])
def test_bad_options_are_refused(option, value):
    frames = _sequence(2)
    with pytest.raises(ValueError, match=option):
        swept_range(frames, scene_range(frames), **{option: value})


def test_more_confirming_views_confirm_more():
    """The last filter against every other view keeps a superset of what the
    4 stereo neighbours keep, and more of the wall (the sequence's far views
    see what its nearest ones crop)."""
    frames = _sequence()
    few = multi_view_stereo(frames, confirm_views=4, progress=False)
    many = multi_view_stereo(frames, confirm_views=7, progress=False)
    kept_few = sum(int(c.sum()) for c in few.consistent)
    kept_many = sum(int(c.sum()) for c in many.consistent)
    assert all(bool((f <= m).all()) for f, m in zip(few.consistent, many.consistent))
    assert kept_many > kept_few
    for d, kept, cam in zip(many.depth, many.consistent, many.cameras):
        true = Z0 - float(cam.center[2])
        assert float(((d[kept] - true).abs() < 0.02 * true).float().mean()) > 0.95
    with pytest.raises(ValueError, match="confirm_views"):
        multi_view_stereo(frames, confirm_views=0, progress=False)
