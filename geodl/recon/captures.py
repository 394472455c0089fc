"""What room reconstruction reads, whoever made it: one entry point,
:func:`load_captures`, detects the layout of a path (or takes ``kind``):

- ``lightfield``: a captures folder (below), HCI scene folders with poses
  (:func:`load_lightfield_captures`);
- ``7scenes``: ``frame-XXXXXX.color/depth/pose`` files and ``tum``:
  ``rgb.txt``, ``depth.txt``, ``groundtruth.txt``
  (:mod:`geodl.recon.rgbd_readers`);
- ``colmap``: a COLMAP model (``sparse/0``, ``cameras.bin|txt``) and
  ``transforms``: a NeRF-style ``transforms.json``
  (``geodl.mvs.load_posed_photos``).

Light fields come back as a list of ``LightField``, the others as one
:class:`~geodl.structures.PosedImages`; both go to
:func:`~geodl.recon.reconstruct.reconstruct_room`.

A captures folder: light-field captures of one room. Layout::

    CAPTURES_DIR/
        <any name>/parameters.cfg, input_Cam000.png ...   one HCI-format scene
        <another name>/...                                 folder per capture
        captures.json   (optional) index: seed, room size, object names, cameras
        room_gt.ply     (optional) the room's ground-truth mesh, a vertex
                        property ``object_id`` (int) naming each vertex's object

Every sub-folder holding a ``parameters.cfg`` is a capture (sorted by name);
other files and folders are ignored. Each capture's centre-camera pose, lens
(focal length and sensor in mm, any focal length) and rig (grid, baseline,
focus distance) come from its ``parameters.cfg`` the benchmark's way
(:func:`geodl.lightfield.load_hci`), so captures rendered elsewhere load too.

The two room files are the same beside every layout that ``geodl.datasets``
writes (light-field captures, a 7-Scenes scan, a COLMAP project), and this
module defines them for all: :data:`INDEX_FILE` (``captures.json``, written
by :func:`write_room_index`, read by :func:`read_room_index`) holds a JSON
object whose first keys are :data:`INDEX_KEYS`::

    "format"        INDEX_FORMATS[layout], e.g. "geodl room captures"
    "version"       INDEX_VERSION
    "seed"          the room's seed
    "room_size"     [x, y, z] of the room's inner box, metres
    "ground_truth"  GROUND_TRUTH_FILE
    "objects"       {"<object id>": name}

followed by the layout's own keys: ``"captures"`` (per capture its
``"folder"``, camera and rig) for light-field captures, ``"photos"`` and
``"model"`` for photos, ``"frames"``, ``"sensor"`` and ``"depth_scale"`` for
an RGB-D scan. :data:`GROUND_TRUTH_FILE` (``room_gt.ply``) is written by
:func:`write_room_ground_truth` and read by :func:`load_room_ground_truth`.
"""
from __future__ import annotations

import configparser
import json
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from geodl._optional import trimesh
from geodl.lightfield import load_hci
from geodl.structures import LightField, Mesh, PosedImages

#: the optional index of a captures folder (or of any written room)
INDEX_FILE = "captures.json"
#: the optional ground-truth mesh of a captures folder (or of any written room)
GROUND_TRUTH_FILE = "room_gt.ply"
#: the value of ``captures.json``'s "format", by the layout beside it
INDEX_FORMATS = {"lightfield": "geodl room captures", "colmap": "geodl room photos",
                 "7scenes": "geodl rgbd scan"}
#: the version of ``captures.json`` that :func:`write_room_index` writes
INDEX_VERSION = 1
#: the keys every ``captures.json`` begins with (the module docstring)
INDEX_KEYS = ("format", "version", "seed", "room_size", "ground_truth", "objects")
#: the keys of ``parameters.cfg`` that hold the centre camera's pose
POSE_KEYS = ("center_cam_x_m", "center_cam_y_m", "center_cam_z_m", "center_cam_rx_rad",
             "center_cam_ry_rad", "center_cam_rz_rad")


def capture_folders(folder: str | Path) -> list[Path]:
    """The capture folders of ``folder`` (sub-folders with a ``parameters.cfg``,
    sorted by name); ValueError when ``folder`` is missing or holds none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"captures folder: {folder} is not a folder")
    found = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "parameters.cfg").is_file())
    if not found:
        raise ValueError(f"captures folder: no captures in {folder} (expected one HCI-format "
                         "sub-folder per capture, each with parameters.cfg and "
                         "input_Cam000.png ...)")
    return found


def _check_pose(folder: Path) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(folder / "parameters.cfg", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as err:
        raise ValueError(f"capture {folder}: parameters.cfg is unreadable: {err}") from None
    missing = [k for k in POSE_KEYS if not parser.has_option("extrinsics", k)]
    if missing:
        raise ValueError(f"capture {folder}: parameters.cfg has no camera pose (lacks "
                         f"[extrinsics] {', '.join(missing)}); a capture needs its centre "
                         "camera's position and rotation")


#: the layouts :func:`load_captures` reads
CAPTURE_KINDS = ("lightfield", "7scenes", "tum", "colmap", "transforms")
#: the kinds of posed photos, read by ``geodl.mvs.load_posed_photos``
PHOTO_KINDS = ("colmap", "transforms")
#: the file of a NeRF-style capture
TRANSFORMS_FILE = "transforms.json"


def _is_colmap(path: Path) -> bool:
    """A COLMAP project (``sparse/0`` or ``sparse`` model) or a model folder."""
    for model in (path / "sparse" / "0", path / "sparse", path):
        if any((model / f"cameras.{ext}").is_file() and (model / f"images.{ext}").is_file()
               for ext in ("bin", "txt")):
            return True
    return False


def detect_capture_kind(path: str | Path) -> str:
    """The kind (:data:`CAPTURE_KINDS`) of the capture at ``path``, by its
    files: light-field scene folders with ``parameters.cfg``, 7-Scenes
    ``frame-*.pose.txt``, TUM ``rgb.txt`` + ``depth.txt``, a COLMAP model,
    ``transforms.json``. ValueError naming what was looked for otherwise."""
    from geodl.recon.rgbd_readers import is_7scenes, is_tum

    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".json":
        return "transforms"
    if not path.is_dir():
        raise ValueError(f"captures folder: {path} is not a folder (nor a transforms.json "
                         "file)")
    found = []
    if any(p.is_dir() and (p / "parameters.cfg").is_file() for p in path.iterdir()):
        found.append("lightfield")
    if is_7scenes(path):
        found.append("7scenes")
    if is_tum(path):
        found.append("tum")
    if _is_colmap(path):
        found.append("colmap")
    if (path / TRANSFORMS_FILE).is_file():
        found.append("transforms")
    if len(found) > 1:
        raise ValueError(f"captures folder: {path} holds several layouts ({', '.join(found)}); pass "
                         "kind= (--kind) to choose one")
    if not found:
        raise ValueError(f"captures folder: no captures in {path} (looked for light-field "
                         "capture sub-folders with parameters.cfg; 7-Scenes "
                         "frame-XXXXXX.pose.txt, .depth.png, .color.png; TUM RGB-D rgb.txt, "
                         "depth.txt, groundtruth.txt; a COLMAP model sparse/0/cameras.bin, "
                         "images.bin; transforms.json)")
    return found[0]


def load_captures(path: str | Path, kind: str | None = None, progress: bool | None = None,
                  **options) -> list[LightField] | PosedImages:
    """The captures at ``path``, of ``kind`` (default :func:`detect_capture_kind`).

    Returns a list of ``LightField`` for ``"lightfield"``
    (:func:`load_lightfield_captures`), otherwise one ``PosedImages``:
    ``"7scenes"`` and ``"tum"`` through :mod:`geodl.recon.rgbd_readers`
    (``options``: ``intrinsics``, ``depth_scale``, ``depth_max``, ``stride``,
    ...), ``"colmap"`` and ``"transforms"`` through
    ``geodl.mvs.load_posed_photos(path, layout=kind, **options)``.
    """
    if kind is None:
        kind = detect_capture_kind(path)
    if kind not in CAPTURE_KINDS:
        raise ValueError(f"kind: expected one of {', '.join(CAPTURE_KINDS)}, got {kind!r}")
    if kind == "lightfield":
        if options:
            raise ValueError(f"light-field captures take no reader options, got "
                             f"{sorted(options)}")
        return load_lightfield_captures(path, progress)
    if kind in PHOTO_KINDS:
        try:
            from geodl.mvs import load_posed_photos  # lazily: pycolmap loads only for photos
        except ImportError as err:
            raise ValueError(f"captures {path}: reading {kind} photos needs "
                             f"geodl.mvs.load_posed_photos, which this geodl lacks ({err})"
                             ) from None
        return load_posed_photos(path, layout=kind, **options)
    from geodl.recon.rgbd_readers import read_7scenes, read_tum

    reader = read_7scenes if kind == "7scenes" else read_tum
    return reader(path, progress=progress, **options)


def load_lightfield_captures(folder: str | Path, progress: bool | None = None
                             ) -> list[LightField]:
    """Every capture of the captures folder ``folder`` as a :class:`LightField`
    (views, centre camera with its pose and intrinsics, baseline, focus
    distance; the ground truth where the folder has it), in folder-name
    order; ``meta["scene"]`` is the capture's folder name and
    ``meta["parameters"]`` its ``HCIParameters``.

    Raises ValueError naming the capture for: no captures, a
    ``parameters.cfg`` without the pose keys, missing, extra or unreadable
    view files and views whose size differs from ``parameters.cfg``."""
    out = []
    for path in tqdm(capture_folders(folder), desc="loading captures",
                     disable=None if progress is None else not progress):
        _check_pose(path)
        try:
            lf = load_hci(path)
        except (OSError, ValueError) as err:  # PIL's unreadable image is an OSError
            raise ValueError(f"capture {path}: {err}") from None
        lf.meta["scene"] = path.name
        out.append(lf)
    return out


def write_room_ground_truth(path: str | Path, mesh: Mesh, object_ids: Tensor) -> Path:
    """Write ``mesh`` as a binary PLY with the int vertex property
    ``object_id`` (``object_ids``: (V,) integers); returns ``path``."""
    ids = torch.as_tensor(object_ids)
    if ids.shape != (mesh.num_verts,) or ids.is_floating_point():
        raise ValueError(f"object_ids: expected ({mesh.num_verts},) integers, got "
                         f"{tuple(ids.shape)} {ids.dtype}")
    m = trimesh().Trimesh(mesh.verts64.numpy(), mesh.faces.numpy(), process=False,
                          vertex_attributes={"object_id": ids.numpy().astype(np.int32)})
    path = Path(path)
    m.export(path)
    return path


def room_index(layout: str, seed: int, room_size, objects: dict[int, str], **entries) -> dict:
    """The ``captures.json`` object of a room written in ``layout`` (a key
    of :data:`INDEX_FORMATS`): :data:`INDEX_KEYS` from ``seed``,
    ``room_size`` (x, y, z metres) and ``objects`` (object id -> name), then
    ``entries``, the layout's own keys, in their order."""
    if layout not in INDEX_FORMATS:
        raise ValueError(f"layout: expected one of {', '.join(INDEX_FORMATS)}, got {layout!r}")
    clash = sorted(set(entries) & set(INDEX_KEYS))
    if clash:
        raise ValueError(f"entries: {', '.join(clash)} are common keys, set from the arguments")
    return {"format": INDEX_FORMATS[layout], "version": INDEX_VERSION, "seed": int(seed),
            "room_size": [float(v) for v in room_size], "ground_truth": GROUND_TRUTH_FILE,
            "objects": {str(k): str(v) for k, v in objects.items()}, **entries}


def write_room_index(folder: str | Path, index: dict) -> Path:
    """Write ``index`` (:func:`room_index`) as ``folder/captures.json``;
    returns its path."""
    path = Path(folder) / INDEX_FILE
    path.write_text(json.dumps(index, indent=1))
    return path


def read_room_index(folder: str | Path) -> dict | None:
    """The ``captures.json`` of ``folder`` as a dict, or None when there is
    none; ValueError naming the file when it is not a JSON object."""
    path = Path(folder) / INDEX_FILE
    if not path.is_file():
        return None
    try:
        index = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a captures index ({err!r})") from None
    if not isinstance(index, dict):
        raise ValueError(f"{path}: not a captures index (a JSON {type(index).__name__}, not an "
                         "object)")
    return index


def load_room_ground_truth(folder: str | Path) -> tuple[Mesh, Tensor, dict[int, str]]:
    """(mesh, object_ids (V,) long, object id -> name) of a captures folder,
    from ``room_gt.ply`` and ``captures.json`` (names empty without it)."""
    folder = Path(folder)
    path = folder / GROUND_TRUTH_FILE
    if not path.is_file():
        raise ValueError(f"captures folder: {folder} has no {GROUND_TRUTH_FILE} (the room's "
                         "ground-truth mesh)")
    try:
        m = trimesh().load(path, force="mesh", process=False)
    except Exception as err:  # trimesh raises many kinds on a bad file
        raise ValueError(f"{path}: cannot read a mesh: {err}") from None
    raw = m.metadata.get("_ply_raw", {}).get("vertex", {}).get("data")
    if raw is not None and "object_id" in (raw.dtype.names or ()):
        ids = np.asarray(raw["object_id"])
    elif "object_id" in getattr(m, "vertex_attributes", {}):
        ids = np.asarray(m.vertex_attributes["object_id"])
    else:
        raise ValueError(f"{path}: no 'object_id' vertex property")
    mesh = Mesh.from_trimesh(m)
    names: dict[int, str] = {}
    index = read_room_index(folder)
    if index is not None:
        try:
            names = {int(k): str(v) for k, v in index["objects"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"{folder / INDEX_FILE}: not a captures index ({err!r})") from None
    return mesh, torch.from_numpy(ids.astype(np.int64)), names
