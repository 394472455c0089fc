"""geodl.mvs.learned_filter and its training: the visibility counts of
view_support against hand-set depth maps, the features, the network, the
shipped weights inside multi_view_stereo, and a training run that learns a
separable rule."""
import pytest
import torch

from geodl.mvs.consistency import view_support
from geodl.mvs.learned_filter import (
    FEATURES,
    FILTER_WEIGHTS,
    ConsistencyNet,
    learned_filter_masks,
    pixel_features,
)
from geodl.structures import PosedImages
from tests.mvs.test_mvs import _plane_cameras, _render_plane, _texture


def _plane_depths(cams, z0=3.0):
    """Each camera's z-depth of the world plane Z = z0 (the cameras look along +Z)."""
    out = []
    for c in cams:
        o, d = c.rays()
        t = (z0 - o[..., 2]) / d[..., 2]
        X = (o + d * t[..., None]).reshape(-1, 3)
        out.append(c.world_to_camera(X)[:, 2].reshape(c.height, c.width).float())
    return out


def test_view_support_counts_confirmations_violations_and_occlusions():
    cams = _plane_cameras(3, 64, 48)
    depths = _plane_depths(cams)
    s = view_support(depths, cams, 0, [1, 2])
    assert s.shape == (7, 48, 64)
    centre = (slice(16, 32), slice(24, 40))  # seen by both others
    for i in range(4):  # every tolerance: both views confirm
        assert torch.equal(s[i][centre], torch.full((16, 16), 2.0))
    assert torch.equal(s[4][centre], torch.full((16, 16), 2.0))
    assert float(s[5:].abs().sum()) == 0.0  # no violation, no occlusion
    # view 1 sees 10 % farther everywhere: a free-space violation, confirmed by
    # view 2 only; view 2 sees 10 % nearer: the point is hidden there
    depths[1] = depths[1] * 1.1
    depths[2] = depths[2] * 0.9
    s = view_support(depths, cams, 0, [1, 2])
    assert torch.equal(s[3][centre], torch.zeros(16, 16))  # beyond 4 %: no confirmation
    assert torch.equal(s[5][centre], torch.ones(16, 16))  # view 1: free space
    assert torch.equal(s[6][centre], torch.ones(16, 16))  # view 2: occluded
    # 3 % farther: confirmed at 4 % only, and within the visibility margin
    depths[1] = _plane_depths(cams)[1] * 1.03
    s = view_support(depths, cams, 0, [1])
    assert float(s[2][centre].max()) == 0.0 and float(s[3][centre].min()) == 1.0
    assert float(s[5][centre].max()) == 0.0


def test_pixel_features_columns():
    cams = _plane_cameras(3, 64, 48)
    depths = _plane_depths(cams)
    depths[0][:8] = 0  # no depth in the top rows
    tex = _texture(0)
    image = _render_plane(cams[0], tex, 3.0).expand(3, -1, -1)
    conf = torch.rand(48, 64, generator=torch.Generator().manual_seed(0))
    filled = torch.zeros(48, 64, dtype=torch.bool)
    filled[20:30] = True
    x = pixel_features(depths, cams, 0, image, conf, filled, [1], [1, 2])
    assert x.shape == (48, 64, len(FEATURES))
    col = {name: x[..., i] for i, name in enumerate(FEATURES)}
    assert torch.equal(col["confidence"], conf)
    assert torch.equal(col["filled"], filled.float())
    centre = (slice(16, 32), slice(24, 40))
    assert torch.equal(col["support_2%"][centre], torch.full((16, 16), 2.0))
    assert torch.equal(col["neighbour_support_2%"][centre], torch.ones(16, 16))
    assert torch.allclose(col["support_share"][centre], torch.ones(16, 16))
    assert float(col["seen"][:8].max()) == 0.0  # no depth: nothing to check
    # a plane facing the camera, seen near the axis: the normal is almost the ray
    assert float(col["incidence"][centre].min()) > 0.9
    with pytest.raises(ValueError, match="confidence"):
        pixel_features(depths, cams, 0, image, conf[:10], filled, [1], [1, 2])


def test_consistency_net_shapes_and_standardisation():
    net = ConsistencyNet(4, hidden=8, layers=1)
    assert repr(net) == "ConsistencyNet(4, hidden=8, layers=1)"
    x = torch.randn(100, 4) * 5 + 3
    net.set_standardisation(x)
    assert torch.allclose(net.mean, x.mean(0)) and torch.allclose(net.std, x.std(0))
    assert net(torch.randn(2, 3, 4)).shape == (2, 3)
    with pytest.raises(ValueError, match="features"):
        net(torch.randn(5, 3))
    with pytest.raises(ValueError, match="hidden"):
        ConsistencyNet(4, hidden=0)


def test_shipped_weights_load_and_threshold_checked():
    net = FILTER_WEIGHTS.load("consistency_net")
    assert net.features == len(FEATURES)
    x = torch.zeros(4, 5, len(FEATURES))
    d = torch.ones(4, 5)
    d[0] = 0
    masks, probs = learned_filter_masks([x], [d])
    assert masks[0].dtype == torch.bool and not bool(masks[0][0].any())
    assert probs[0].shape == (4, 5)

    def pixel(confirming: int, seeing_past: int) -> torch.Tensor:
        # a typical pixel (the training mean) seen by 8 views
        x = net.mean.clone()
        for name in ("support_0.5%", "support_1%", "support_2%", "support_4%"):
            x[FEATURES.index(name)] = confirming
        values = {"seen": 8, "free_space": seeing_past, "occluded": 0,
                  "neighbour_support_2%": min(confirming, 4), "support_share": confirming / 8,
                  "free_space_share": seeing_past / 8}
        for name, value in values.items():
            x[FEATURES.index(name)] = value
        return x

    with torch.no_grad():
        p = torch.sigmoid(net(torch.stack([pixel(c, f) for c, f in
                                           ((8, 0), (6, 0), (2, 0), (0, 4), (0, 8))])))
    # more confirming views, more belief; views that see past it, less
    assert bool((p[:-1] > p[1:]).all())
    assert float(p[0]) > 0.9 and float(p[-1]) < 0.1
    with pytest.raises(ValueError, match="threshold"):
        learned_filter_masks([x], [d], threshold=1.5)


def test_multi_view_stereo_with_the_learned_filter_keeps_a_textured_plane():
    from geodl.mvs import multi_view_stereo

    z0 = 3.0
    cams = _plane_cameras(4, 96, 72)
    tex = _texture(1)
    frames = PosedImages(torch.stack([_render_plane(c, tex, z0).expand(3, -1, -1) for c in cams]),
                         cams)
    st = multi_view_stereo(frames, depth_range=(1.5, 6.0), learned_filter=True, progress=False)
    truth = _plane_depths(st.cameras)
    for k in range(len(cams)):
        kept = st.consistent[k]
        assert kept.dtype == torch.bool and not bool((kept & (st.depth[k] <= 0)).any())
        right = (st.depth[k] - truth[k]).abs() < 0.02 * truth[k]
        # the views overlap in most of the image: most of it kept, and right
        assert float(kept.float().mean()) > 0.5
        assert float(right[kept].float().mean()) > 0.95
    with pytest.raises(TypeError, match="learned_filter"):
        multi_view_stereo(frames, learned_filter="yes", progress=False)


def test_training_learns_a_separable_rule(tmp_path):
    """Pixels are right exactly when their 2 % support is at least 2: the
    trained filter separates them on held-out pixels."""
    from geodl.training.loop import LoopConfig
    from geodl.training.photo_filter import FilterTrainConfig, train_photo_filter

    def room(seed):
        g = torch.Generator().manual_seed(seed)
        x = torch.rand(4000, len(FEATURES), generator=g)
        x[:, FEATURES.index("support_2%")] = torch.randint(0, 6, (4000,), generator=g).float()
        return x, x[:, FEATURES.index("support_2%")] >= 2

    cfg = FilterTrainConfig(rooms=2, val_rooms=1, hidden=16, batch=512,
                            loop=LoopConfig(steps=150, lr=1e-2, val_every=150, ckpt_every=150))
    net = train_photo_filter(cfg, tmp_path / "run", tmp_path / "cache", progress=False,
                             rooms=([room(0), room(1)], [room(2)]))
    x, right = room(3)
    prob = torch.sigmoid(net(x))
    assert float(((prob > 0.5) == right).float().mean()) > 0.97
    loaded = FILTER_WEIGHTS.load("consistency_net", tmp_path / "run")
    assert torch.allclose(torch.sigmoid(loaded(x)), prob, atol=1e-6)
    assert (tmp_path / "run" / "log.jsonl").exists()
    with pytest.raises(ValueError, match="rooms"):
        FilterTrainConfig(rooms=0)
