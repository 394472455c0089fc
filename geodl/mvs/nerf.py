"""NeRF-style ``transforms.json`` (instant-ngp, nerfstudio, the Blender
synthetic scenes) into :class:`~geodl.structures.PosedImages`.

Each frame gives ``file_path`` and ``transform_matrix``, a 4 x 4
camera-to-world transform in OpenGL camera axes (x right, y up, z backwards,
the camera looks along -z). OpenCV's axes (ours) flip y and z:
``cam_to_world_cv = cam_to_world_gl @ diag(1, -1, -1, 1)``.

Intrinsics, at the top level or per frame (a frame's own win): ``fl_x``,
``fl_y`` (``fl_y`` = ``fl_x`` when absent), ``cx``, ``cy`` (default the image
centre), ``w``, ``h`` (default the image's size), or ``camera_angle_x`` (the
horizontal field of view in radians, square pixels); distortion ``k1 k2 p1
p2`` (and ``k3``), undistorted by COLMAP's undistorter (an ``OPENCV`` /
``FULL_OPENCV`` camera in ``pycolmap``) or refused. A fisheye camera
(``camera_model`` ``OPENCV_FISHEYE``, nerfstudio's, or instant-ngp's
``is_fisheye``) has the distortion ``k1 k2 k3 k4`` and is always undistorted
(an ``OPENCV_FISHEYE`` camera); other ``camera_model`` values (equirectangular,
nerfstudio's ``FISHEYE624`` ...) and distortion keys the camera model does
not use (``k4`` of a perspective camera, ``p1`` of a fisheye one) are refused.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from geodl.io import IMAGE_SUFFIXES, read_image
from geodl.structures import PinholeCamera, PosedImages
from geodl.structures.camera import rigid_extrinsic

#: OpenGL camera axes -> OpenCV camera axes (right-multiplied onto camera-to-world)
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
DISTORTION_KEYS = ("k1", "k2", "p1", "p2", "k3")
#: distortion of a fisheye camera (OpenCV's fisheye model, COLMAP's ``OPENCV_FISHEYE``)
FISHEYE_KEYS = ("k1", "k2", "k3", "k4")
#: ``camera_model`` values of perspective cameras (distortion ``DISTORTION_KEYS``)
PERSPECTIVE_MODELS = ("SIMPLE_PINHOLE", "PINHOLE", "SIMPLE_RADIAL", "RADIAL", "OPENCV")


def _number(d: dict, key: str, where: str) -> float | None:
    if key not in d:
        return None
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{where}: {key!r} is not a finite number ({v!r})")
    return float(v)


def _fisheye(intr: dict, where: str) -> bool:
    """Whether the camera of ``intr`` (a frame's keys over the file's) is a
    fisheye one; ValueError for a ``camera_model`` that is neither."""
    model = intr.get("camera_model", "OPENCV")
    if intr.get("is_fisheye") is True or model == "OPENCV_FISHEYE":
        return True
    if model not in PERSPECTIVE_MODELS:
        raise ValueError(f"{where}: camera_model {model!r} is not supported (expected one of "
                         f"{', '.join(PERSPECTIVE_MODELS)} or OPENCV_FISHEYE)")
    return False


def _image_file(base: Path, file_path: str, where: str) -> Path:
    path = base / file_path
    if path.is_file():
        return path
    for suffix in IMAGE_SUFFIXES:  # the Blender scenes leave out ".png"
        if path.with_name(path.name + suffix).is_file():
            return path.with_name(path.name + suffix)
    raise ValueError(f"{where}: image {file_path!r} missing ({path})")


def _extrinsic(value: Any, where: str) -> np.ndarray:
    """(4, 4) world-to-camera (OpenCV axes) of a frame's ``transform_matrix``
    (camera-to-world, OpenGL axes; 3 x 4 or 4 x 4)."""
    try:
        M = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: transform_matrix is not a 4 x 4 matrix of numbers") from None
    if M.shape == (3, 4):
        M = np.vstack([M, [0, 0, 0, 1]])
    if M.shape != (4, 4):
        raise ValueError(f"{where}: transform_matrix must be 4 x 4, got shape {M.shape}")
    if not np.isfinite(M).all():
        raise ValueError(f"{where}: transform_matrix holds NaN or infinite values")
    # OpenGL camera axes -> OpenCV's; the rotation checked and re-orthonormalised
    return rigid_extrinsic(M @ GL_TO_CV, f"{where}: transform_matrix")


def read_transforms(path: str | Path, undistort_images: bool = True) -> PosedImages:
    """The frames of a ``transforms.json`` (or the folder holding one).

    Returns frames in the file's order, ``meta["source"]`` = ``"transforms"``.

    Raises:
        ValueError: one line naming the file: unreadable JSON, no frames, a
            missing image, a pose that is not rigid, no intrinsics, a focal
            length <= 0, a size unlike ``w`` x ``h``, an unsupported
            ``camera_model`` or distortion key, distortion (or a fisheye
            camera) with ``undistort_images=False``.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "transforms.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("frames"), list) or not data["frames"]:
        raise ValueError(f"{path}: expected an object with a non-empty 'frames' list")
    images, cameras, names = [], [], []
    size = None
    for k, frame in enumerate(data["frames"]):
        where = f"{path} frames[{k}]"
        if not isinstance(frame, dict) or "file_path" not in frame or "transform_matrix" not in frame:
            raise ValueError(f"{where}: expected 'file_path' and 'transform_matrix'")
        intr = {**data, **frame}
        file = _image_file(path.parent, str(frame["file_path"]), where)
        img = read_image(file)
        h, w = img.shape[:2]
        fw, fh = _number(intr, "w", where), _number(intr, "h", where)
        if (fw is not None and int(fw) != w) or (fh is not None and int(fh) != h):
            raise ValueError(f"{file}: {w}x{h} px, but {path} says w x h = "
                             f"{int(fw or w)}x{int(fh or h)}")
        fx = _number(intr, "fl_x", where)
        if fx is None:
            angle = _number(intr, "camera_angle_x", where)
            if angle is None:
                raise ValueError(f"{where}: no intrinsics (fl_x or camera_angle_x)")
            if not 0 < angle < math.pi:
                raise ValueError(f"{where}: camera_angle_x must be in (0, pi) radians, got {angle}")
            fx = 0.5 * w / math.tan(0.5 * angle)
        fy = _number(intr, "fl_y", where)
        fy = fx if fy is None else fy
        cx = _number(intr, "cx", where)
        cy = _number(intr, "cy", where)
        cx = w / 2 if cx is None else cx
        cy = h / 2 if cy is None else cy
        if not (fx > 0 and fy > 0):
            raise ValueError(f"{where}: focal lengths fl_x={fx:g}, fl_y={fy:g}; expected both > 0")
        fisheye = _fisheye(intr, where)
        keys = FISHEYE_KEYS if fisheye else DISTORTION_KEYS
        unused = [key for key in ("k1", "k2", "k3", "k4", "k5", "k6", "p1", "p2")
                  if key not in keys and _number(intr, key, where)]
        if unused:
            raise ValueError(f"{where}: distortion {', '.join(unused)} of a "
                             f"{'fisheye' if fisheye else 'perspective'} camera is not supported "
                             f"(only {' '.join(keys)})")
        dist = [_number(intr, key, where) or 0.0 for key in keys]
        if fisheye or any(dist):
            if not undistort_images:
                raise ValueError(f"{where}: the camera has lens distortion "
                                 f"({', '.join(f'{k}={v}' for k, v in zip(keys, dist))}"
                                 f"{', fisheye' if fisheye else ''}); "
                                 "undistort the images (undistort_images=True)")
            from geodl.mvs.colmap import _pycolmap, undistort

            pc = _pycolmap()
            if fisheye:
                model, params = "OPENCV_FISHEYE", [fx, fy, cx, cy, *dist]
            else:
                model, params = ("FULL_OPENCV", [fx, fy, cx, cy, *dist, 0, 0, 0]) if dist[4] \
                    else ("OPENCV", [fx, fy, cx, cy, *dist[:4]])
            cam = pc.Camera(model=model, width=w, height=h, params=params)
            img, K = undistort(img, cam)
            h, w = img.shape[:2]
        else:
            K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
        if size is None:
            size = (w, h)
        elif (w, h) != size:
            raise ValueError(f"{file}: {w}x{h} px, but the first frame is {size[0]}x{size[1]}; "
                             "geodl takes one image size per scene")
        E = _extrinsic(frame["transform_matrix"], where)
        cameras.append(PinholeCamera(torch.from_numpy(K), torch.from_numpy(E), w, h))
        images.append(torch.from_numpy(img).permute(2, 0, 1))
        names.append(Path(str(frame["file_path"])).stem)
    return PosedImages(torch.stack(images).float(), cameras, names=names,
                       meta={"source": "transforms", "file": str(path)})
