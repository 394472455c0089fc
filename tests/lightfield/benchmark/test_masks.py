import math

import pytest
import torch

from geodl.lightfield.benchmark import block_median, evaluation_masks
from geodl.render import Renderer, high_res_depth, make_room
from geodl.structures import PinholeCamera


def test_block_median_by_hand():
    x = torch.tensor([[1.0, 2.0, 10.0, 10.0],
                      [3.0, 100.0, 10.0, float("inf")],
                      [float("nan")] * 2 + [5.0, 6.0],
                      [float("nan")] * 2 + [7.0, 8.0]])
    out = block_median(x, 2)
    assert out[0, 0] == 2.0  # even count: torch's median is the lower middle value
    assert out[0, 1] == 10.0 and out[1, 1] == 6.0 and math.isnan(out[1, 0])
    with pytest.raises(ValueError, match="multiple"):
        block_median(torch.zeros(5, 4), 2)


def test_masks_on_a_synthetic_map():
    H, W = 20, 30
    depth = torch.full((H, W), 2.0, dtype=torch.float64)
    ids = torch.ones(H, W, dtype=torch.long)
    ids[:, 15:] = 2  # an object edge at column 15
    depth[:, 15:] = 3.0
    normal = torch.zeros(3, H, W, dtype=torch.float64)
    normal[2] = -1.0
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    curved = (xx >= 20) & (xx < 28) & (yy >= 5) & (yy < 15)  # a curved patch on object 2
    tilt = (xx.double() - 24) * 0.1
    normal[0][curved] = torch.sin(tilt[curved])
    normal[2][curved] = -torch.cos(tilt[curved])
    m = evaluation_masks(depth, normal, ids, fine_ids=[2], edge_width=2)
    disc = m["discontinuities"]
    assert disc[:, 13:17].all() and not disc[:, :12].any() and not disc[:, 18:].any()
    assert m["planes"][:, :10].all() and not m["planes"][curved].any()
    assert m["smooth_surfaces"][8, 22] and not m["smooth_surfaces"][:, :10].any()
    assert (m["fine"] == (ids == 2)).all()
    # the surrounding band: the 2 columns of object 1 next to object 2
    assert m["fine_surrounding"][:, 13:15].all() and m["fine_surrounding"].sum() == 2 * H
    # the regions do not overlap
    assert not (m["planes"] & m["smooth_surfaces"]).any()
    assert not (m["planes"] & disc).any()


def test_high_res_ground_truth_of_a_room():
    room = make_room(1)
    r = Renderer(room)
    cam = PinholeCamera.look_at([-2.0, -1.5, 1.5], [0.5, 0.5, 0.8], width=32, height=24)
    depth_hr, normal_hr, ids_hr = high_res_depth(r, cam, factor=4)
    assert depth_hr.shape == (96, 128) and normal_hr.shape == (3, 96, 128)
    low = r.render(cam)
    gt = block_median(depth_hr, 4)
    # away from edges the block median equals the low-resolution depth to
    # within the depth change across one low-res pixel
    masks = evaluation_masks(low.depth, low.normal, low.object_id)
    inner = masks["planes"]
    rel = ((gt - low.depth).abs() / low.depth)[inner]
    assert float(rel.median()) < 0.01


def test_a_crease_is_not_a_discontinuity_and_scale_keeps_regions():
    H, W = 12, 16
    depth = torch.full((H, W), 2.0, dtype=torch.float64)
    ids = torch.ones(H, W, dtype=torch.long)
    ids[6:] = 2  # another object at the same depth (a wall meeting the floor)
    depth[:, 8:] = 4.0  # a real depth jump at column 8
    normal = torch.zeros(3, H, W, dtype=torch.float64)
    normal[2] = -1.0
    m = evaluation_masks(depth, normal, ids, edge_width=1)
    assert m["discontinuities"][:, 7:9].all()
    assert m["discontinuities"].sum() == 2 * H  # nothing along the object change
    # the same map at 3x: the same regions, repeated
    up = lambda x: x.repeat_interleave(3, -2).repeat_interleave(3, -1)  # noqa: E731
    m3 = evaluation_masks(up(depth), up(normal), up(ids), edge_width=1, scale=3)
    assert m3["discontinuities"].sum() == 3 * H * 3 * 2  # a band 3 px wide on each side
    assert torch.equal(m3["planes"], up(m["planes"]))


def test_banded_median_depth_equals_the_full_high_res_block_median():
    from geodl.datasets import median_depth
    r = Renderer(make_room(2))
    cam = PinholeCamera.look_at([-2.0, -1.5, 1.5], [0.5, 0.5, 0.8], width=20, height=14)
    full = block_median(high_res_depth(r, cam, factor=3)[0], 3)
    banded = median_depth(r, cam, factor=3, band_rows=4)  # 14 rows: bands 4, 4, 4, 2
    # equal up to float32 ray rounding (a cropped camera's rays are computed anew)
    assert torch.allclose(torch.nan_to_num(banded, posinf=-1.0),
                          torch.nan_to_num(full, posinf=-1.0), atol=1e-5)
