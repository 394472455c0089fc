"""geodl.mvs.room_box: the faces of a box room (rotated by a known yaw) from
its analytic depth maps, each pixel's exit face against Open3D's ray casting,
no box for cameras outside it, the box taken where the photos match it and
not where a textured object stands in front, and the fill's ``prior`` for a
region that spans two planes."""
import math

import pytest
import torch
import torch.nn.functional as F

from geodl._optional import open3d
from geodl.lightfield.depth.planes import plane_coordinates
from geodl.lightfield.depth.textureless import fill_textureless
from geodl.mvs.manhattan import manhattan_frame
from geodl.mvs.room_box import RoomBox, exit_planes, room_box, take_box_depth
from geodl.mvs.slanted import PlaneCost
from geodl.structures import PinholeCamera
from tests.mvs.test_manhattan import AXES, HIGH, LOW, _room_cameras, _room_depth


def _matching_faces(box: RoomBox) -> torch.Tensor:
    """The box's faces expressed along the room's AXES (rows up to sign and order)."""
    out = torch.empty(3, 2, dtype=torch.float64)
    for axis, faces in zip(box.axes, box.faces):
        cos = AXES @ axis
        j = int(cos.abs().argmax())
        out[j] = faces if cos[j] > 0 else -faces.flip(0)
    return out


def test_room_box_finds_the_rooms_faces():
    cams = _room_cameras()
    depth = [_room_depth(c) for c in cams]
    keep = [torch.ones_like(d, dtype=torch.bool) for d in depth]
    box = room_box(manhattan_frame(depth, keep, cams), depth, keep, cams)
    assert box is not None
    torch.testing.assert_close(_matching_faces(box), torch.stack([LOW, HIGH], 1), atol=0.01, rtol=0)


def test_no_box_without_walls_or_from_outside():
    cams = _room_cameras()
    depth = [_room_depth(c) for c in cams]
    keep = [torch.ones_like(d, dtype=torch.bool) for d in depth]
    frame = manhattan_frame(depth, keep, cams)
    assert room_box(None, depth, keep, cams) is None
    up_only = type(frame)(frame.axes, 1, frame.low, frame.high)
    assert room_box(up_only, depth, keep, cams) is None
    outside = PinholeCamera.look_at([9.0, 0.0, 1.5], [0.0, 0.0, 1.5], width=64, height=48)
    assert room_box(frame, depth, keep, cams + [outside]) is None  # not a room seen from inside
    with pytest.raises(ValueError, match="band"):
        room_box(frame, depth, keep, cams, band=0.7)


def test_exit_planes_match_open3d_ray_casting():
    o3d = open3d()
    import trimesh

    box = RoomBox(AXES, torch.stack([LOW, HIGH], 1))
    mesh = trimesh.creation.box(extents=(HIGH - LOW).tolist())
    pose = torch.eye(4, dtype=torch.float64)
    pose[:3, :3] = AXES.T  # box axes -> world
    pose[:3, 3] = AXES.T @ ((LOW + HIGH) / 2)
    mesh.apply_transform(pose.numpy())
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(mesh.vertices.astype("float32")),
                        o3d.core.Tensor(mesh.faces.astype("uint32")))
    for cam in _room_cameras(3):
        z, normal, offset = exit_planes(box, cam)
        o, d = cam.rays()  # directions scaled to unit z-depth: t_hit is the z-depth
        rays = torch.cat([o, d], -1).reshape(-1, 6).float().numpy()
        hit = torch.from_numpy(scene.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy())
        torch.testing.assert_close(z.float(), hit.reshape(z.shape), atol=1e-4, rtol=1e-5)
        # the planes give the same depth as PlaneCost reads them: c / (n . r)
        r = d @ cam.R.T  # the rays in camera axes, unit z
        plane_z = offset.double() / (normal.double() * r).sum(-1)
        assert bool(((normal.double() * r).sum(-1) < 0).all())
        torch.testing.assert_close(plane_z, z, atol=1e-4, rtol=1e-5)


WALL_Z, OBJECT_Z, HALF = 3.0, 2.0, 0.4


def _textured(uv: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    tex = F.interpolate(torch.rand(1, 1, 48, 48, generator=g), size=(384, 384), mode="bicubic",
                        align_corners=False).clamp(0, 1)
    return F.grid_sample(tex, uv.float()[None], align_corners=False)[0, 0]


def _render(cam: PinholeCamera) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey image and z-depth: a textured wall at z = 3 and a textured square
    (half-width 0.4) at z = 2 in front of it."""
    o, d = cam.rays()
    wall = o + d * ((WALL_Z - o[..., 2]) / d[..., 2])[..., None]
    front = o + d * ((OBJECT_Z - o[..., 2]) / d[..., 2])[..., None]
    on_object = (front[..., 0].abs() < HALF) & (front[..., 1].abs() < HALF)
    img = torch.where(on_object, _textured(front[..., :2] / 2, 1), _textured(wall[..., :2] / 4, 2))
    point = torch.where(on_object[..., None], front, wall)
    return img, (point @ cam.R.T + cam.t)[..., 2].float()


def test_take_box_depth_where_the_photos_match_it():
    cams = [PinholeCamera.look_at([x, y, 0.0], [x, y, 3.0], up=(0, -1, 0), width=120, height=90,
                                  fov_deg=60) for x, y in ((0, 0), (0.3, 0.05), (-0.3, -0.05))]
    images, truth = zip(*(_render(c) for c in cams))
    # a box whose far face is the wall: axes x, y, z; the cameras stand inside
    box = RoomBox(torch.eye(3, dtype=torch.float64),
                  torch.tensor([[-10.0, 10.0], [-10.0, 10.0], [-1.0, WALL_Z]], dtype=torch.float64))
    cost = PlaneCost(images[0], cams[0], list(images[1:]), list(cams[1:]), (1.0, 5.0))
    # the object's depth is right; the wall's is wrong (as an unconfirmed sweep's)
    depth = torch.where(truth[0] < 2.5, truth[0], torch.full_like(truth[0], 2.6))
    new, took = take_box_depth(depth, torch.ones_like(depth, dtype=torch.bool), cost, box, cams[0])
    inner = torch.zeros_like(took)
    inner[8:-8, 8:-8] = True  # the window needs its footprint inside the sources
    wall = inner & (truth[0] > 2.9) & (F.max_pool2d((truth[0] < 2.5).float()[None], 9, 1, 4)[0] == 0)
    obj = inner & (-F.max_pool2d(-(truth[0] < 2.5).float()[None], 9, 1, 4)[0] == 1)
    assert float(took[wall].float().mean()) > 0.95
    torch.testing.assert_close(new[wall & took], torch.full_like(new[wall & took], WALL_Z))
    assert float(took[obj].float().mean()) < 0.05
    # only candidates may take it
    none, took_none = take_box_depth(depth, torch.zeros_like(took), cost, box, cams[0])
    assert not bool(took_none.any()) and torch.equal(none, depth)
    with pytest.raises(ValueError, match="margin"):
        take_box_depth(depth, took, cost, box, cams[0], margin=-0.1)


def test_fill_prior_for_a_region_on_two_planes():
    H, W = 60, 80
    coords = plane_coordinates(H, W, device="cpu").double()
    upper = coords @ torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)   # a ceiling
    lower = coords @ torch.tensor([0.5, 0.0, 2.0], dtype=torch.float64)   # a wall
    truth = torch.where(torch.arange(H)[:, None] < 30, upper, lower)
    image = torch.rand(3, H, W, generator=torch.Generator().manual_seed(0))
    image[:, 10:50, 20:60] = 0.5  # textureless across the fold
    disparity = truth.clone()
    disparity[10:50, 20:60] = 1.0  # what matching left there
    confidence = torch.ones(H, W, dtype=torch.float64)
    confidence[10:50, 20:60] = 0.0
    options = dict(tol=0.01, gate=math.inf, min_size=100)
    plane = fill_textureless(disparity, confidence, image, **options)
    boxed = fill_textureless(disparity, confidence, image, prior=truth, **options)
    inside = (slice(12, 48), slice(22, 58))
    assert bool(boxed.filled[inside].all())
    torch.testing.assert_close(boxed.disparity[inside], truth[inside])
    # one plane cannot hold both halves
    assert float(((plane.disparity - truth).abs() < 0.01)[inside].float().mean()) < 0.75
    with pytest.raises(ValueError, match="prior"):
        fill_textureless(disparity, confidence, image, prior=truth[:10])
