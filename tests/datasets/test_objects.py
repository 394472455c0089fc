"""The objects scene family: seeded, disparities within +-4 px, ground truth
that warps the views onto the centre view, written and read as HCI folders."""
import numpy as np
import pytest
import torch

from geodl.datasets.objects import (
    SHAPES,
    make_objects_scene,
    render_objects_scene,
    write_objects_scenes,
)
from geodl.lightfield import load_lightfield
from geodl.lightfield.refocus import warp_lightfield_to_center


@pytest.fixture(scope="module")
def small():
    return render_objects_scene(3, size=96, grid=3, supersample=1, gt_factor=2)


def test_same_seed_same_bytes(small):
    again = render_objects_scene(3, size=96, grid=3, supersample=1, gt_factor=2)
    assert torch.equal(again.views, small.views)
    assert torch.equal(again.disparity, small.disparity)
    other = render_objects_scene(4, size=96, grid=3, supersample=1, gt_factor=2)
    assert not torch.equal(other.views, small.views)


def test_disparities_span_about_four_pixels(small):
    d = small.disparity[torch.isfinite(small.disparity)]
    assert float(d.abs().max()) < 4.3
    assert float(d.max()) > 3.0 and float(d.min()) < -3.0


def test_ground_truth_warps_the_views_onto_the_centre(small):
    """Independent of how the disparity was computed: the outer views,
    resampled by it, match the centre view where the scene is smooth in
    depth (a wrong sign or scale would shift them by up to 8 px)."""
    warped, valid = warp_lightfield_to_center(small, small.disparity.float())
    centre = small.center_view
    d = small.disparity
    smooth = torch.ones_like(d, dtype=torch.bool)
    for axis in (0, 1):  # away from depth edges
        step = (d.diff(dim=axis).abs() < 0.05)
        pad = torch.zeros_like(d, dtype=torch.bool)
        if axis == 0:
            pad[1:] = step
            pad[:-1] &= step
        else:
            pad[:, 1:] = step
            pad[:, :-1] &= step
        smooth &= pad
    err = (warped[0, 0] - centre).abs().mean(0)
    wrong = (warp_lightfield_to_center(small, -small.disparity.float())[0][0, 0]
             - centre).abs().mean(0)
    keep = smooth & valid[0, 0]
    assert float(keep.float().mean()) > 0.3
    assert float(err[keep].median()) < 0.02
    assert float(wrong[keep].median()) > 2 * float(err[keep].median())


def test_shapes_cover_the_family():
    kinds = {o.name for s in range(10) for o in make_objects_scene(s).objects}
    assert {"backdrop", "floor"} <= kinds
    assert len(kinds & set(SHAPES)) >= 5
    with pytest.raises(ValueError, match="seed"):
        make_objects_scene(-1)


def test_written_scene_reads_back_with_its_ground_truth(tmp_path):
    (folder, lf, _), = list(write_objects_scenes(tmp_path, [7], size=48, grid=3, supersample=1))
    assert folder.name == "geodl_objects_7"
    back = load_lightfield(folder)
    assert back.views.shape == lf.views.shape
    assert np.allclose(back.disparity.numpy(), lf.disparity.numpy(), atol=1e-4, equal_nan=True)
    with pytest.raises(FileExistsError):
        list(write_objects_scenes(tmp_path, [7], size=48, grid=3, supersample=1))


def test_cli_family_objects(tmp_path, capsys):
    from geodl.cli import main

    assert main(["render-lightfield", str(tmp_path), "--family", "objects", "--seed", "1",
                 "--size", "32", "--grid", "3", "--supersample", "1"]) == 0
    written = load_lightfield(tmp_path / "geodl_objects_1")
    assert written.views.shape[:2] == (3, 3) and written.views.shape[-1] == 32
    assert torch.allclose(written.disparity.float(),
                          render_objects_scene(1, 32, 3, 1).disparity.float(), atol=1e-3,
                          equal_nan=True)
    with pytest.raises(SystemExit) as exit_:
        main(["render-lightfield", str(tmp_path / "b"), "--family", "objects", "--benchmark"])
    assert exit_.value.code == 2
    assert "--family objects: no --benchmark" in capsys.readouterr().err
