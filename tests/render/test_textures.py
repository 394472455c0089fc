"""Textures: bilinear sampling with mirrored repetition, box projection, and
photographs that appear upright and unmirrored in rendered rooms."""
import numpy as np
import pytest

from geodl.render import Renderer, make_room
from geodl.render.textures import COLOR_PHOTOS, box_projection, load_photo, photo, sample_bilinear
from geodl.structures import PinholeCamera


def test_bilinear_sampling_hits_texels_and_interpolates():
    img = np.arange(12, dtype=float).reshape(3, 4, 1)
    # texel centres at integer + 0.5 give the texel exactly
    u, v = np.array([0.5, 3.5, 1.5]), np.array([0.5, 2.5, 1.5])
    assert np.allclose(sample_bilinear(img, u, v)[:, 0], [0, 11, 5])
    # halfway between texels (0,0), (0,1), (1,0), (1,1): their mean
    assert np.allclose(sample_bilinear(img, np.array([1.0]), np.array([1.0]))[0, 0],
                       np.mean([0, 1, 4, 5]))
    # mirrored repetition: the texel left of column 0 is column 0 again, the one
    # after the last column is the last column, then the image runs backwards
    assert np.allclose(sample_bilinear(img, np.array([-0.5, 4.5, 5.5]),
                                       np.array([0.5, 0.5, 0.5]))[:, 0], [0, 3, 2])


def test_box_projection_picks_the_plane_facing_the_normal():
    p = np.array([[1.0, 2.0, 3.0]] * 3)
    n = np.array([[0.9, 0.1, 0.1], [0.1, -0.8, 0.3], [0.0, 0.2, 1.0]])
    s, t = box_projection(p, n)
    assert np.allclose(s, [2.0, 1.0, 1.0]) and np.allclose(t, [-3.0, -3.0, 2.0])


def test_photo_texture_tiles_in_metres_and_rejects_bad_sizes():
    tex = photo("brick", tile_size=2.0)  # 512 px over 2 m
    s, z = 64.5 / 256, -128.5 / 256  # texel centre (row 128, column 64); t = -z
    p = np.array([[0.0, s, z], [0.0, s + 2.0, z]])  # the second one tile further
    n = np.array([[1.0, 0, 0]] * 2)
    a = tex(p, n)
    img = load_photo("brick")
    assert np.allclose(a[0], img[128, 64], atol=1e-6)
    assert np.allclose(a[1], img[128, 2 * 512 - 1 - (64 + 512)], atol=1e-6)  # mirrored tile
    with pytest.raises(ValueError, match="tile_size"):
        photo("brick", 0.0)
    with pytest.raises(ValueError, match="unknown name"):
        load_photo("not_a_photo")


def _gray(img):
    return np.asarray(img, float).mean(-1)


def test_pictures_on_the_walls_are_upright_and_unmirrored():
    from PIL import Image

    room = make_room(5)
    renderer = Renderer(room)
    photos = {name: _gray(load_photo(name)) for name in COLOR_PHOTOS}
    pictures = [o for o in room.objects if o.name == "picture"]
    assert len(pictures) == 4
    for obj in pictures:
        v = obj.mesh.verts64.numpy()
        lo, hi = v.min(0), v.max(0)
        centre = (lo + hi) / 2
        thin = int(np.argmin(hi - lo))
        inward = np.zeros(3)
        inward[thin] = -np.sign(centre[thin])  # towards the room's centre
        cam = PinholeCamera.look_at(centre + 1.2 * inward, centre, up=(0, 0, 1),
                                    width=200, height=200, fov_deg=60)
        out = renderer.render(cam, supersample=3)
        rows, cols = np.nonzero((out.object_id == obj.object_id).numpy())
        crop = _gray(out.color.permute(1, 2, 0).numpy()[rows.min() + 2:rows.max() - 1,
                                                         cols.min() + 2:cols.max() - 1])
        scores = {}
        for name, img in photos.items():
            for flip_lr in (False, True):
                for flip_ud in (False, True):
                    ref = img[::-1 if flip_ud else 1, ::-1 if flip_lr else 1]
                    ref = np.asarray(Image.fromarray(ref).resize(crop.shape[::-1]))
                    scores[name, flip_lr, flip_ud] = np.corrcoef(ref.ravel(), crop.ravel())[0, 1]
        best = max(scores, key=scores.get)
        assert best[1:] == (False, False), (best, scores[best])
        second = max(v for k, v in scores.items() if k != best)
        assert scores[best] > 0.8 and second < 0.6, (best, scores[best], second)
