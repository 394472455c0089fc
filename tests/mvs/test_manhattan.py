"""geodl.mvs.manhattan and the fill's plane families: the one-parameter
RANSAC, the cameras' up, the frame of a box room (rotated by a known yaw)
from its analytic depth maps, the families against the room's own planes,
the bounds test, and a ceiling that only a line of evidence borders."""
import math

import pytest
import torch

from geodl.lightfield.depth.planes import plane_coordinates, ransac_plane, ransac_plane_along
from geodl.lightfield.depth.textureless import fill_textureless
from geodl.mvs.manhattan import ManhattanFrame, camera_up, manhattan_frame, plane_directions, within_bounds
from geodl.structures import PinholeCamera

YAW = math.radians(20.0)
#: the room's axes: up, then its two wall normals (turned by YAW about up)
AXES = torch.tensor([[0.0, 0.0, 1.0],
                     [math.cos(YAW), math.sin(YAW), 0.0],
                     [-math.sin(YAW), math.cos(YAW), 0.0]], dtype=torch.float64)
LOW = torch.tensor([0.0, -3.0, -2.5], dtype=torch.float64)  # along AXES: floor, walls
HIGH = torch.tensor([2.6, 3.0, 2.5], dtype=torch.float64)


def _room_cameras(n=8, size=(64, 48)):
    """Cameras at 1.5 m height inside the room, looking out horizontally."""
    cams = []
    for i in range(n):
        a = 2 * math.pi * i / n
        eye = 0.4 * torch.tensor([math.cos(a), math.sin(a), 0.0], dtype=torch.float64)
        eye[2] = 1.5
        target = eye + torch.tensor([math.cos(a + 0.3), math.sin(a + 0.3), 0.1], dtype=torch.float64)
        cams.append(PinholeCamera.look_at(eye, target, width=size[0], height=size[1], fov_deg=90.0))
    return cams


def _room_depth(cam):
    """(H, W) z-depth of the box room (the nearest of its six planes ahead)."""
    o, d = cam.rays()  # world origins and directions scaled to unit z-depth
    o, d = o.reshape(-1, 3), d.reshape(-1, 3)
    best = torch.full((len(d),), math.inf, dtype=torch.float64)
    for axis in range(3):
        for h in (LOW[axis], HIGH[axis]):
            n = AXES[axis]
            t = (h - o @ n) / (d @ n)
            best = torch.where((t > 0) & (t < best), t, best)
    return best.reshape(cam.height, cam.width)


def test_ransac_plane_along_fixes_a_plane_from_collinear_points():
    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(-0.4, 0.4, 50, dtype=torch.float64)
    A = torch.stack([x, torch.full_like(x, 0.1), torch.ones_like(x)], 1)  # one image row
    direction = torch.tensor([0.3, -2.0, 1.5], dtype=torch.float64)
    b = 0.7 * (A @ direction)
    b[:5] += 3.0  # outliers
    assert ransac_plane(A, b, 0.01, 50, 100, gen) is None  # every triple is collinear
    plane, inliers = ransac_plane_along(A, b, direction, 0.01, 50, gen)
    torch.testing.assert_close(plane, 0.7 * direction)
    assert inliers.tolist() == [False] * 5 + [True] * 45


def test_camera_up_of_upright_cameras():
    cams = _room_cameras()
    up = camera_up(cams)
    # cameras pitched up by atan(0.1) in eight directions: their up axes average to z
    torch.testing.assert_close(up, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="at least one"):
        camera_up([])


def test_manhattan_frame_of_a_box_room():
    cams = _room_cameras()
    depth = [_room_depth(c) for c in cams]
    frame = manhattan_frame(depth, [torch.ones_like(d, dtype=torch.bool) for d in depth], cams)
    assert frame is not None and frame.normals == 3
    assert float(frame.axes[0] @ AXES[0]) > math.cos(math.radians(0.5))
    # the wall axes, up to sign and swap
    for axis in frame.axes[1:]:
        assert float((AXES[1:] @ axis).abs().max()) > math.cos(math.radians(0.5))
    # the bounds hold the room, grown by at most the margin (2 % of the diagonal)
    along = torch.stack([frame.axes @ AXES.T @ corner for corner in (LOW, HIGH)])
    lo, hi = along.min(0).values, along.max(0).values
    assert bool((frame.low <= lo + 0.05).all() and (frame.high >= hi - 0.05).all())
    assert bool((frame.low >= lo - 0.2).all() and (frame.high <= hi + 0.2).all())
    # a handful of points is no scene
    few = [torch.zeros_like(d, dtype=torch.bool) for d in depth]
    few[0][0, :10] = True
    assert manhattan_frame(depth, few, cams) is None
    # cameras rolled upside down in pairs share no up: no frame rather than a wrong one
    flipped = [PinholeCamera(c.K, torch.diag(torch.tensor([-1.0, -1.0, 1.0, 1.0],
                                                          dtype=torch.float64)) @ c.extrinsic,
                             c.width, c.height) for c in cams]
    ones = [torch.ones_like(d, dtype=torch.bool) for d in depth]
    assert manhattan_frame(depth + depth, ones + ones, cams + flipped) is None


def test_plane_directions_are_the_rooms_planes_in_displacement():
    """Each pixel's displacement f B / z equals s (a . p) of the family of the
    plane it sees, with s = 1 / (h - n . C) (module docstring), to 1e-9."""
    frame = ManhattanFrame(AXES, 3, LOW, HIGH)
    cam = _room_cameras()[0]
    z = _room_depth(cam).double()
    scale = 100.0  # f B
    families = plane_directions(frame, cam, scale)
    assert families.shape == (3, 3)
    p = plane_coordinates(cam.height, cam.width)
    X, _ = cam.unproject(z)
    along = X @ AXES.T  # (H, W, 3) the seen points along the room's axes
    shift = scale / z
    seen = 0
    for axis in range(3):
        for h in (LOW[axis], HIGH[axis]):
            on = (along[..., axis] - h).abs() < 1e-6
            s = 1.0 / (h - AXES[axis] @ cam.center)
            torch.testing.assert_close((p[on] @ families[axis]) * s, shift[on], rtol=1e-9,
                                       atol=1e-9)
            seen += int(on.sum())
    assert seen > 0.99 * z.numel()  # every pixel sees one of the six planes


def test_within_bounds_vetoes_a_plane_outside_the_room():
    frame = ManhattanFrame(AXES, 3, LOW - 0.1, HIGH + 0.1)  # bounds with a margin, as found
    cam, scale = _room_cameras()[0], 50.0
    depth = [_room_depth(cam)]
    p = plane_coordinates(cam.height, cam.width)[:10].reshape(-1, 3)  # the top rows: ceiling
    admissible = within_bounds(frame, cam, scale)
    true = scale / depth[0].double()[:10].reshape(-1)
    assert admissible(p, true)
    assert not admissible(p, true / 3)  # three times as far: past the ceiling
    assert not admissible(p, -true)  # behind the camera


def test_fill_takes_the_family_plane_through_a_line_of_evidence():
    H, W = 60, 80
    p = plane_coordinates(H, W)
    direction = torch.tensor([0.2, -1.0, 0.8], dtype=torch.float64)
    truth = 2.5 * (p @ direction)
    image = torch.full((3, H, W), 0.5)
    image[:, 40:] = torch.rand(3, 20, W, generator=torch.Generator().manual_seed(0))
    confidence = torch.zeros(H, W, dtype=torch.float64)
    confidence[40] = 1.0  # the only evidence: one image row where the region stops
    disparity = torch.where(confidence > 0, truth, torch.zeros_like(truth))
    kwargs = dict(min_size=100, ring=5, erode=1, tol=0.01, gate=math.inf)  # as for photos
    free = fill_textureless(disparity, confidence, image, **kwargs)
    assert not free.filled[:30].any()  # a line fixes no free plane
    out = fill_textureless(disparity, confidence, image, families=direction[None], **kwargs)
    assert out.filled[2:36].all()  # the region: the grey rows clear of the texture's blur
    torch.testing.assert_close(out.disparity[2:36], truth[2:36])
    vetoed = fill_textureless(disparity, confidence, image, families=direction[None],
                              admissible=lambda coords, values: False, **kwargs)
    assert not vetoed.filled.any()
    with pytest.raises(ValueError, match="families"):
        fill_textureless(disparity, confidence, image, families=torch.ones(2, 2), **kwargs)
