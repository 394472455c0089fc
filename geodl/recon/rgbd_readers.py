r"""RGB-D sequences in the layouts data sets publish them, read into
:class:`~geodl.structures.PosedImages`.

**7-Scenes** (Shotton et al. 2013; also what andyzeng/tsdf-fusion and many
RGB-D tools write)::

    SEQUENCE/
        frame-000000.color.png|jpg   colour image
        frame-000000.depth.png       uint16 depth, millimetres; 0 (and 7-Scenes'
                                     65535) = no depth
        frame-000000.pose.txt        4 x 4 camera-to-world, metres (OpenCV axes)
        camera-intrinsics.txt        3 x 3 K of the depth image (optional when
                                     ``intrinsics`` is given)

**TUM RGB-D** (Sturm et al. 2012)::

    SEQUENCE/
        rgb.txt, depth.txt   "timestamp path" per line ("#" comments)
        groundtruth.txt      "timestamp tx ty tz qx qy qz qw": camera-to-world
        rgb/, depth/         the images; depth uint16, 1/5000 m, 0 = no depth

TUM's images carry timestamps rather than frame numbers: each colour image
is paired with a depth image and then with a pose by
:func:`associate_timestamps`, the algorithm of TUM's ``associate.py``
(candidate pairs closer than ``max_difference`` seconds, taken greedily in
order of increasing time difference, each stamp used once). TUM folders
hold no intrinsics: they come from ``intrinsics``, a ``camera-intrinsics.txt``
in the folder, or the folder name (``rgbd_dataset_freiburgN_...``), which
selects TUM's published pinhole calibration of camera N (its lens distortion,
small for freiburg 1 and 2 and none for 3, is not modelled: TUM's own
``generate_pointcloud.py`` also ignores it).

Depth and colour of different sizes: the intrinsics describe the depth
image; the colour camera is the same camera with its image scaled to the
colour image's size (the same field of view, the same pose) unless
``color_intrinsics`` gives its own K. ``PosedImages.depth_cameras`` then
holds the depth cameras.

Every reader checks what it reads and refuses with a one-line
``ValueError`` naming the file: a missing or unreadable frame, a pose that is
not a rigid transform (rotation block off orthonormal by more than
:data:`~geodl.structures.camera.RIGID_TOLERANCE`; within it the rotation is re-orthonormalised, as
tracked poses written in decimal text are off by about 1e-4), missing
intrinsics, images of differing sizes, a preset's intrinsics (they calibrate
:data:`PRESET_IMAGE_SIZE` images) for images of another size.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from geodl.io import read_image, read_raw_image
from geodl.io.atomic import check_output_folder, staging_folder
from geodl.structures import PinholeCamera, PosedImages
from geodl.structures.camera import RIGID_TOLERANCE, rigid_extrinsic

#: threads that decode a sequence's images (decoding releases the GIL)
READ_THREADS = min(4, os.cpu_count() or 1)
#: stored depth units per metre of the two layouts
SEVEN_SCENES_DEPTH_SCALE = 1000.0
TUM_DEPTH_SCALE = 5000.0
#: the stored value 7-Scenes uses for "no depth" besides 0
SEVEN_SCENES_INVALID = 65535
#: TUM's association window (seconds), the default of its ``associate.py``
TUM_MAX_DIFFERENCE = 0.02
#: pinhole intrinsics (fx, fy, cx, cy) by name, from 7-Scenes' Kinect (its web
#: page) and TUM's published colour-camera calibrations
INTRINSICS_PRESETS: dict[str, tuple[float, float, float, float]] = {
    "7scenes": (585.0, 585.0, 320.0, 240.0),
    "freiburg1": (517.3, 516.5, 318.6, 255.3),
    "freiburg2": (520.9, 521.0, 325.1, 249.7),
    "freiburg3": (535.4, 539.2, 320.1, 247.6),
    "tum_default": (525.0, 525.0, 319.5, 239.5),
}
#: (width, height) of the images the presets calibrate; other sizes are refused
PRESET_IMAGE_SIZE = (640, 480)
INTRINSICS_FILE = "camera-intrinsics.txt"
_FRAME = re.compile(r"^(frame-\d+)\.(color\.(?:png|jpg|jpeg)|depth\.png|pose\.txt)$",
                    re.IGNORECASE)


# --------------------------------------------------------------------- shared
def intrinsics_matrix(value: Any, name: str = "intrinsics") -> np.ndarray:
    """A 3 x 3 K from a preset name (:data:`INTRINSICS_PRESETS`), a path to a
    text file of 9 numbers, (fx, fy, cx, cy) or a 3 x 3 array."""
    if isinstance(value, str) and value.lower() in INTRINSICS_PRESETS:
        value = INTRINSICS_PRESETS[value.lower()]
    elif isinstance(value, (str, Path)):
        return _read_intrinsics(Path(value))
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.zeros(0)
    shown = value.tolist() if isinstance(value, np.ndarray) else value  # an array spans lines
    if arr.shape == (4,):
        fx, fy, cx, cy = arr
        arr = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], np.float64)
    if arr.shape != (3, 3) or not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected a preset ({', '.join(INTRINSICS_PRESETS)}), a "
                         f"file, (fx, fy, cx, cy) or a 3 x 3 matrix, got {shown!r}")
    if arr[0, 0] <= 0 or arr[1, 1] <= 0 or not np.allclose(arr[2], [0, 0, 1]) or arr[1, 0]:
        raise ValueError(f"{name}: not a pinhole K (positive focal lengths, last row 0 0 1): "
                         f"{arr.tolist()}")
    return arr


def _preset(value: Any) -> str | None:
    """The :data:`INTRINSICS_PRESETS` name ``value`` gives, else None."""
    return value.lower() if isinstance(value, str) and value.lower() in INTRINSICS_PRESETS \
        else None


def _check_preset_size(preset: str | None, size: tuple[int, int], path: Path, what: str) -> None:
    """Refuse the intrinsics preset ``preset`` for ``path``, an image of
    ``size`` (height, width) other than :data:`PRESET_IMAGE_SIZE`."""
    if preset is not None and size[::-1] != PRESET_IMAGE_SIZE:
        raise ValueError(f"{path}: {size[1]}x{size[0]} px, but the {what} preset {preset!r} "
                         f"calibrates {PRESET_IMAGE_SIZE[0]}x{PRESET_IMAGE_SIZE[1]} images "
                         "(resized or cropped frames?); give their own (fx, fy, cx, cy)")


def _read_intrinsics(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ValueError(f"{path}: no such intrinsics file")
    try:
        arr = np.loadtxt(path, dtype=np.float64).reshape(-1)
    except ValueError as err:
        raise ValueError(f"{path}: not a 3 x 3 intrinsics matrix ({err})") from None
    if arr.size == 4:
        return intrinsics_matrix(arr, str(path))
    if arr.size != 9:
        raise ValueError(f"{path}: expected the 9 numbers of a 3 x 3 intrinsics matrix, "
                         f"got {arr.size}")
    return intrinsics_matrix(arr.reshape(3, 3), str(path))


def quaternion_to_matrix(q: Sequence[float], source: str) -> np.ndarray:
    """The rotation of the quaternion ``(qx, qy, qz, qw)`` (Hamilton, as TUM
    writes it); refused unless its norm is within :data:`~geodl.structures.camera.RIGID_TOLERANCE` of 1."""
    x, y, z, w = (float(v) for v in q)
    n = (x * x + y * y + z * z + w * w) ** 0.5
    if not np.isfinite(n) or abs(n - 1) > RIGID_TOLERANCE:
        raise ValueError(f"{source}: not a rigid transform (quaternion norm {n:.4g}, "
                         "expected 1)")
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _read_depth(path: Path, scale: float, depth_max: float | None, invalid: Sequence[int],
                out: np.ndarray | None = None) -> np.ndarray:
    """A depth PNG in metres (``stored / scale``; ``invalid`` values and
    depths beyond ``depth_max`` become 0), written into ``out`` when given."""
    raw = read_raw_image(path)
    if raw.ndim != 2 or raw.dtype not in (np.uint16, np.int32):
        raise ValueError(f"{path}: expected a single-channel 16-bit depth image, got "
                         f"{raw.dtype} of shape {raw.shape}")
    if out is None or out.shape != raw.shape:
        out = np.empty(raw.shape, np.float32)
    np.multiply(raw, np.float32(1.0 / scale), out=out, casting="unsafe")
    for value in invalid:
        out[raw == value] = 0
    if depth_max is not None:
        out[out > depth_max] = 0
    return out


def _read_color(path: Path, out: np.ndarray | None = None) -> np.ndarray:
    """(3, H, W) float32 colour in [0, 1], written into ``out`` when given.
    8-bit RGB (every JPEG, most PNGs) is converted in one pass from the
    stored bytes (the value / 255 that :func:`geodl.io.read_image` gives);
    anything else goes through ``read_image``."""
    raw = read_raw_image(path)
    if raw.dtype == np.uint8 and raw.ndim == 3 and raw.shape[2] == 3:
        chw = raw.transpose(2, 0, 1)
        if out is None or out.shape != chw.shape:
            out = np.empty(chw.shape, np.float32)
        np.multiply(chw, np.float32(1.0 / 255.0), out=out, casting="unsafe")
        return out
    img = read_image(path).transpose(2, 0, 1)
    if out is None or out.shape != img.shape:
        return np.ascontiguousarray(img)
    out[...] = img
    return out


def _check_options(depth_scale: float, depth_max: float | None, stride: int) -> None:
    if not (isinstance(depth_scale, (int, float)) and np.isfinite(depth_scale)
            and depth_scale > 0):
        raise ValueError(f"depth_scale: expected stored units per metre > 0, got {depth_scale!r}")
    if depth_max is not None and not (isinstance(depth_max, (int, float)) and depth_max > 0):
        raise ValueError(f"depth_max: expected a positive depth in metres, got {depth_max!r}")
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride: expected an integer >= 1, got {stride!r}")


def _assemble(folder: Path, names: list[str], color_paths: list[Path], depth_paths: list[Path],
              poses: list[np.ndarray], K_depth: np.ndarray, color_K: Any, depth_scale: float,
              depth_max: float | None, invalid: Sequence[int], layout: str,
              progress: bool | None, meta: dict, preset: str | None = None) -> PosedImages:
    """Read the frames' images and build their cameras (sizes checked;
    ``preset`` names the preset ``K_depth`` came from, if any)."""
    n = len(names)
    pairs = list(zip(color_paths, depth_paths))
    # the first frame sets the sizes; the others are read in place
    img = _read_color(pairs[0][0])
    dep = _read_depth(pairs[0][1], depth_scale, depth_max, invalid)
    size_c, size_d = img.shape[1:], dep.shape
    _check_preset_size(preset, size_d, pairs[0][1], "intrinsics")
    _check_preset_size(_preset(color_K), size_c, pairs[0][0], "color_intrinsics")
    # NumPy: one pass per image (torch's thread pool is slower for frame-sized work)
    images = np.empty((n, 3, *size_c), dtype=np.float32)
    depths = np.empty((n, *size_d), dtype=np.float32)
    images[0], depths[0] = img, dep

    def read(k: int) -> None:
        c_path, d_path = pairs[k]
        img = _read_color(c_path, images[k])
        dep = _read_depth(d_path, depth_scale, depth_max, invalid, depths[k])
        if img.shape[1:] != size_c:
            raise ValueError(f"{c_path}: size {img.shape[2]}x{img.shape[1]} differs from "
                             f"{pairs[0][0].name}'s {size_c[1]}x{size_c[0]}")
        if dep.shape != size_d:
            raise ValueError(f"{d_path}: size {dep.shape[1]}x{dep.shape[0]} differs from "
                             f"{pairs[0][1].name}'s {size_d[1]}x{size_d[0]}")

    # Threads, because PNG and JPEG decoding releases the GIL (the 7-Scenes
    # fusion beside Open3D: experiments/README.md, "Real Kinect frames").
    # Results are taken in frame order, so the first bad frame in order is the
    # one reported; the reads still queued are cancelled then.
    pool = ThreadPoolExecutor(max_workers=READ_THREADS)
    try:
        jobs = [pool.submit(read, k) for k in range(1, n)]
        for job in tqdm(jobs, desc=f"reading {layout}", initial=1, total=n, leave=False,
                        disable=None if progress is None else not progress):
            job.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    (hc, wc), (hd, wd) = size_c, size_d
    if color_K is None:
        K_color = K_depth.copy()
        K_color[0] *= wc / wd  # the same field of view at the colour image's size
        K_color[1] *= hc / hd
    else:
        K_color = intrinsics_matrix(color_K, "color_intrinsics")
    extrinsics = [torch.from_numpy(E) for E in poses]
    cameras = [PinholeCamera(K_color, E, wc, hc) for E in extrinsics]
    registered = (hc, wc) == (hd, wd) and np.allclose(K_color, K_depth)
    depth_cameras = None if registered else [PinholeCamera(K_depth, E, wd, hd)
                                             for E in extrinsics]
    meta = {"layout": layout, "source": str(folder), "depth_scale": float(depth_scale),
            "depth_max": depth_max, "units": "m", **meta}
    return PosedImages(torch.from_numpy(images), cameras, torch.from_numpy(depths),
                       depth_cameras, names, meta)


def _folder(path: str | Path, what: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"{what} folder: {folder} is not a folder")
    return folder


# ------------------------------------------------------------------- 7-Scenes
def is_7scenes(folder: Path) -> bool:
    """Whether ``folder`` holds 7-Scenes frames (``frame-*.pose.txt``)."""
    return folder.is_dir() and next(folder.glob("frame-*.pose.txt"), None) is not None


def read_7scenes(path: str | Path, intrinsics: Any = None, color_intrinsics: Any = None,
                 depth_scale: float = SEVEN_SCENES_DEPTH_SCALE, depth_max: float | None = None,
                 stride: int = 1, progress: bool | None = None) -> PosedImages:
    """A 7-Scenes-layout sequence folder (module docstring) as ``PosedImages``.

    Args:
        path: the folder of ``frame-XXXXXX.*`` files (one 7-Scenes sequence,
            e.g. ``chess/seq-01``).
        intrinsics: K of the depth images (preset name, file, (fx, fy, cx,
            cy) or 3 x 3); default the folder's ``camera-intrinsics.txt``.
        color_intrinsics: K of the colour images when they are not the depth
            camera scaled to their size.
        depth_scale: stored depth units per metre (1000: millimetres).
        depth_max: depths beyond this many metres become "no depth".
        stride: read every ``stride``-th frame (in frame-number order).
        progress: a tqdm bar (None: only on a terminal).

    Returns:
        frames named ``frame-XXXXXX``, colour (N, 3, H, W), depth (N, Hd, Wd)
        metres (0 = none), the cameras from the poses; ``meta["layout"]`` is
        ``"7scenes"``.
    """
    folder = _folder(path, "7-Scenes")
    _check_options(depth_scale, depth_max, stride)
    files: dict[str, dict[str, Path]] = {}
    for p in folder.iterdir():
        m = _FRAME.match(p.name)
        if m:
            kind = m.group(2).split(".")[0].lower()
            files.setdefault(m.group(1), {})[kind] = p
    if not files:
        seqs = sorted(p.name for p in folder.iterdir() if p.is_dir() and is_7scenes(p))
        hint = f" (it holds sequences {', '.join(seqs)}: pass one of them)" if seqs else ""
        raise ValueError(f"7-Scenes folder: no frame-XXXXXX.pose.txt / .depth.png / "
                         f".color.png|jpg files in {folder}{hint}")
    names = sorted(files)[::stride]
    for name in names:
        for kind, suffix in (("pose", "pose.txt"), ("depth", "depth.png"),
                             ("color", "color.png")):
            if kind not in files[name]:
                other = " (or .color.jpg)" if kind == "color" else ""
                raise ValueError(f"{folder / name}.{suffix}{other}: missing (frame {name} "
                                 f"has no {kind})")
    if intrinsics is None:
        if not (folder / INTRINSICS_FILE).is_file():
            raise ValueError(f"{folder / INTRINSICS_FILE}: missing (intrinsics of the depth "
                             "camera; or pass intrinsics=, e.g. '7scenes' for the data set's "
                             "Kinect: fx = fy = 585, cx = 320, cy = 240)")
        K = _read_intrinsics(folder / INTRINSICS_FILE)
    else:
        K = intrinsics_matrix(intrinsics)
    poses = []
    for name in names:
        p = files[name]["pose"]
        try:
            T = np.loadtxt(p, dtype=np.float64)
        except ValueError as err:
            raise ValueError(f"{p}: not a 4 x 4 pose ({err})") from None
        poses.append(rigid_extrinsic(T.reshape(4, 4) if T.size == 16 else T, str(p)))
    return _assemble(folder, names, [files[n]["color"] for n in names],
                     [files[n]["depth"] for n in names], poses, K, color_intrinsics,
                     depth_scale, depth_max, (SEVEN_SCENES_INVALID,), "7scenes", progress, {},
                     _preset(intrinsics))


def write_7scenes(folder: str | Path, frames: PosedImages, depth_scale: float =
                  SEVEN_SCENES_DEPTH_SCALE, overwrite: bool = False) -> Path:
    """Write ``frames`` (with depth, one depth intrinsics for all) in the
    7-Scenes layout: 8-bit PNG colour, uint16 depth (``round(z *
    depth_scale)``, 0 = none; depths beyond 65534 units are dropped), the
    camera-to-world poses and ``camera-intrinsics.txt``. Refuses a non-empty
    ``folder`` unless ``overwrite`` (which replaces only ``frame-*`` files and
    the intrinsics); writes into a temporary sibling first."""
    if frames.depth is None:
        raise ValueError("frames: the 7-Scenes layout needs depth, these frames have none")
    folder = check_output_folder(folder, overwrite, "its frames")
    K = frames.depth_camera(0).K
    if any(not torch.equal(frames.depth_camera(k).K, K) for k in range(len(frames))):
        raise ValueError("frames: the 7-Scenes layout has one intrinsics file, but the depth "
                         "cameras differ in K")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with staging_folder(folder) as tmp:
        np.savetxt(tmp / INTRINSICS_FILE, K.numpy(), fmt="%.9g")
        for k in range(len(frames)):
            stem = tmp / f"frame-{k:06d}"
            rgb = (frames.images[k].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5)
            Image.fromarray(rgb.astype(np.uint8)).save(f"{stem}.color.png")
            units = np.round(frames.depth[k].double().numpy() * depth_scale)
            units[(units < 0) | (units > 65534)] = 0
            Image.fromarray(units.astype(np.uint16)).save(f"{stem}.depth.png")
            np.savetxt(f"{stem}.pose.txt", frames.depth_camera(k).cam_to_world.numpy(),
                       fmt="%.9g")
        if folder.is_dir():
            for p in folder.iterdir():
                if _FRAME.match(p.name) or p.name == INTRINSICS_FILE:
                    p.unlink()
            for p in tmp.iterdir():
                p.replace(folder / p.name)
        else:
            tmp.rename(folder)
    return folder


# ------------------------------------------------------------------------ TUM
def is_tum(folder: Path) -> bool:
    """Whether ``folder`` is a TUM RGB-D sequence (``rgb.txt`` and ``depth.txt``)."""
    return (folder / "rgb.txt").is_file() and (folder / "depth.txt").is_file()


def read_timestamped_list(path: Path, columns: int) -> tuple[np.ndarray, list[list[str]]]:
    """(stamps (N,) float64, the other columns per line) of a TUM list file
    (``associate.py``'s ``read_file_list``: "," and tabs count as spaces,
    "#" lines are comments); each line must hold ``columns`` values after
    its stamp."""
    if not path.is_file():
        raise ValueError(f"{path}: missing")
    stamps, rows = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.replace(",", " ").replace("\t", " ").strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != columns + 1:
            raise ValueError(f"{path}:{number}: expected a timestamp and {columns} values, "
                             f"got {line!r}")
        try:
            stamp = float(parts[0])
        except ValueError:
            stamp = float("nan")
        if not np.isfinite(stamp):  # a NaN stamp would silently match nothing
            raise ValueError(f"{path}:{number}: bad timestamp {parts[0]!r}")
        stamps.append(stamp)
        rows.append(parts[1:])
    if not stamps:
        raise ValueError(f"{path}: no entries")
    return np.asarray(stamps, np.float64), rows


def associate_timestamps(first: Any, second: Any, max_difference: float = TUM_MAX_DIFFERENCE,
                         offset: float = 0.0) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` of ``first[i]`` and ``second[j]`` as TUM's
    ``associate.py`` makes them: every pair with ``|a - (b + offset)| <
    max_difference`` is a candidate; candidates are taken in increasing order
    of (difference, a, b), skipping those whose stamps are already used;
    the pairs come sorted by ``first``'s stamp.

    ``associate.py`` compares every pair (N M operations); here sorted
    stamps and a window search give the same pairs in O((N + M) log M +
    candidates), which matters for ground truth at 100 Hz.
    """
    a = np.asarray(first, np.float64).reshape(-1)
    b = np.asarray(second, np.float64).reshape(-1)
    order = np.argsort(b, kind="stable")
    shifted = b[order] + offset
    lo = np.searchsorted(shifted, a - max_difference, side="left")
    hi = np.searchsorted(shifted, a + max_difference, side="right")
    counts = hi - lo
    ii = np.repeat(np.arange(a.size), counts)
    jj = order[np.concatenate([np.arange(s, e) for s, e in zip(lo, hi)]).astype(np.int64)] \
        if ii.size else np.zeros(0, np.int64)
    diff = np.abs(a[ii] - (b[jj] + offset))
    keep = diff < max_difference
    ii, jj, diff = ii[keep], jj[keep], diff[keep]
    pairs = []
    used_a, used_b = np.zeros(a.size, bool), np.zeros(b.size, bool)
    for k in np.lexsort((b[jj], a[ii], diff)):
        i, j = int(ii[k]), int(jj[k])
        if not used_a[i] and not used_b[j]:
            used_a[i] = used_b[j] = True
            pairs.append((i, j))
    pairs.sort(key=lambda p: (a[p[0]], b[p[1]]))
    return pairs


def _tum_intrinsics(folder: Path, intrinsics: Any) -> tuple[np.ndarray, str, str | None]:
    """K, where it came from, and the preset's name when it is one."""
    if intrinsics is not None:
        return intrinsics_matrix(intrinsics), "given", _preset(intrinsics)
    if (folder / INTRINSICS_FILE).is_file():
        return _read_intrinsics(folder / INTRINSICS_FILE), INTRINSICS_FILE, None
    m = re.search(r"freiburg([123])", folder.resolve().name, re.IGNORECASE)
    if m:
        name = f"freiburg{m.group(1)}"
        return (intrinsics_matrix(name), f"TUM's published {name} calibration (folder name)",
                name)
    raise ValueError(f"{folder}: TUM sequence without intrinsics (none given, no "
                     f"{INTRINSICS_FILE}, and the folder name names no freiburg1/2/3 camera): "
                     f"pass intrinsics=, e.g. 'freiburg1' or (fx, fy, cx, cy)")


def read_tum(path: str | Path, intrinsics: Any = None, color_intrinsics: Any = None,
             depth_scale: float = TUM_DEPTH_SCALE, depth_max: float | None = None,
             max_difference: float = TUM_MAX_DIFFERENCE, stride: int = 1,
             progress: bool | None = None) -> PosedImages:
    """A TUM RGB-D sequence folder (module docstring) as ``PosedImages``.

    Colour images are associated with depth images, then the pairs (by the
    colour stamp) with ``groundtruth.txt``'s poses (:func:`associate_timestamps`,
    ``max_difference`` seconds); frames without both are left out
    (``meta["unmatched"]`` counts them). The other arguments are
    :func:`read_7scenes`'s; ``depth_scale`` defaults to TUM's 5000 per metre.
    Frames are named by their colour image's file stem (its timestamp).
    """
    folder = _folder(path, "TUM")
    _check_options(depth_scale, depth_max, stride)
    if not (isinstance(max_difference, (int, float)) and max_difference > 0):
        raise ValueError(f"max_difference: expected seconds > 0, got {max_difference!r}")
    rgb_t, rgb = read_timestamped_list(folder / "rgb.txt", 1)
    dep_t, dep = read_timestamped_list(folder / "depth.txt", 1)
    gt_t, gt = read_timestamped_list(folder / "groundtruth.txt", 7)
    K = _tum_intrinsics(folder, intrinsics)
    pairs = associate_timestamps(rgb_t, dep_t, max_difference)
    if not pairs:
        raise ValueError(f"{folder}: no colour image of rgb.txt has a depth image of depth.txt "
                         f"within {max_difference} s")
    poses_of = dict(associate_timestamps(rgb_t[[i for i, _ in pairs]], gt_t, max_difference))
    matched = [(pairs[k][0], pairs[k][1], poses_of[k]) for k in range(len(pairs))
               if k in poses_of]
    frames = matched[::stride]
    if not frames:
        raise ValueError(f"{folder / 'groundtruth.txt'}: no pose within {max_difference} s of "
                         "any colour-depth pair")
    poses, names = [], []
    for i, _, g in frames:
        T = np.eye(4)
        source = f"{folder / 'groundtruth.txt'} (stamp {gt_t[g]:.6f})"
        try:
            values = np.asarray(gt[g], np.float64)
        except ValueError:
            raise ValueError(f"{source}: expected 7 numbers tx ty tz qx qy qz qw, got "
                             f"{' '.join(gt[g])!r}") from None
        T[:3, :3] = quaternion_to_matrix(values[3:], source)
        T[:3, 3] = values[:3]
        poses.append(rigid_extrinsic(T, source))
        names.append(Path(rgb[i][0]).stem)
    for i, j, _ in frames:
        for listed, name in ((rgb[i][0], "rgb.txt"), (dep[j][0], "depth.txt")):
            if not (folder / listed).is_file():
                raise ValueError(f"{folder / listed}: missing (listed in {folder / name})")
    meta = {"intrinsics_source": K[1], "timestamps": [float(rgb_t[i]) for i, _, _ in frames],
            "unmatched": len(rgb_t) - len(matched)}
    return _assemble(folder, names, [folder / rgb[i][0] for i, _, _ in frames],
                     [folder / dep[j][0] for _, j, _ in frames], poses, K[0], color_intrinsics,
                     depth_scale, depth_max, (), "tum", progress, meta, K[2])
