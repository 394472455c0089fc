import numpy as np
import pytest
import torch

from geodl.lightfield import (HCIParameters, camera_from_parameters, load_hci,
                              parameters_from_light_field, write_hci_scene)
from geodl.structures import LightField, PinholeCamera


def _lf(U=3, V=3, H=12, W=16):
    cam = PinholeCamera.look_at([1.0, -2.0, 1.5], [0.2, 0.5, 0.8], up=[0, 0, 1], width=W,
                                height=H, fov_deg=60)
    g = torch.Generator().manual_seed(0)
    disp = torch.rand(H, W, generator=g, dtype=torch.float64) * 1.2 - 0.3  # beyond -bf/F is infinity
    lf = LightField(torch.rand(U, V, 3, H, W, generator=g), cam, 0.05, 2.0, disparity=disp)
    lf.depth = lf.disparity_to_depth(disp)
    return lf


def test_camera_pose_survives_the_blender_euler_round_trip():
    lf = _lf()
    p = parameters_from_light_field(lf)
    cam = camera_from_parameters(p)
    assert torch.allclose(cam.extrinsic, lf.camera.extrinsic, atol=1e-12)
    assert torch.allclose(cam.K, lf.camera.K, atol=1e-9)
    # a Blender camera with zero rotation looks down world -z with image-up = world +y
    flat = camera_from_parameters(HCIParameters(center_cam_z_m=5.0))
    uv, z = flat.project(torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64))
    assert z[0] == pytest.approx(5.0) and uv[1, 1] < uv[0, 1]


def test_scene_folder_round_trip(tmp_path):
    lf = _lf()
    write_hci_scene(tmp_path / "scene", lf, scene="unit")
    names = sorted(p.name for p in (tmp_path / "scene").iterdir())
    assert names[:2] == ["gt_depth_lowres.pfm", "gt_disp_lowres.pfm"]
    assert "input_Cam008.png" in names and "parameters.cfg" in names
    back = load_hci(tmp_path / "scene")
    assert back.grid_shape == (3, 3) and back.meta["scene"] == "unit"
    assert torch.allclose(back.views, lf.views, atol=0.5 / 255 + 1e-6)  # 8-bit PNG
    assert torch.allclose(back.disparity.double(), lf.disparity, atol=1e-6)  # float32 PFM
    assert back.baseline == pytest.approx(0.05) and back.focus_distance == pytest.approx(2.0)
    assert torch.allclose(back.camera.extrinsic, lf.camera.extrinsic, atol=1e-9)


def test_missing_files_say_what_to_place(tmp_path):
    with pytest.raises(FileNotFoundError, match="parameters.cfg"):
        load_hci(tmp_path)
    lf = _lf()
    write_hci_scene(tmp_path / "s", lf)
    (tmp_path / "s" / "input_Cam004.png").unlink()
    with pytest.raises(FileNotFoundError, match="input_Cam004.png"):
        load_hci(tmp_path / "s")


def test_cli_renders_a_readable_hci_scene(tmp_path):
    from PIL import Image

    from geodl.cli import main
    sheet = tmp_path / "sheet.png"
    assert main(["render-lightfield", str(tmp_path), "--seed", "2", "--scenes", "2", "--size",
                 "48", "--grid", "3", "--contact-sheet", str(sheet)]) == 0
    assert Image.open(sheet).size[0] > 200  # a picture, with both scenes
    assert (tmp_path / "geodl_room_0003" / "parameters.cfg").exists()
    lf = load_hci(tmp_path / "geodl_room_0002")
    assert lf.grid_shape == (3, 3) and lf.views.shape[-2:] == (48, 48)
    d = lf.disparity[torch.isfinite(lf.disparity)]
    assert -3.01 <= float(d.min()) and float(d.max()) <= 3.01  # the rig's range
    # the stored depth and disparity obey d = b f (1/Z - 1/F)
    z = lf.depth
    ok = torch.isfinite(z)
    expect = lf.baseline * lf.focal_px * (1 / z[ok].double() - 1 / lf.focus_distance)
    assert torch.allclose(lf.disparity[ok].double(), expect, atol=1e-3)


def test_submission_layout(tmp_path):
    from geodl.lightfield import read_pfm, write_submission
    d = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_submission(tmp_path, "boxes", torch.from_numpy(d), 1.25)
    assert np.array_equal(read_pfm(tmp_path / "disp_maps" / "boxes.pfm"), d)
    assert float((tmp_path / "runtimes" / "boxes.txt").read_text()) == 1.25
    with pytest.raises(ValueError, match="runtime"):
        write_submission(tmp_path, "boxes", d, float("nan"))
    with pytest.raises(ValueError, match="disparity"):
        write_submission(tmp_path, "boxes", d[None], 1.0)


def test_rendered_scene_has_block_median_ground_truth_and_masks(tmp_path):
    from geodl.render import render_hci_scene
    lf = render_hci_scene(5, size=40, grid=3, gt_factor=4, progress=False)
    masks = lf.meta["masks"]
    assert set(masks) == {"discontinuities", "planes", "smooth_surfaces", "fine",
                          "fine_surrounding"}
    assert masks["planes"].sum() > 0.3 * 40 * 40  # rooms are mostly planar
    write_hci_scene(tmp_path / "s", lf, scene="s")
    back = load_hci(tmp_path / "s")
    assert all(torch.equal(back.meta["masks"][k], masks[k]) for k in masks)
    # ground truth = block median of the 4x render: equals the plain render on planes
    plain = render_hci_scene(5, size=40, grid=3, gt_factor=1, progress=False)
    on_planes = masks["planes"] & torch.isfinite(lf.depth) & torch.isfinite(plain.depth)
    rel = ((lf.depth - plain.depth).abs() / plain.depth)[on_planes]
    assert float(rel.median()) < 0.01


def test_high_resolution_ground_truth_is_written_and_read_back(tmp_path):
    from geodl.render import block_median, render_hci_scene
    lf = render_hci_scene(5, size=40, grid=3, gt_factor=4, highres=True, progress=False)
    hr = lf.meta["highres"]
    assert hr["factor"] == 4 and hr["disparity"].shape == (160, 160)
    assert set(hr["masks"]) == set(lf.meta["masks"])
    # the low-resolution ground truth is the block median of the high-resolution one
    med = block_median(torch.nan_to_num(hr["depth"], nan=float("inf")), 4)
    both = torch.isfinite(med) & torch.isfinite(lf.depth)
    assert torch.allclose(med[both], lf.depth[both])
    # high-resolution disparity is in low-resolution pixels: on planes it matches
    # the low-resolution disparity of the same block
    planes = lf.meta["masks"]["planes"]
    up = lf.disparity.repeat_interleave(4, 0).repeat_interleave(4, 1)
    on = planes.repeat_interleave(4, 0).repeat_interleave(4, 1) & torch.isfinite(up)
    assert float((hr["disparity"].double() - up)[on].abs().median()) < 0.02
    # discontinuity bands cover the same image area at both resolutions (within 25 %)
    area_lo = float(lf.meta["masks"]["discontinuities"].float().mean())
    area_hi = float(hr["masks"]["discontinuities"].float().mean())
    assert abs(area_hi - area_lo) < 0.25 * area_lo
    write_hci_scene(tmp_path / "s", lf, scene="s")
    assert (tmp_path / "s" / "gt_disp_highres.pfm").exists()
    assert (tmp_path / "s" / "mask_discontinuities_highres.png").exists()
    assert "highres" not in load_hci(tmp_path / "s").meta  # only read on request
    back = load_hci(tmp_path / "s", highres=True).meta["highres"]
    assert back["factor"] == 4
    assert torch.allclose(back["disparity"], hr["disparity"].float(), equal_nan=True)
    assert all(torch.equal(back["masks"][k], hr["masks"][k]) for k in hr["masks"])


def test_benchmark_seeds_are_fixed_and_never_training_seeds():
    from geodl.datasets import BENCHMARK_SEEDS, training_seeds
    assert len(BENCHMARK_SEEDS) >= 8 and len(set(BENCHMARK_SEEDS)) == len(BENCHMARK_SEEDS)
    assert not set(BENCHMARK_SEEDS) & set(training_seeds(9000))
    assert training_seeds(3, offset=10) == [10, 11, 12]
    with pytest.raises(ValueError, match="training seeds"):
        training_seeds(2, offset=8999)  # would reach a benchmark seed


def test_evaluate_a_submission_folder(tmp_path, capsys):
    from geodl.cli import main
    from geodl.lightfield import write_submission
    from geodl.lightfield.evaluate_submission import evaluate_submission
    from geodl.render import render_hci_scene
    lf = render_hci_scene(3, size=40, grid=3, gt_factor=4, highres=True, progress=False)
    write_hci_scene(tmp_path / "scenes" / "room", lf, scene="room")
    gt = torch.nan_to_num(lf.disparity).float()
    write_submission(tmp_path / "perfect", "room", gt, 1.5)
    write_submission(tmp_path / "shifted", "room", gt + 0.1, 2.0)  # every pixel 0.1 px off
    perfect = evaluate_submission(tmp_path / "perfect", tmp_path / "scenes", highres=True)["room"]
    assert perfect["mse100"] < 1e-6 and perfect["badpix0.07"] == 0.0
    # even the exact low-resolution answer misses the 10x truth on the far side
    # of each edge inside its boundary pixels: about half a pixel of a band 4 wide
    assert 0 < perfect["badpix0.07_discontinuities"] < 20
    assert perfect["runtime_s"] == 1.5
    shifted = evaluate_submission(tmp_path / "shifted", tmp_path / "scenes")["room"]
    assert shifted["badpix0.07"] == 100.0 and shifted["badpix0.03"] == 100.0
    assert shifted["mse100"] == pytest.approx(1.0, rel=1e-4)  # 0.1^2 x 100
    assert shifted["bumpiness_planes"] < 1e-6  # a constant offset is not bumpy
    assert main(["evaluate-lightfield", str(tmp_path / "shifted"), str(tmp_path / "scenes"),
                 "--json", str(tmp_path / "s.json")]) == 0
    assert "| room |" in capsys.readouterr().out and (tmp_path / "s.json").exists()
    with pytest.raises(FileNotFoundError, match="no ground truth"):
        evaluate_submission(tmp_path / "perfect", tmp_path)
