r"""HCI 4D light field benchmark scene folders.

Layout (one folder per scene)::

    input_Cam000.png ... input_Cam080.png   views, index = row * V + col
    parameters.cfg                          HCIParameters
    gt_disp_lowres.pfm, gt_depth_lowres.pfm centre-view ground truth (if known)
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
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from geodl.lightfield.hci_parameters import HCIParameters
from geodl.lightfield.pfm import read_pfm, write_pfm
from geodl.structures import LightField, PinholeCamera

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
        d = lf.disparity[torch.isfinite(lf.disparity)]
        p.disp_min, p.disp_max = float(d.min()), float(d.max())
        p.frustum_disp_min, p.frustum_disp_max = p.disp_min, p.disp_max
    return p


def write_hci_scene(folder: str | Path, lf: LightField, scene: str = "") -> Path:
    """Write ``lf`` as a benchmark scene folder; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    U, V = lf.grid_shape
    if lf.views.shape[2] != 3:
        raise ValueError(f"views: the HCI format stores RGB views, got {lf.views.shape[2]} channels")
    for r in range(U):
        for c in range(V):
            img = (lf.views[r, c].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round()
            Image.fromarray(img.astype(np.uint8)).save(folder / f"input_Cam{r * V + c:03d}.png")
    parameters_from_light_field(lf, scene).write(folder / "parameters.cfg")
    if lf.disparity is not None:
        write_pfm(folder / "gt_disp_lowres.pfm", lf.disparity.numpy())
    if lf.depth is not None:
        write_pfm(folder / "gt_depth_lowres.pfm", lf.depth.numpy())
    _write_masks(folder, lf.meta.get("masks") or {}, "lowres")
    highres = lf.meta.get("highres")
    if highres:
        write_pfm(folder / "gt_disp_highres.pfm", np.asarray(highres["disparity"], np.float32))
        write_pfm(folder / "gt_depth_highres.pfm", np.asarray(highres["depth"], np.float32))
        _write_masks(folder, highres.get("masks") or {}, "highres")
    return folder


def _write_masks(folder: Path, masks: dict, resolution: str) -> None:
    for name, mask in masks.items():
        img = (np.asarray(mask, dtype=bool) * 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"mask_{name}_{resolution}.png")


def _read_masks(folder: Path, resolution: str) -> dict[str, torch.Tensor]:
    suffix = f"_{resolution}.png"
    return {f.name[len("mask_"):-len(suffix)]:
            torch.from_numpy(np.asarray(Image.open(f).convert("L")) > 127)
            for f in sorted(folder.glob(f"mask_*{suffix}"))}


def load_hci(folder: str | Path, highres: bool = False) -> LightField:
    """Read a benchmark scene folder (ours or a real HCI scene the user placed).

    Ground truth and masks, where present, go into ``disparity``, ``depth``
    and ``meta["masks"]``; with ``highres`` the 10x files too, into
    ``meta["highres"]`` = {"factor", "disparity", "depth", "masks"}."""
    folder = Path(folder)
    cfg = folder / "parameters.cfg"
    if not cfg.exists():
        raise FileNotFoundError(
            f"{cfg} not found: place an HCI 4D light field scene folder there "
            "(input_Cam000.png ... input_Cam080.png and parameters.cfg, e.g. from the "
            "benchmark's 'additional' or 'training' archives)")
    p = HCIParameters.read(cfg)
    U, V = p.num_cams_y, p.num_cams_x
    views = []
    for k in range(U * V):
        path = folder / f"input_Cam{k:03d}.png"
        if not path.exists():
            raise FileNotFoundError(f"{path} missing: expected {U * V} views")
        img = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
        if img.shape[:2] != (p.image_resolution_y_px, p.image_resolution_x_px):
            raise ValueError(f"{path}: size {img.shape[1]}x{img.shape[0]} does not match "
                             f"parameters.cfg ({p.image_resolution_x_px}x{p.image_resolution_y_px})")
        views.append(torch.from_numpy(img).permute(2, 0, 1))
    v = torch.stack(views).reshape(U, V, 3, p.image_resolution_y_px, p.image_resolution_x_px)
    gt = load_ground_truth(folder, highres)
    meta = {"scene": p.scene, "parameters": p, "masks": gt["masks"]}
    if "highres" in gt:
        meta["highres"] = gt["highres"]
    return LightField(v, camera_from_parameters(p), p.baseline_m, p.focus_distance_m,
                      disparity=gt["disparity"], depth=gt["depth"], meta=meta)


def load_ground_truth(folder: str | Path, highres: bool = False) -> dict:
    """The ground truth of a scene folder without its views: {"disparity",
    "depth" (None where the file is absent), "masks"} and, with ``highres``
    and the 10x files present, "highres" = {"factor", "disparity", "depth",
    "masks"}."""
    folder = Path(folder)

    def pfm(name: str):
        path = folder / name
        return torch.from_numpy(read_pfm(path)) if path.exists() else None

    gt = {"disparity": pfm("gt_disp_lowres.pfm"), "depth": pfm("gt_depth_lowres.pfm"),
          "masks": _read_masks(folder, "lowres")}
    disp_hr = pfm("gt_disp_highres.pfm") if highres else None
    if disp_hr is not None:
        width = HCIParameters.read(folder / "parameters.cfg").image_resolution_x_px
        gt["highres"] = {"factor": disp_hr.shape[1] // width, "disparity": disp_hr,
                         "depth": pfm("gt_depth_highres.pfm"),
                         "masks": _read_masks(folder, "highres")}
    return gt


def write_submission(folder: str | Path, scene: str, disparity, runtime_s: float) -> None:
    """Add one scene's result in the benchmark's submission layout:
    ``disp_maps/<scene>.pfm`` (float32 disparity) and ``runtimes/<scene>.txt``
    (the runtime in seconds)."""
    d = np.asarray(disparity.detach().cpu() if isinstance(disparity, torch.Tensor) else disparity,
                   dtype=np.float32)
    if d.ndim != 2:
        raise ValueError(f"disparity: expected an (H, W) map, got shape {d.shape}")
    if not (runtime_s >= 0 and math.isfinite(runtime_s)):
        raise ValueError(f"runtime_s: expected a finite non-negative number, got {runtime_s}")
    if not scene or "/" in scene:
        raise ValueError(f"scene: expected a plain scene name, got {scene!r}")
    folder = Path(folder)
    write_pfm(folder / "disp_maps" / f"{scene}.pfm", d)
    (folder / "runtimes").mkdir(parents=True, exist_ok=True)
    (folder / "runtimes" / f"{scene}.txt").write_text(f"{runtime_s:.6f}\n")
