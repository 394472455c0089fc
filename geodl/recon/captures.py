"""A captures folder: light-field captures of one room, the input of room
reconstruction, whoever made them.

Layout::

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
from geodl.structures import LightField, Mesh

#: the optional index of a captures folder
INDEX_FILE = "captures.json"
#: the optional ground-truth mesh of a captures folder
GROUND_TRUTH_FILE = "room_gt.ply"
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


def load_captures(folder: str | Path, progress: bool | None = None) -> list[LightField]:
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
    index = folder / INDEX_FILE
    if index.is_file():
        try:
            names = {int(k): str(v) for k, v in json.loads(index.read_text())["objects"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"{index}: not a captures index ({err!r})") from None
    return mesh, torch.from_numpy(ids.astype(np.int64)), names
