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
``FULL_OPENCV`` camera in ``pycolmap``) or refused.
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

#: OpenGL camera axes -> OpenCV camera axes (right-multiplied onto camera-to-world)
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
DISTORTION_KEYS = ("k1", "k2", "p1", "p2", "k3")


def _number(d: dict, key: str, where: str) -> float | None:
    if key not in d:
        return None
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{where}: {key!r} is not a finite number ({v!r})")
    return float(v)


def _image_file(base: Path, file_path: str, where: str) -> Path:
    path = base / file_path
    if path.is_file():
        return path
    for suffix in IMAGE_SUFFIXES:  # the Blender scenes leave out ".png"
        if path.with_name(path.name + suffix).is_file():
            return path.with_name(path.name + suffix)
    raise ValueError(f"{where}: image {file_path!r} missing ({path})")


def _pose(value: Any, where: str) -> np.ndarray:
    try:
        M = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: transform_matrix is not a 4 x 4 matrix of numbers") from None
    if M.shape == (3, 4):
        M = np.vstack([M, [0, 0, 0, 1]])
    if M.shape != (4, 4) or not np.isfinite(M).all():
        raise ValueError(f"{where}: transform_matrix must be 4 x 4 and finite, got shape "
                         f"{M.shape}")
    R = M[:3, :3]
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0 \
            or not np.allclose(M[3], [0, 0, 0, 1]):
        raise ValueError(f"{where}: transform_matrix is not a rigid transform (rotation and "
                         "translation; scaled poses are not supported)")
    return M


def read_transforms(path: str | Path, undistort_images: bool = True) -> PosedImages:
    """The frames of a ``transforms.json`` (or the folder holding one).

    Returns frames in the file's order, ``meta["source"]`` = ``"transforms"``.

    Raises:
        ValueError: one line naming the file: unreadable JSON, no frames, a
            missing image, a pose that is not rigid, no intrinsics, a size
            unlike ``w`` x ``h``, distortion with ``undistort_images=False``.
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
        dist = [_number(intr, key, where) or 0.0 for key in DISTORTION_KEYS]
        if any(dist):
            if not undistort_images:
                raise ValueError(f"{where}: the camera has lens distortion "
                                 f"({', '.join(f'{k}={v}' for k, v in zip(DISTORTION_KEYS, dist))}); "
                                 "undistort the images (undistort_images=True)")
            from geodl.mvs.colmap import _pycolmap, undistort

            pc = _pycolmap()
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
        c2w = _pose(frame["transform_matrix"], where) @ GL_TO_CV
        E = np.linalg.inv(c2w)
        E[3] = (0, 0, 0, 1)
        cameras.append(PinholeCamera(torch.from_numpy(K), torch.from_numpy(E), w, h))
        images.append(torch.from_numpy(img).permute(2, 0, 1))
        names.append(Path(str(frame["file_path"])).stem)
    return PosedImages(torch.stack(images).float(), cameras, names=names,
                       meta={"source": "transforms", "file": str(path)})
