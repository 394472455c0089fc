"""Cameras for photos without them: structure from motion with ``pycolmap``
(COLMAP's own bindings) on the CPU: SIFT features, exhaustive matching,
incremental mapping. The project (``database.db``, ``sparse/0``) is written
where the caller says, so the cameras can be reused and inspected."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from geodl.io import IMAGE_SUFFIXES


def solve_cameras(images_dir: str | Path, out_dir: str | Path, overwrite: bool = False,
                  log: Callable[[str], None] | None = print) -> Path:
    """Solve the cameras of the photos in ``images_dir`` into the COLMAP
    project ``out_dir``; returns its model folder ``out_dir/sparse/0`` (the
    model with the most registered photos). ``log`` gets one line per stage.

    Raises:
        ValueError: fewer than 3 photos, a non-empty ``out_dir`` without
            ``overwrite``, or no model (the photos do not overlap enough).
    """
    import pycolmap

    images_dir, out_dir = Path(images_dir), Path(out_dir)
    photos = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) \
        if images_dir.is_dir() else []
    if len(photos) < 3:
        raise ValueError(f"{images_dir}: structure from motion needs at least 3 photos, found "
                         f"{len(photos)}")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out_dir}: not empty (--force replaces the COLMAP project)")
        db = out_dir / "database.db"
        if db.exists():
            db.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    say = log or (lambda _: None)
    db = out_dir / "database.db"
    stages = (
        ("SIFT features", lambda: pycolmap.extract_features(
            db, images_dir, camera_mode=pycolmap.CameraMode.SINGLE, device=pycolmap.Device.cpu)),
        ("exhaustive matching", lambda: pycolmap.match_exhaustive(db, device=pycolmap.Device.cpu)),
        ("incremental mapping", lambda: pycolmap.incremental_mapping(db, images_dir,
                                                                     out_dir / "sparse")),
    )
    maps = {}
    for k, (name, run) in enumerate(stages, 1):
        t0 = time.perf_counter()
        say(f"sfm [{k}/{len(stages)}] {name} of {len(photos)} photos ...")
        result = run()
        if k == len(stages):
            maps = result
        say(f"sfm [{k}/{len(stages)}] {name}: {time.perf_counter() - t0:.1f} s")
    if not maps:
        raise ValueError(f"{images_dir}: structure from motion registered no photos (too little "
                         "overlap or texture)")
    best = max(maps, key=lambda i: maps[i].num_reg_images())
    model = out_dir / "sparse" / "0"
    if best != 0:  # keep the largest model as sparse/0
        model.mkdir(parents=True, exist_ok=True)
        maps[best].write(model)
    say(f"sfm: {maps[best].num_reg_images()} of {len(photos)} photos registered, "
        f"{maps[best].num_points3D()} points -> {model}")
    return model
