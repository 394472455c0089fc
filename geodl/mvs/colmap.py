"""COLMAP models: read (text or binary, through ``pycolmap``) into
:class:`~geodl.structures.PosedImages`, and write (COLMAP's text format).

A COLMAP model is a folder with ``cameras``, ``images`` and ``points3D``
(``.txt`` or ``.bin``); ``sparse/0`` of a COLMAP project is one. COLMAP's
frame is OpenCV's (x right, y down, z forward), ``cam_from_world`` maps world
to camera coordinates (our ``extrinsic``), and the centre of the upper-left
pixel is (0.5, 0.5) (our convention), so poses and intrinsics go in unchanged.

Cameras with lens distortion, and fisheye cameras (with or without
distortion), are undistorted by ``pycolmap.undistort_image`` (COLMAP's own
undistorter: a pinhole camera that keeps only valid pixels);
``undistort=False`` refuses them instead. Other models whose distortion
parameters are all 0 (``SIMPLE_RADIAL``, ``RADIAL``, ``OPENCV``, ...) are
pinhole cameras and are read as they are.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from geodl.io import read_image
from geodl.io.atomic import staging_folder
from geodl.structures import PinholeCamera, PosedImages

#: the three files of a model, each ``.txt`` or ``.bin``
MODEL_FILES = ("cameras", "images", "points3D")
#: camera models without distortion parameters
PINHOLE_MODELS = ("SIMPLE_PINHOLE", "PINHOLE")


def _pycolmap():
    import pycolmap  # imported where used: it loads COLMAP's shared library

    return pycolmap


def is_colmap_model(folder: str | Path) -> bool:
    """Whether ``folder`` holds a model's three files (all text or all binary)."""
    folder = Path(folder)
    return any(all((folder / f"{name}{ext}").is_file() for name in MODEL_FILES)
               for ext in (".txt", ".bin"))


def find_colmap_model(path: str | Path) -> Path | None:
    """The model folder of ``path``: ``path`` itself, ``path/sparse/0`` or
    ``path/sparse`` (COLMAP's project layouts); None when there is none."""
    path = Path(path)
    for cand in (path, path / "sparse" / "0", path / "sparse"):
        if cand.is_dir() and is_colmap_model(cand):
            return cand
    return None


def _images_folder(root: Path, model: Path, first: str, images_dir: str | Path | None) -> Path:
    if images_dir is not None:
        return Path(images_dir)
    cands = [root / "images", model / "images", model.parent / "images",
             model.parent.parent / "images", root]
    for cand in cands:
        if (cand / first).is_file():
            return cand
    raise ValueError(f"{model}: the model's image {first!r} is in none of "
                     f"{', '.join(str(c) for c in dict.fromkeys(cands))} (give images_dir)")


def _has_distortion(camera) -> bool:
    """Whether ``camera`` needs undistorting: distortion parameters other than
    0, or a fisheye model (not a pinhole even without distortion)."""
    if camera.model.name in PINHOLE_MODELS:
        return False
    if "FISHEYE" in camera.model.name:
        return True
    extra = np.asarray(camera.params)[list(camera.extra_params_idxs())]
    return bool(np.any(extra != 0))


def pinhole_K(camera) -> np.ndarray:
    """(3, 3) float64 K of a ``pycolmap.Camera`` without distortion."""
    return np.asarray(camera.calibration_matrix(), dtype=np.float64)


def _extrinsic(image, model: Path) -> np.ndarray:
    """(4, 4) float64 world-to-camera of a ``pycolmap.Image``, its quaternion
    normalised as COLMAP normalises it (text models carry a few decimals)."""
    cam_from_world = image.cam_from_world()
    q = np.asarray(cam_from_world.rotation.quat, dtype=np.float64)  # (x, y, z, w)
    n = float(np.linalg.norm(q))
    if not np.isfinite(n) or n < 1e-6:
        raise ValueError(f"{model}: image {image.image_id} ({image.name}) has the quaternion "
                         f"{q[[3, 0, 1, 2]].tolist()} (QW QX QY QZ), not a rotation")
    E = np.eye(4)
    E[:3, :3] = _pycolmap().Rotation3d(q / n).matrix()
    E[:3, 3] = np.asarray(cam_from_world.translation, dtype=np.float64)
    return E


def undistort(image: np.ndarray, camera) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (H, W, 3) float in [0, 1] seen by ``camera`` (a distorted
    ``pycolmap.Camera``) -> the undistorted image (H', W', 3) and its pinhole
    K (COLMAP's undistorter, which crops to valid pixels)."""
    pc = _pycolmap()
    bitmap = pc.Bitmap.from_array(np.ascontiguousarray(
        np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)))
    out, cam = pc.undistort_image(pc.UndistortCameraOptions(), bitmap, camera)
    arr = out.to_array().astype(np.float32) / 255.0
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return arr, pinhole_K(cam)


def read_colmap(path: str | Path, images_dir: str | Path | None = None,
                undistort_images: bool = True) -> PosedImages:
    """A COLMAP model and its photos as :class:`PosedImages`.

    Args:
        path: the model folder, or a project folder with ``sparse/0``.
        images_dir: where the photos are (default: ``images/`` of the project
            or beside the model).
        undistort_images: undistort cameras with lens distortion (else refuse).

    Returns:
        frames sorted by image name; ``meta`` holds ``"source"`` (``"colmap"``),
        ``"model"`` (the folder), ``"points3D"`` ((P, 3) float64, world),
        ``"points3D_colors"`` ((P, 3) float32 in [0, 1]) and ``"visible"``
        (per frame a LongTensor of the points it observes).

    Raises:
        ValueError: one line naming the file: no model, a model without
            registered images, missing or unreadable photos, a photo whose size
            is not its camera's, a focal length <= 0, a zero quaternion,
            distortion with ``undistort_images=False``, frames of different
            sizes.
    """
    root = Path(path)
    model = find_colmap_model(root)
    if model is None:
        raise ValueError(f"{root}: no COLMAP model (cameras, images, points3D as .txt or .bin, "
                         "here or in sparse/0)")
    pc = _pycolmap()
    try:
        rec = pc.Reconstruction(str(model))
    except Exception as err:  # pycolmap raises its own kinds on a malformed file
        raise ValueError(f"{model}: not a readable COLMAP model ({' '.join(str(err).split())})") \
            from None
    registered = sorted((im for im in rec.images.values() if im.has_pose), key=lambda im: im.name)
    if not registered:
        raise ValueError(f"{model}: the COLMAP model holds no registered images")
    folder = _images_folder(root, model, registered[0].name, images_dir)
    point_ids = sorted(rec.points3D.keys())
    index = {pid: k for k, pid in enumerate(point_ids)}
    images, cameras, names, visible = [], [], [], []
    size = None
    for im in registered:
        file = folder / im.name
        if not file.is_file():
            raise ValueError(f"{file}: missing (image {im.image_id} of the model {model})")
        cam = rec.cameras[im.camera_id]
        img = read_image(file)
        h, w = img.shape[:2]
        if (w, h) != (cam.width, cam.height):
            raise ValueError(f"{file}: {w}x{h} px, but its camera {im.camera_id} in {model} is "
                             f"{cam.width}x{cam.height}")
        K = pinhole_K(cam)
        if not (K[0, 0] > 0 and K[1, 1] > 0):
            raise ValueError(f"{model}: camera {im.camera_id} ({cam.model.name}) has the focal "
                             f"lengths fx={K[0, 0]:g}, fy={K[1, 1]:g}; expected both > 0")
        if _has_distortion(cam):
            if not undistort_images:
                raise ValueError(f"{model}: camera {im.camera_id} ({cam.model.name}) has lens "
                                 "distortion or a fisheye projection; undistort the images "
                                 "(undistort_images=True) or give a PINHOLE model")
            img, K = undistort(img, cam)
            h, w = img.shape[:2]
        if size is None:
            size = (w, h)
        elif (w, h) != size:
            raise ValueError(f"{file}: {w}x{h} px (undistorted), but the first image is "
                             f"{size[0]}x{size[1]}; geodl takes one image size per model")
        E = _extrinsic(im, model)
        cameras.append(PinholeCamera(torch.from_numpy(K), torch.from_numpy(E), w, h))
        images.append(torch.from_numpy(img).permute(2, 0, 1))
        names.append(Path(im.name).stem)
        seen = [index[p.point3D_id] for p in im.points2D if p.has_point3D()]
        visible.append(torch.tensor(sorted(set(seen)), dtype=torch.long))
    if point_ids:
        xyz = torch.from_numpy(np.stack([rec.points3D[p].xyz for p in point_ids]).astype(np.float64))
        rgb = torch.from_numpy(np.stack([rec.points3D[p].color for p in point_ids])
                               .astype(np.float32) / 255.0)
    else:
        xyz, rgb = torch.zeros(0, 3, dtype=torch.float64), torch.zeros(0, 3)
    meta = {"source": "colmap", "model": str(model), "images_dir": str(folder),
            "points3D": xyz, "points3D_colors": rgb, "visible": visible}
    return PosedImages(torch.stack(images).float(), cameras, names=names, meta=meta)


def _quaternion(R: np.ndarray) -> np.ndarray:
    """(qw, qx, qy, qz) of a rotation matrix, qw >= 0 (COLMAP's convention)."""
    from scipy.spatial.transform import Rotation

    x, y, z, w = Rotation.from_matrix(R).as_quat()
    q = np.array([w, x, y, z])
    return -q if q[0] < 0 else q


def write_colmap_text(folder: str | Path, cameras: Sequence[PinholeCamera], names: Sequence[str],
                      points: Tensor | None = None, colors: Tensor | None = None,
                      observations: Sequence[Sequence[tuple[int, float, float]]] | None = None,
                      overwrite: bool = False) -> Path:
    """Write a COLMAP model in its text format (``cameras.txt``,
    ``images.txt``, ``points3D.txt``): one ``PINHOLE`` camera per image.

    Args:
        folder: the model folder (e.g. ``scene/sparse/0``); a non-empty one is
            refused unless ``overwrite`` (then the three files are replaced).
        cameras: the images' cameras; names: their file names (in ``images/``).
        points: optional (P, 3) world points, colors (P, 3) in [0, 1].
        observations: per point a list of (image index, u, v): the images
            that see it and where (pixel coordinates, centres at +0.5).
            Without points the model holds cameras only.
    """
    folder = Path(folder)
    if len(cameras) != len(names) or not cameras:
        raise ValueError(f"cameras, names: expected equally many (>= 1), got {len(cameras)}, "
                         f"{len(names)}")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder}: not empty (overwrite=True replaces the model files)")
    P = 0 if points is None else int(points.shape[0])
    if observations is not None and len(observations) != P:
        raise ValueError(f"observations: expected one list per point ({P}), got {len(observations)}")
    per_image: list[list[tuple[float, float, int]]] = [[] for _ in cameras]
    tracks: list[list[tuple[int, int]]] = [[] for _ in range(P)]
    for p, obs in enumerate(observations or []):
        for i, u, v in obs:
            tracks[p].append((i + 1, len(per_image[i])))
            per_image[i].append((float(u), float(v), p + 1))
    cam_lines = ["# Camera list with one line of data per camera:",
                 "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]"]
    img_lines = ["# Image list with two lines of data per image:",
                 "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME",
                 "#   POINTS2D[] as (X, Y, POINT3D_ID)"]
    for k, (cam, name) in enumerate(zip(cameras, names)):
        K = cam.K.numpy()
        if abs(K[0, 1]) > 0:
            raise ValueError(f"cameras[{k}]: a skewed K has no COLMAP PINHOLE form")
        cam_lines.append(f"{k + 1} PINHOLE {cam.width} {cam.height} "
                         + " ".join(repr(float(v)) for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2])))
        q = _quaternion(cam.R.numpy())
        t = cam.t.numpy()
        img_lines.append(f"{k + 1} " + " ".join(repr(float(v)) for v in (*q, *t))
                         + f" {k + 1} {name}")
        img_lines.append(" ".join(f"{u!r} {v!r} {pid}" for u, v, pid in per_image[k]))
    pt_lines = ["# 3D point list with one line of data per point:",
                "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)"]
    if P:
        xyz = points.double().numpy()
        rgb = (np.zeros((P, 3)) if colors is None
               else np.clip(np.rint(colors.double().numpy() * 255), 0, 255)).astype(int)
        for p in range(P):
            track = " ".join(f"{i} {j}" for i, j in tracks[p])
            pt_lines.append(f"{p + 1} " + " ".join(repr(float(v)) for v in xyz[p]) + " "
                            f"{rgb[p, 0]} {rgb[p, 1]} {rgb[p, 2]} 0 {track}".rstrip())
    folder.parent.mkdir(parents=True, exist_ok=True)
    with staging_folder(folder) as tmp:
        for name, lines in (("cameras", cam_lines), ("images", img_lines), ("points3D", pt_lines)):
            (tmp / f"{name}.txt").write_text("\n".join(lines) + "\n")
        folder.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, folder / f.name)
    return folder
