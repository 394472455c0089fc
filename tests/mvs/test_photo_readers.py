"""geodl.mvs's COLMAP and transforms.json readers on hand-made cameras the
happy paths of test_mvs.py leave out: fisheye cameras (undistorted, even
without distortion coefficients, or refused), focal lengths <= 0, poses
written with a few decimals, camera models and distortion keys the readers
cannot honour. Each refusal is one line naming the file."""
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from geodl.mvs import read_colmap, read_transforms

pycolmap = pytest.importorskip("pycolmap")

W, H, F = 200, 150, 60.0
#: a camera-frame point 45 degrees right of the optical axis: a fisheye
#: (r = f theta) and a pinhole (r = f tan theta) image it 13 px apart
POINT = np.array([1.0, 0.0, 1.0])


def _dot_image(u: float, v: float) -> np.ndarray:
    """(H, W, 3) uint8, a Gaussian dot centred at pixel coordinates (u, v)
    (pixel centres at +0.5) on a grey background."""
    x, y = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    dot = np.exp(-((x - u) ** 2 + (y - v) ** 2) / (2 * 2.0 ** 2))
    return np.repeat((40 + 200 * dot)[..., None], 3, axis=2).round().astype(np.uint8)


def _brightest(image: torch.Tensor) -> np.ndarray:
    """(u, v) of the brightest pixel's centre of (3, H, W) ``image``."""
    grey = image.mean(0)
    i, j = np.unravel_index(int(grey.argmax()), tuple(grey.shape))
    return np.array([j + 0.5, i + 0.5])


def _fisheye_dot(model: str, params: list[float]) -> np.ndarray:
    """The image a ``model`` camera (COLMAP's projection) takes of :data:`POINT`."""
    cam = pycolmap.Camera(model=model, width=W, height=H, params=params)
    u, v = np.asarray(cam.img_from_cam(POINT[None]), dtype=np.float64).reshape(-1)[:2]
    return _dot_image(u, v)


def _projected(frames) -> np.ndarray:
    cam = frames.cameras[0]
    uv, _ = cam.project(torch.from_numpy(POINT)[None])
    return uv[0].numpy()


# ------------------------------------------------------------------ COLMAP
def _colmap(root, camera: str, quaternion: str = "1 0 0 0", image: np.ndarray | None = None):
    model = root / "sparse" / "0"
    model.mkdir(parents=True)
    (root / "images").mkdir()
    Image.fromarray(_dot_image(W / 2, H / 2) if image is None else image).save(
        root / "images" / "a.png")
    (model / "cameras.txt").write_text(f"1 {camera}\n")
    (model / "images.txt").write_text(f"1 {quaternion} 0 0 0 1 a.png\n\n")
    (model / "points3D.txt").write_text("")
    return root


@pytest.mark.parametrize("model, params", [
    ("OPENCV_FISHEYE", [F, F, W / 2, H / 2, 0, 0, 0, 0]),
    ("SIMPLE_RADIAL_FISHEYE", [F, W / 2, H / 2, 0]),
    ("FISHEYE", [F, F, W / 2, H / 2]),  # no distortion parameters at all
])
def test_colmap_fisheye_without_distortion_is_undistorted(tmp_path, model, params):
    """A fisheye camera is no pinhole even with its distortion 0: read as one,
    the dot lands 13 px from where the camera projects its point."""
    root = _colmap(tmp_path, f"{model} {W} {H} " + " ".join(map(str, params)),
                   image=_fisheye_dot(model, params))
    with pytest.raises(ValueError, match=rf"sparse/0: camera 1 \({model}\) has lens distortion "
                       "or a fisheye projection") as err:
        read_colmap(root, undistort_images=False)
    assert "\n" not in str(err.value)
    frames = read_colmap(root)
    assert np.abs(_brightest(frames.images[0]) - _projected(frames)).max() <= 1.0
    assert abs(F * math.pi / 4 - F * POINT[0] / POINT[2]) > 10  # r = f theta, not f tan theta


def test_colmap_radial_without_distortion_is_a_pinhole(tmp_path):
    """Perspective models whose distortion is 0 are read as they are: full size."""
    u = W / 2 + F * POINT[0] / POINT[2]
    root = _colmap(tmp_path, f"RADIAL {W} {H} {F} {W / 2} {H / 2} 0 0",
                   image=_dot_image(u, H / 2))
    frames = read_colmap(root, undistort_images=False)
    assert frames.image_size == (H, W)
    assert np.abs(_brightest(frames.images[0]) - _projected(frames)).max() <= 0.5


@pytest.mark.parametrize("focal", ["0", "-60"])
def test_colmap_focal_length_not_positive_is_refused(tmp_path, focal):
    root = _colmap(tmp_path, f"PINHOLE {W} {H} {focal} 60 100 75")
    with pytest.raises(ValueError, match=r"sparse/0: camera 1 \(PINHOLE\) has the focal lengths "
                       rf"fx={focal}, fy=60; expected both > 0"):
        read_colmap(root)


def test_colmap_quaternion_of_few_decimals_is_normalised_and_zero_refused(tmp_path):
    """COLMAP normalises the quaternions it reads; one written with five
    decimals (norm 1 - 1e-5) is the rotation it rounds."""
    root = _colmap(tmp_path / "a", f"PINHOLE {W} {H} 60 60 100 75", "0.70711 0.70711 0 0")
    R = read_colmap(root).cameras[0].R
    c, s = math.cos(math.pi / 2), math.sin(math.pi / 2)
    assert torch.allclose(R, torch.tensor([[1.0, 0, 0], [0, c, -s], [0, s, c]],
                                          dtype=torch.float64), atol=1e-12)
    root = _colmap(tmp_path / "b", f"PINHOLE {W} {H} 60 60 100 75", "0 0 0 0")
    with pytest.raises(ValueError, match=r"sparse/0: image 1 \(a\.png\) has the quaternion "
                       r"\[0\.0, 0\.0, 0\.0, 0\.0\] \(QW QX QY QZ\), not a rotation"):
        read_colmap(root)


# --------------------------------------------------------- transforms.json
def _transforms(folder, image: np.ndarray | None = None, pose=None, **keys):
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_dot_image(W / 2, H / 2) if image is None else image).save(folder / "a.png")
    # the identity in OpenCV axes: OpenGL axes flip y and z
    pose = [[1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]] if pose is None else pose
    data = {"fl_x": F, "cx": W / 2, "cy": H / 2, **keys,
            "frames": [{"file_path": "a.png", "transform_matrix": pose}]}
    (folder / "transforms.json").write_text(json.dumps(data))
    return folder


@pytest.mark.parametrize("keys", [{"camera_model": "OPENCV_FISHEYE"}, {"is_fisheye": True},
                                  {"camera_model": "OPENCV_FISHEYE", "k1": 0.0, "k4": 0.0}])
def test_transforms_fisheye_is_undistorted(tmp_path, keys):
    folder = _transforms(tmp_path, _fisheye_dot("OPENCV_FISHEYE", [F, F, W / 2, H / 2, 0, 0, 0,
                                                                   0]), **keys)
    with pytest.raises(ValueError, match=r"transforms\.json frames\[0\]: the camera has lens "
                       r"distortion \(k1=0\.0, k2=0\.0, k3=0\.0, k4=0\.0, fisheye\)"):
        read_transforms(folder, undistort_images=False)
    frames = read_transforms(folder)
    assert np.abs(_brightest(frames.images[0]) - _projected(frames)).max() <= 1.0


def test_transforms_fisheye_distortion_is_opencvs(tmp_path):
    """k1 .. k4 of a fisheye camera are OpenCV's fisheye coefficients (k3 and
    k4 included), not the perspective model's."""
    params = [F, F, W / 2, H / 2, 0.05, -0.02, 0.01, -0.005]
    folder = _transforms(tmp_path, _fisheye_dot("OPENCV_FISHEYE", params),
                         camera_model="OPENCV_FISHEYE", k1=0.05, k2=-0.02, k3=0.01, k4=-0.005)
    frames = read_transforms(folder)
    assert np.abs(_brightest(frames.images[0]) - _projected(frames)).max() <= 1.0


@pytest.mark.parametrize("keys, match", [
    ({"camera_model": "EQUIRECTANGULAR"}, r"camera_model 'EQUIRECTANGULAR' is not supported"),
    ({"camera_model": "FISHEYE624"}, r"camera_model 'FISHEYE624' is not supported"),
    ({"k4": 0.01}, r"distortion k4 of a perspective camera is not supported \(only k1 k2 p1 "
                   r"p2 k3\)"),
    ({"camera_model": "OPENCV_FISHEYE", "p1": 0.01},
     r"distortion p1 of a fisheye camera is not supported \(only k1 k2 k3 k4\)"),
    ({"fl_x": -60.0}, r"focal lengths fl_x=-60, fl_y=-60; expected both > 0"),
    ({"fl_x": 0}, r"focal lengths fl_x=0, fl_y=0; expected both > 0"),
    ({"fl_y": -60.0}, r"focal lengths fl_x=60, fl_y=-60; expected both > 0"),
])
def test_transforms_cameras_it_cannot_honour_are_refused(tmp_path, keys, match):
    folder = _transforms(tmp_path, **keys)
    with pytest.raises(ValueError, match=r"transforms\.json frames\[0\]: " + match) as err:
        read_transforms(folder)
    assert "\n" not in str(err.value)


def test_transforms_pose_of_few_decimals_is_reorthonormalised(tmp_path):
    """A rotation written with four decimals (off orthonormal by ~5e-5, inside
    the reader's tolerance) becomes the nearest rotation."""
    c, s = math.cos(0.3), math.sin(0.3)
    cv = np.array([[c, -s, 0, 1], [s, c, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]])
    gl = cv @ np.diag([1.0, -1, -1, 1])
    folder = _transforms(tmp_path, pose=np.round(gl, 4).tolist())
    cam = read_transforms(folder).cameras[0]
    assert torch.allclose(cam.R @ cam.R.T, torch.eye(3, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(cam.cam_to_world[:3, :3], torch.from_numpy(cv[:3, :3]), atol=1e-4)
    assert torch.allclose(cam.center, torch.tensor([1.0, 2, 3], dtype=torch.float64), atol=1e-4)
    nan = np.eye(4)
    nan[0, 3] = np.nan
    folder = _transforms(tmp_path / "nan", pose=[[float(v) for v in row] for row in nan])
    with pytest.raises(ValueError, match=r"frames\[0\]: transform_matrix holds NaN"):
        read_transforms(folder)
