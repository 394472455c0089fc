"""evaluate_reconstruction: shifted planes, partial predictions, a hand computation,
visibility, sampling, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from geodl.recon import evaluate_reconstruction, sample_surface
from geodl.recon.evaluate import surface_distance, visible_mask
from geodl.structures import Mesh, PinholeCamera


def _plane(x0=-1.0, x1=1.0, y0=-1.0, y1=1.0, z=0.0) -> Mesh:
    """A rectangle in the plane z = const, two triangles."""
    v = torch.tensor([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], dtype=torch.float64)
    return Mesh(v, torch.tensor([[0, 1, 2], [0, 2, 3]]))


def _camera_above(height=2.0, fov=90.0):
    # looks straight down at the plane z = 0 from (0, 0, height)
    return PinholeCamera.look_at((0, 0, height), (0, 0, 0), up=(0, 1, 0), fov_deg=fov,
                                 width=64, height=64)


@pytest.mark.parametrize("shift, expect_pr", [(0.03, 1.0), (0.07, 0.0)])
def test_shifted_plane(shift, expect_pr):
    gt = _plane()
    pred = _plane(z=shift)
    m = evaluate_reconstruction(pred, gt, [_camera_above()], threshold=0.05, samples=5000)
    assert m.precision == expect_pr and m.recall == expect_pr
    assert m.fscore == expect_pr
    assert m.accuracy == pytest.approx(shift, abs=1e-4)
    assert m.completeness == pytest.approx(shift, abs=1e-4)
    assert m.chamfer == pytest.approx(shift, abs=1e-4)
    assert m.visible_fraction == 1.0 and m.num_gt_samples == 5000


def test_partial_prediction():
    gt = _plane()
    pred = _plane(x1=0.0)  # the left half, exactly on the ground truth
    m = evaluate_reconstruction(pred, gt, None, threshold=0.05, samples=20000)
    assert m.precision == 1.0 and m.accuracy < 1e-6
    # covered: x < 0.05 of x in [-1, 1] -> 0.525
    assert m.recall == pytest.approx(0.525, abs=0.015)
    assert m.fscore == pytest.approx(2 * 0.525 / 1.525, abs=0.01)
    # completeness: mean over the right half of its distance x, 0.5 * 0.5
    assert m.completeness == pytest.approx(0.25, abs=0.01)


def test_hand_computation():
    # ground truth: the unit square at z = 0; prediction: the same square,
    # its left half at z = 0.02 and its right half at z = 0.08 (two
    # rectangles). By hand, with uniform sampling by area:
    #   accuracy = 0.5 * 0.02 + 0.5 * 0.08 = 0.05;  precision (t = 0.05) = 0.5
    #   completeness: every gt point's nearest prediction is the left half's
    #   plane at 0.02 in z when x < 0.5, else min over left half (sqrt(dx^2 +
    #   0.02^2)) and the right half at 0.08 -> for x > 0.5:
    #   d = min(sqrt((x-0.5)^2 + 0.02^2), 0.08); recall = P(d < 0.05)
    gt = _plane(0, 1, 0, 1)
    pred = Mesh(torch.tensor([[0, 0, .02], [.5, 0, .02], [.5, 1, .02], [0, 1, .02],
                              [.5, 0, .08], [1, 0, .08], [1, 1, .08], [.5, 1, .08]],
                             dtype=torch.float64),
                torch.tensor([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]]))
    m = evaluate_reconstruction(pred, gt, None, threshold=0.05, samples=100_000)
    assert m.accuracy == pytest.approx(0.05, abs=5e-4)
    assert m.precision == pytest.approx(0.5, abs=0.01)
    x = np.linspace(0.5, 1, 200_001)
    d = np.minimum(np.sqrt((x - 0.5) ** 2 + 0.02 ** 2), 0.08)
    comp = 0.5 * 0.02 + 0.5 * d.mean()
    rec = 0.5 + 0.5 * (d < 0.05).mean()
    assert m.completeness == pytest.approx(comp, abs=5e-4)
    assert m.recall == pytest.approx(rec, abs=0.01)
    assert m.fscore == pytest.approx(2 * m.precision * m.recall / (m.precision + m.recall))


def test_hidden_wall_is_not_counted():
    # two parallel walls seen from above: the near one (z = 0.5, x < 0) hides
    # the left half of the far one (z = 0); the prediction is the near wall
    # and the far wall's visible right half, so nothing seen is missing
    near = _plane(-1, 0, -1, 1, z=0.5)
    far = _plane()
    gt = Mesh(torch.cat([near.verts64, far.verts64]),
              torch.cat([near.faces, far.faces + 4]))
    pred = Mesh(torch.cat([near.verts64, _plane(0, 1, -1, 1).verts64]),
                torch.cat([near.faces, near.faces + 4]))
    cam = PinholeCamera.look_at((-0.3, 0, 3.0), (-0.3, 0, 0), up=(0, 1, 0), fov_deg=100,
                                width=64, height=64)
    m = evaluate_reconstruction(pred, gt, [cam], threshold=0.05, samples=20000)
    assert m.recall > 0.99, m
    # without the cameras, the hidden half of the far wall counts as missed
    whole = evaluate_reconstruction(pred, gt, None, threshold=0.05, samples=20000)
    assert whole.recall < 0.8
    # on the far wall, the near wall's shadow from the camera ends at
    # x = -0.3 + 0.3 * 3 / 2.5 = 0.06: hidden before, seen after
    pts = sample_surface(far, 5000, seed=3)
    vis = visible_mask(pts, gt, [cam], tol=0.02)
    assert not vis[pts[:, 0] < 0.055].any() and vis[pts[:, 0] > 0.065].all()


def test_outside_the_image_is_not_counted():
    gt = _plane(-1, 3, -1, 1)  # 4 m long; the camera sees only about x in [-1, 1]
    cam = _camera_above(height=1.0, fov=90.0)
    pts = sample_surface(gt, 4000, seed=0)
    vis = visible_mask(pts, gt, [cam], tol=0.02)
    uv, _ = cam.project(torch.from_numpy(pts))
    inside = ((uv >= 0) & (uv < 64)).all(1).numpy()
    assert (vis == inside).all()


def test_sampling_is_uniform_by_area_and_seeded():
    # a 1 x 1 square and a 3 x 1 rectangle: three quarters of the samples fall on the second
    a, b = _plane(0, 1, 0, 1), _plane(2, 5, 0, 1)
    m = Mesh(torch.cat([a.verts64, b.verts64]), torch.cat([a.faces, b.faces + 4]))
    pts = sample_surface(m, 40000, seed=5)
    assert (pts[:, 0] > 1.5).mean() == pytest.approx(0.75, abs=0.01)
    # uniform within a triangle: mean at the centroid
    assert pts[pts[:, 0] < 1.5, :2].mean(0) == pytest.approx([0.5, 0.5], abs=0.01)
    assert np.array_equal(pts, sample_surface(m, 40000, seed=5))
    assert not np.array_equal(pts, sample_surface(m, 40000, seed=6))


def test_surface_distance_is_to_triangles_not_vertices():
    # a point above the middle of a big triangle: distance to the surface, not to a corner
    d = surface_distance(np.array([[0.1, 0.2, 0.3]]), _plane(-10, 10, -10, 10))
    assert d[0] == pytest.approx(0.3, abs=1e-6)


def test_bad_input():
    gt, cam = _plane(), _camera_above()
    with pytest.raises(TypeError, match="pred_mesh"):
        evaluate_reconstruction(np.zeros((3, 3)), gt, [cam])
    with pytest.raises(TypeError, match="gt_mesh"):
        evaluate_reconstruction(gt, "gt", [cam])
    with pytest.raises(ValueError, match="threshold"):
        evaluate_reconstruction(gt, gt, [cam], threshold=0)
    with pytest.raises(ValueError, match="threshold"):
        evaluate_reconstruction(gt, gt, [cam], threshold=float("nan"))
    with pytest.raises(ValueError, match="visibility_tol"):
        evaluate_reconstruction(gt, gt, [cam], visibility_tol=-1)
    with pytest.raises(ValueError, match="cameras"):
        evaluate_reconstruction(gt, gt, [])
    with pytest.raises(TypeError, match=r"cameras\[0\]"):
        evaluate_reconstruction(gt, gt, ["cam"])
    with pytest.raises(ValueError, match="samples"):
        evaluate_reconstruction(gt, gt, [cam], samples=0)
    away = PinholeCamera.look_at((0, 0, 2), (0, 0, 5), up=(0, 1, 0), width=8, height=8)
    with pytest.raises(ValueError, match="sees"):
        evaluate_reconstruction(gt, gt, [away])
    flat = Mesh(torch.tensor([[0, 0, 0], [1, 0, 0], [2, 0, 0.0]]), torch.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match="area"):
        evaluate_reconstruction(flat, gt, [cam])


@settings(max_examples=8, deadline=None)
@given(st.floats(0.0, 0.1), st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3),
       st.floats(-np.pi, np.pi))
def test_metrics_follow_a_rigid_motion_and_the_shift(shift, tx, ty, tz, angle):
    # a plane shifted by `shift`: precision = recall = [shift < t], accuracy =
    # shift, whatever rigid motion moves both meshes and the camera together
    c, s = np.cos(angle), np.sin(angle)
    R = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64)
    t = torch.tensor([tx, ty, tz], dtype=torch.float64)

    def move(m: Mesh) -> Mesh:
        return Mesh(m.verts64 @ R.T + t, m.faces)

    cam = _camera_above()
    E = torch.eye(4, dtype=torch.float64)
    E[:3, :3], E[:3, 3] = R, t  # world -> moved world
    moved_cam = PinholeCamera(cam.K, cam.extrinsic @ torch.linalg.inv(E), 64, 64)
    m = evaluate_reconstruction(move(_plane(z=shift)), move(_plane()), [moved_cam],
                                samples=2000)
    assert m.accuracy == pytest.approx(shift, abs=2e-4)
    expected = 1.0 if shift < 0.05 - 1e-4 else 0.0 if shift > 0.05 + 1e-4 else m.precision
    assert m.precision == expected and m.recall == expected
    assert m.visible_fraction == 1.0
