r"""HCI 4D light field benchmark scene folders.

Layout (one folder per scene)::

    input_Cam000.png ... input_Cam080.png   views, index = row * V + col
    parameters.cfg                          HCIParameters
    gt_disp_lowres.pfm, gt_depth_lowres.pfm centre-view ground truth (if known)
    gt_disp_lowres_Cam000.pfm ..., gt_depth_lowres_Cam000.pfm ...
                                            every view's ground truth (if known)
    mask_<region>_lowres.png                evaluation masks (if known)
    gt_disp_highres.pfm, gt_depth_highres.pfm, mask_<region>_highres.png
                                            the same at 10x (if rendered so;
                                            about 100 MB per map at 5120 x 5120)

The centre camera's pose is stored the benchmark's way, as a Blender camera:
location (m) and XYZ Euler angles (rad) of a camera looking down its local
-z with y up. Our cameras use the OpenCV frame (looking down +z, y down), so
:math:`R_{world \leftarrow cv} = R_z R_y R_x \operatorname{diag}(1, -1, -1)`.
The principal point is the image centre and
:math:`f_{px} = f_{mm} / s_{mm} \cdot \max(W, H)`.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from geodl.io import read_image
from geodl.io.atomic import check_output_folder, staging_folder
from geodl.lightfield.hci_parameters import HCIParameters
from geodl.lightfield.pfm import read_pfm, write_pfm
from geodl.structures import GroundTruth, LightField, PinholeCamera

_FLIP = np.diag([1.0, -1.0, -1.0])


def _euler_xyz(rx: float, ry: float, rz: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = (math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry),
                              math.cos(rz), math.sin(rz))
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return Rz @ Ry @ Rx


def camera_from_parameters(p: HCIParameters) -> PinholeCamera:
    """The centre view's ``PinholeCamera`` from a ``parameters.cfg``."""
    W, H = p.image_resolution_x_px, p.image_resolution_y_px
    f = p.focal_px
    K = torch.tensor([[f, 0, W / 2], [0, f, H / 2], [0, 0, 1]], dtype=torch.float64)
    R_world_cv = _euler_xyz(p.center_cam_rx_rad, p.center_cam_ry_rad, p.center_cam_rz_rad) @ _FLIP
    C = np.array([p.center_cam_x_m, p.center_cam_y_m, p.center_cam_z_m])
    E = np.eye(4)
    E[:3, :3] = R_world_cv.T
    E[:3, 3] = -R_world_cv.T @ C
    return PinholeCamera(K, torch.from_numpy(E), W, H)


def _euler_from_matrix(R: np.ndarray) -> tuple[float, float, float]:
    """XYZ Euler angles with R = Rz Ry Rx."""
    ry = math.asin(max(-1.0, min(1.0, -R[2, 0])))
    if abs(math.cos(ry)) > 1e-9:
        rx = math.atan2(R[2, 1], R[2, 2])
        rz = math.atan2(R[1, 0], R[0, 0])
    else:  # gimbal lock: fold the rotation into rx
        rx = math.atan2(-R[1, 2], R[1, 1])
        rz = 0.0
    return rx, ry, rz


def parameters_from_light_field(lf: LightField, scene: str = "",
                                sensor_size_mm: float = 35.0) -> HCIParameters:
    lf.rig.require_metric("the HCI parameters.cfg")
    cam = lf.camera
    if abs(float(cam.K[0, 0] - cam.K[1, 1])) > 1e-9 * float(cam.K[0, 0]):
        raise ValueError("camera: the HCI format needs square pixels (fx = fy)")
    W, H = cam.width, cam.height
    R_world_blender = cam.R.T.numpy() @ _FLIP
    rx, ry, rz = _euler_from_matrix(R_world_blender)
    C = cam.center.numpy()
    U, V = lf.grid_shape
    p = HCIParameters(
        image_resolution_x_px=W, image_resolution_y_px=H,
        focal_length_mm=float(cam.K[0, 0]) * sensor_size_mm / max(W, H),
        sensor_size_mm=sensor_size_mm, num_cams_x=V, num_cams_y=U,
        baseline_mm=lf.baseline * 1000, focus_distance_m=lf.focus_distance,
        center_cam_x_m=float(C[0]), center_cam_y_m=float(C[1]), center_cam_z_m=float(C[2]),
        center_cam_rx_rad=rx, center_cam_ry_rad=ry, center_cam_rz_rad=rz, scene=scene)
    if lf.disparity is not None and torch.isfinite(lf.disparity).any():
        # the benchmark's disparity range of the scene (what methods may search)
        d = lf.disparity[torch.isfinite(lf.disparity)]
        p.disp_min, p.disp_max = float(d.min()), float(d.max())
        p.frustum_disp_min, p.frustum_disp_max = p.disp_min, p.disp_max
    return p


#: files a scene folder's writer owns (and replaces with ``overwrite``)
_OWNED = ("input_Cam*.png", "parameters.cfg", "gt_disp_*.pfm", "gt_depth_*.pfm",
          "mask_*_lowres.png", "mask_*_highres.png")


def scene_files(folder: str | Path) -> list[Path]:
    """The files of ``folder`` that make a scene folder (views, parameters,
    ground truth, masks): what :func:`write_hci_scene` may replace."""
    folder = Path(folder)
    return sorted({f for pattern in _OWNED for f in folder.glob(pattern) if f.is_file()})


def write_hci_scene(folder: str | Path, lf: LightField, scene: str = "",
                    overwrite: bool = False) -> Path:
    """Write ``lf`` (views, ``parameters.cfg`` and its :class:`GroundTruth`) as a
    benchmark scene folder; returns the folder.

    A non-empty ``folder`` is refused unless ``overwrite``, which first removes
    the files a scene folder consists of (views, parameters, ground truth,
    masks) and leaves any other file. Everything is written into a temporary
    sibling first and moved in at the end, so a failure leaves no half-written
    scene."""
    folder = check_output_folder(folder, overwrite, "the scene files in it")
    if lf.views.shape[2] != 3:
        raise ValueError(f"views: the HCI format stores RGB views, got {lf.views.shape[2]} channels")
    params = parameters_from_light_field(lf, scene)
    with staging_folder(folder) as tmp:
        _write_scene_files(tmp, lf, params)
        if folder.is_dir():
            for f in scene_files(folder):
                f.unlink()
            for f in tmp.iterdir():
                os.replace(f, folder / f.name)
        else:
            os.rename(tmp, folder)
    return folder


def _write_scene_files(folder: Path, lf: LightField, params: HCIParameters) -> None:
    U, V = lf.grid_shape
    for r in range(U):
        for c in range(V):
            img = (lf.views[r, c].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round()
            # zlib level 1: 3x faster to write than PIL's default 6, files 20 % larger
            Image.fromarray(img.astype(np.uint8)).save(folder / f"input_Cam{r * V + c:03d}.png",
                                                       compress_level=1)
    params.write(folder / "parameters.cfg")
    gt = lf.ground_truth
    if gt is None:
        return
    for name, value in (("disp", gt.disparity), ("depth", gt.depth)):
        if value is not None:
            write_pfm(folder / f"gt_{name}_lowres.pfm", value.numpy())
    _write_masks(folder, gt.masks, "lowres")
    if gt.view_depth is not None:
        for r in range(U):
            for c in range(V):
                z = gt.view_depth[r, c]
                write_pfm(folder / f"gt_depth_lowres_Cam{r * V + c:03d}.pfm", z.numpy())
                write_pfm(folder / f"gt_disp_lowres_Cam{r * V + c:03d}.pfm",
                          lf.depth_to_disparity(z).numpy())
    hr = gt.highres
    if hr is not None:
        for name, value in (("disp", hr.disparity), ("depth", hr.depth)):
            if value is not None:
                write_pfm(folder / f"gt_{name}_highres.pfm", np.asarray(value, np.float32))
        _write_masks(folder, hr.masks, "highres")


def _write_masks(folder: Path, masks: dict, resolution: str) -> None:
    for name, mask in masks.items():
        img = (np.asarray(mask, dtype=bool) * 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"mask_{name}_{resolution}.png")


def _read_masks(folder: Path, resolution: str) -> dict[str, torch.Tensor]:
    suffix = f"_{resolution}.png"
    return {f.name[len("mask_"):-len(suffix)]: torch.from_numpy(read_image(f, channels=1)[..., 0] > 0.5)
            for f in sorted(folder.glob(f"mask_*{suffix}"))}


def load_hci(folder: str | Path, highres: bool = False) -> LightField:
    """Read a benchmark scene folder (ours or a real HCI scene the user placed).

    The ground truth, where present, becomes ``lf.ground_truth``
    (:func:`load_ground_truth`); ``meta`` holds "scene" and "parameters"
    (the :class:`HCIParameters`, with ``disp_min``/``disp_max`` where given)."""
    folder = Path(folder)
    cfg = folder / "parameters.cfg"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such scene folder")
    if not cfg.exists():
        raise FileNotFoundError(
            f"{cfg} not found: place an HCI 4D light field scene folder there "
            "(input_Cam000.png ... input_Cam080.png and parameters.cfg, e.g. from the "
            "benchmark's 'additional' or 'training' archives)")
    p = HCIParameters.read(cfg)
    U, V = p.num_cams_y, p.num_cams_x
    size = (p.image_resolution_y_px, p.image_resolution_x_px)
    expected = [folder / f"input_Cam{k:03d}.png" for k in range(U * V)]
    missing = [p_.name for p_ in expected if not p_.exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: {', '.join(missing[:4])}"
                                f"{' ...' if len(missing) > 4 else ''} missing ({len(missing)} "
                                f"of the {U} x {V} views input_Cam000.png ... "
                                f"input_Cam{U * V - 1:03d}.png that parameters.cfg names)")
    extra = sorted(set(folder.glob("input_Cam*.png")) - set(expected))
    if extra:
        raise ValueError(f"{folder}: {len(extra)} more views than the {U} x {V} of "
                         f"parameters.cfg ({extra[0].name}, ...)")
    views = torch.empty(U * V, 3, *size)
    for k, path in enumerate(expected):
        img = read_image(path)  # any bit depth, grey or RGBA, scaled to [0, 1]
        if img.shape[:2] != size:
            raise ValueError(f"{path}: size {img.shape[1]}x{img.shape[0]} does not match "
                             f"parameters.cfg ({size[1]}x{size[0]})")
        views[k] = torch.from_numpy(img).permute(2, 0, 1)
    return LightField(views.reshape(U, V, 3, *size), camera_from_parameters(p), p.baseline_m,
                      p.focus_distance_m, ground_truth=load_ground_truth(folder, highres),
                      meta={"scene": p.scene, "parameters": p})


def load_ground_truth(folder: str | Path, highres: bool = False) -> GroundTruth | None:
    """The :class:`GroundTruth` of a scene folder without reading its views, or
    None when the folder has no ground-truth file. Every view's depth is read
    when all ``gt_depth_lowres_Cam*.pfm`` are there; with ``highres`` the 10x
    files too (factor = their width / the views' width). Without
    ``parameters.cfg`` (as public copies of benchmark scenes come) the
    centre-view maps only, since the grid and the views' width are unknown."""
    folder = Path(folder)

    def pfm(name: str):  # float32 as stored (a 10x map is 100 MB so)
        path = folder / name
        return torch.from_numpy(read_pfm(path)) if path.exists() else None

    disparity, depth = pfm("gt_disp_lowres.pfm"), pfm("gt_depth_lowres.pfm")
    disparity, depth = [None if t is None else t.double() for t in (disparity, depth)]
    masks = _read_masks(folder, "lowres")
    if disparity is None and depth is None and not masks:
        return None
    if not (folder / "parameters.cfg").exists():
        return GroundTruth(disparity, depth, masks)
    p = HCIParameters.read(folder / "parameters.cfg")
    U, V = p.num_cams_y, p.num_cams_x
    view_files = [folder / f"gt_depth_lowres_Cam{k:03d}.pfm" for k in range(U * V)]
    view_depth = None
    if all(f.exists() for f in view_files):
        maps = torch.stack([torch.from_numpy(read_pfm(f)) for f in view_files])
        view_depth = maps.reshape(U, V, *maps.shape[1:])
    hr = None
    disp_hr = pfm("gt_disp_highres.pfm") if highres else None
    if disp_hr is not None:
        factor = disp_hr.shape[1] // p.image_resolution_x_px
        hr = GroundTruth(disp_hr, pfm("gt_depth_highres.pfm"), _read_masks(folder, "highres"),
                         factor=factor)
    return GroundTruth(disparity, depth, masks, highres=hr, view_depth=view_depth)
