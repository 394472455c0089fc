"""The piecewise-planar disparity prior, against disparity rendered from 3-D planes."""
import pytest
import torch

from geodl.lightfield.depth.planes import fit_disparity_planes, plane_coordinates, snap_to_planes
from geodl.render import Renderer, Scene, rig_for_depth_range
from geodl.render.textures import checker
from geodl.structures import LightFieldRig, Mesh, PinholeCamera

SIZE = 96


@pytest.fixture(scope="module")
def room_view():
    """Ground-truth disparity of a box room seen into a corner (walls, floor,
    ceiling: five 3-D planes) with a ball in front (not planar), and which
    pixels show the ball."""
    import trimesh

    scene = Scene()
    room = trimesh.creation.box(extents=(4.0, 3.0, 2.5))
    room.apply_translation((0.1, 0.13, 1.32))
    scene.add(Mesh.from_trimesh(room), checker((0.9, 0.2, 0.2), (0.2, 0.2, 0.9), 0.5), "room")
    ball = trimesh.creation.icosphere(subdivisions=4, radius=0.35)
    ball.apply_translation((1.0, 0.6, 1.0))
    ball_id = scene.add(Mesh.from_trimesh(ball), checker((0.1, 0.8, 0.1), (0.9, 0.9, 0.9), 0.1),
                        "ball")
    cam = PinholeCamera.look_at((-1.2, -0.9, 1.4), (2.0, 1.5, 1.1), fov_deg=90, width=SIZE,
                                height=SIZE)
    hit = Renderer(scene).render(cam)
    b, F = rig_for_depth_range(float(hit.depth.min()), float(hit.depth.max()), float(cam.K[0, 0]))
    disp = LightFieldRig(cam, b, F, (3, 3)).depth_to_disparity(hit.depth)
    return disp, hit.object_id == ball_id


def test_rendered_3d_planes_are_affine_in_disparity(room_view):
    """The module's premise, against the renderer: each 3-D plane is one
    affine function of the pixel in the disparity map (float32 ray casting)."""
    disp, ball = room_view
    assert torch.isfinite(disp).all()
    # min_fraction 0.002 (18 px): a 27-px sliver of a fifth wall shows at the right edge
    planes = fit_disparity_planes(disp, (~ball).double(), tol=1e-3, min_fraction=0.002)
    assert len(planes) == 5  # the walls, floor and ceiling this corner view shows
    residual = (plane_coordinates(SIZE, SIZE) @ planes.T - disp[..., None]).abs().amin(-1)
    assert residual[~ball].max() < 1e-3
    assert residual[ball].median() > 0.05  # the ball is on none of them


def test_snapping_removes_noise_on_planes_and_leaves_the_ball(room_view):
    disp, ball = room_view
    g = torch.Generator().manual_seed(0)
    noisy = disp + (torch.rand(disp.shape, generator=g, dtype=torch.float64) - 0.5) * 0.06
    wild = torch.rand(disp.shape, generator=g) < 0.05  # outliers the estimator was unsure of
    noisy[wild] += 1.0
    confidence = torch.where(wild, 0.02, 0.8).double()
    s = snap_to_planes(noisy, confidence)
    on_planes = ~ball & ~wild
    err_before = (noisy - disp).abs()
    err_after = (s.disparity - disp).abs()
    assert err_after[on_planes].median() < 0.005 < 0.5 * err_before[on_planes].median()
    assert s.snapped[on_planes].float().mean() > 0.95
    # the ball is not planar: (almost) nothing of it snaps, and it keeps its values
    assert s.snapped[ball].float().mean() < 0.1
    assert torch.equal(s.disparity[ball & ~s.snapped], noisy[ball & ~s.snapped])
    # outliers 1 px off every plane stay as they were, with their low confidence
    assert not s.snapped[wild & ~ball].any()
    assert torch.equal(s.confidence[~s.snapped], confidence[~s.snapped])
    assert (s.confidence[s.snapped] >= 0.5).all()
    assert torch.equal(s.plane_index >= 0, s.snapped)
    assert torch.equal(snap_to_planes(noisy, confidence).disparity, s.disparity)  # seeded


def test_no_confident_pixels_no_planes():
    d = torch.rand(20, 30)
    s = snap_to_planes(d, torch.zeros(20, 30))
    assert len(s.planes) == 0 and not s.snapped.any() and torch.equal(s.disparity, d.double())


@pytest.mark.parametrize("kwargs, match", [
    ({"disparity": torch.zeros(4, 5), "confidence": torch.zeros(5, 4)}, "confidence"),
    ({"disparity": torch.zeros(2, 4, 5), "confidence": torch.zeros(2, 4, 5)}, "disparity"),
    ({"tol": 0.0}, "tol"),
    ({"assign": float("nan")}, "assign"),
    ({"min_support": 1.5}, "min_support"),
    ({"min_fraction": 0.0}, "min_fraction"),
])
def test_bad_arguments_are_named(kwargs, match):
    args = {"disparity": torch.zeros(8, 8), "confidence": torch.ones(8, 8), **kwargs}
    with pytest.raises(ValueError, match=match):
        snap_to_planes(**args)
