"""One entry point for posed photos: a COLMAP model or a ``transforms.json``,
detected from the path."""
from __future__ import annotations

from pathlib import Path

from geodl.mvs.colmap import find_colmap_model, read_colmap
from geodl.mvs.nerf import read_transforms
from geodl.structures import PosedImages

TRANSFORMS = "transforms.json"


def photos_layout(path: str | Path) -> str | None:
    """``"colmap"`` (a model here, in ``sparse/0`` or ``sparse``),
    ``"transforms"`` (a ``transforms.json`` file or a folder holding one) or
    None when ``path`` is neither."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".json":
        return "transforms"
    if path.is_dir():
        if find_colmap_model(path) is not None:
            return "colmap"
        if (path / TRANSFORMS).is_file():
            return "transforms"
    return None


def load_posed_photos(path: str | Path, images_dir: str | Path | None = None,
                      undistort: bool = True, layout: str | None = None) -> PosedImages:
    """Photos with their cameras from ``path`` (:func:`photos_layout`).

    Args:
        path: a COLMAP project or model folder, or a ``transforms.json``.
        images_dir: the photos' folder for a COLMAP model (default: found
            beside it, :func:`~geodl.mvs.colmap.read_colmap`).
        undistort: undistort cameras with lens distortion (else refuse them).
        layout: ``"colmap"`` or ``"transforms"`` to skip the detection.

    Raises:
        ValueError: a path of neither layout, or what the reader refuses.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder")
    found = layout or photos_layout(path)
    if found == "colmap":
        return read_colmap(path, images_dir, undistort)
    if found == "transforms":
        if images_dir is not None:
            raise ValueError("images_dir: transforms.json names its images itself")
        return read_transforms(path, undistort)
    if layout is not None:
        raise ValueError(f"layout: expected 'colmap' or 'transforms', got {layout!r}")
    raise ValueError(f"{path}: neither a COLMAP model (cameras, images, points3D .txt/.bin here "
                     f"or in sparse/0) nor a {TRANSFORMS}")
