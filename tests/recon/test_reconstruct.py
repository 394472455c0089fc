"""reconstruct_room and capture_points on light fields rendered by geodl.render."""
import math

import pytest
import torch

from geodl.datasets import training_seeds
from geodl.lightfield.depth.cost_volume import ROOM_MATCHING
from geodl.recon import capture_points, evaluate_reconstruction, reconstruct_room
from geodl.recon.evaluate import surface_distance
from geodl.render import Renderer, make_room, render_lightfield, rig_for_depth_range
from geodl.structures import GroundTruth, LightFieldRig, PinholeCamera

SIZE = 80


@pytest.fixture(scope="module")
def room_captures():
    """Four 3 x 3 captures from the middle of a training room, one per wall,
    with different lenses (so each capture's own focal length counts)."""
    room = make_room(training_seeds(1)[0])
    renderer = Renderer(room)
    captures = []
    for k in range(4):
        a = math.pi / 2 * k + 0.3
        eye = (0.3 * math.cos(a), 0.3 * math.sin(a), 1.5)
        cam = PinholeCamera.look_at(eye, (3 * math.cos(a), 3 * math.sin(a), 1.0),
                                    fov_deg=80 + 5 * k, width=SIZE, height=SIZE)
        z = renderer.render(cam).depth
        z = z[torch.isfinite(z)]
        b, F = rig_for_depth_range(float(z.min()), float(z.max()), float(cam.K[0, 0]))
        captures.append(render_lightfield(renderer, LightFieldRig(cam, b, F, (3, 3)),
                                          progress=False))
    return room, captures


def test_ground_truth_reconstruction_of_a_room(room_captures):
    room, captures = room_captures
    res = reconstruct_room(captures, "ground_truth", voxel_size=0.04)
    m = evaluate_reconstruction(res.mesh, room.to_mesh(), [c.camera for c in captures],
                                samples=20000)
    assert m.fscore > 0.95, m
    assert res.mesh.colors is not None
    assert set(res.seconds) == {"disparity", "planes", "points", "fusion", "total"}
    assert len(res.disparity) == len(res.confidence) == 4
    assert len(res.points) == 4 * SIZE * SIZE - sum(
        int((~torch.isfinite(c.ground_truth.depth)).sum()) for c in captures)


def test_capture_points_lie_on_the_room(room_captures):
    # disparity -> depth through each capture's own rig, back-projected with
    # its own pose: every point lands on the room's surface, and two captures
    # that see one wall put their points of it on the same plane
    room, captures = room_captures
    gt = room.to_mesh()
    for lf in captures[:2]:
        pts = capture_points(lf, lf.ground_truth.disparity)
        assert torch.allclose(pts.colors.float(), lf.center_view.permute(1, 2, 0).reshape(-1, 3)[
            torch.isfinite(lf.ground_truth.depth).reshape(-1)], atol=1e-6)
        d = surface_distance(pts.points.numpy(), gt)
        assert d.max() < 1e-3


def test_capture_points_confidence_and_errors(room_captures):
    _, captures = room_captures
    lf = captures[0]
    disp = lf.ground_truth.disparity
    conf = torch.zeros(SIZE, SIZE)
    conf[:, : SIZE // 2] = 0.9
    pts = capture_points(lf, disp, conf, min_confidence=0.5)
    uv, _ = lf.camera.project(pts.points)
    assert (uv[:, 0] < SIZE // 2).all() and len(pts) > 0
    with pytest.raises(ValueError, match="disparity"):
        capture_points(lf, disp[:-1])
    with pytest.raises(ValueError, match="confidence"):
        capture_points(lf, disp, conf[:-1])
    with pytest.raises(ValueError, match="min_confidence"):
        capture_points(lf, disp, conf, min_confidence=2)
    with pytest.raises(TypeError, match="lf"):
        capture_points("lf", disp)


def test_reconstruct_room_errors(room_captures):
    _, captures = room_captures
    with pytest.raises(ValueError, match="captures"):
        reconstruct_room([])
    with pytest.raises(TypeError, match=r"captures\[1\]"):
        reconstruct_room([captures[0], "x"])
    with pytest.raises(ValueError, match="method"):
        reconstruct_room(captures, method="magic")
    with pytest.raises(ValueError, match="voxel_size"):
        reconstruct_room(captures, "ground_truth", voxel_size=-1)
    lf = captures[0]
    saved = lf.ground_truth
    try:
        lf.ground_truth = GroundTruth()
        with pytest.raises(ValueError, match=r"captures\[0\].*ground-truth"):
            reconstruct_room([lf], "ground_truth")
    finally:
        lf.ground_truth = saved


def test_estimated_disparity_runs(room_captures):
    room, captures = room_captures
    res = reconstruct_room(captures[:1], "structure_tensor", voxel_size=0.05,
                           disp_range=(-3.5, 3.5))
    assert res.mesh.num_faces > 0 and res.disparity[0].shape == (SIZE, SIZE)


def test_the_fusion_reads_refine_net_without_the_planar_prior_and_with_weight_p4(room_captures):
    # the fusion applies its own fill + snap, and its settings were chosen with
    # refine_net's WLS weight p^4 (confidence_power 0): estimate_for_fusion must
    # give exactly that, and a caller's option must still win
    from geodl.lightfield.depth import estimate_disparity
    from geodl.recon import estimate_for_fusion

    lf = room_captures[1][0]
    d = lf.disparity[torch.isfinite(lf.disparity)]
    r = {"disp_range": (float(d.min()) - 0.25, float(d.max()) + 0.25)}
    got = estimate_for_fusion(lf, "refine_net", **r)
    want = estimate_disparity(lf, "refine_net", planes=False, confidence_power=0.0, **r)
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    mine = estimate_for_fusion(lf, "refine_net", confidence_power=1.0, **r)
    assert all(torch.equal(a, b) for a, b in
               zip(mine, estimate_disparity(lf, "refine_net", planes=False, confidence_power=1.0,
                                            **r)))
    assert not torch.equal(mine[0], got[0])
    plain = estimate_for_fusion(lf, "cost_volume", **r)
    # cost_volume reads the rooms' matching, with its Lucas-Kanade refinement
    assert torch.equal(plain[0], estimate_disparity(lf, "cost_volume", planes=False,
                                                    config=ROOM_MATCHING, **r)[0])
