"""Write a Middlebury multi-view stereo data set as a COLMAP project (cameras only).

Middlebury's data sets (Seitz, Curless, Diebel, Scharstein and Szeliski,
CVPR 2006; https://vision.middlebury.edu/mview/data/) give, per photo, one
line of ``<name>_par.txt``: ``imgname.png k11 .. k33 r11 .. r33 t1 t2 t3``
with the projection ``x = K (R X + t)``, image origin top-left: exactly
COLMAP's ``PINHOLE`` camera (fx = k11, fy = k22, cx = k13, cy = k23; a zero
skew is checked) and world-to-camera pose ``cam_from_world = [R | t]``.

The project is written as ``OUT/sparse/0/{cameras,images,points3D}.txt`` (no
3-D points: the depth range then comes from where the views' frusta
overlap) and ``OUT/images/``, the photos linked (``--copy`` copies them).
Then ``geodl reconstruct OUT --out temple.ply`` reconstructs it.

    .venv/bin/python datasets/middlebury_to_colmap.py \\
        ../shared/data/mvs/middlebury_templeSparseRing --out /tmp/temple
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import torch

from geodl.mvs import write_colmap_text
from geodl.structures import PinholeCamera


def read_middlebury(folder: Path) -> tuple[list[str], list[PinholeCamera]]:
    """(image names, cameras) from the single ``*_par.txt`` of ``folder``."""
    pars = sorted(folder.glob("*_par.txt"))
    if len(pars) != 1:
        raise ValueError(f"{folder}: expected one *_par.txt, found {len(pars)}")
    lines = pars[0].read_text().split("\n")
    count = int(lines[0])
    names, cams = [], []
    for k, line in enumerate(lines[1:1 + count]):
        parts = line.split()
        if len(parts) != 22:
            raise ValueError(f"{pars[0]} line {k + 2}: expected a name and 21 numbers, got "
                             f"{len(parts)} fields")
        name, vals = parts[0], np.array([float(v) for v in parts[1:]])
        K, R, t = vals[:9].reshape(3, 3), vals[9:18].reshape(3, 3), vals[18:]
        E = np.eye(4)
        E[:3, :3], E[:3, 3] = R, t
        from PIL import Image

        with Image.open(folder / name) as img:
            w, h = img.size
        cams.append(PinholeCamera(torch.from_numpy(K), torch.from_numpy(E), w, h))
        names.append(name)
    return names, cams


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a Middlebury data set folder (photos + *_par.txt)")
    ap.add_argument("--out", type=Path, required=True, help="the COLMAP project to write")
    ap.add_argument("--copy", action="store_true", help="copy the photos instead of linking")
    ap.add_argument("--force", action="store_true", help="replace an existing project's files")
    args = ap.parse_args(argv)
    names, cams = read_middlebury(args.folder)
    write_colmap_text(args.out / "sparse" / "0", cams, names, overwrite=args.force)
    images = args.out / "images"
    images.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = images / name
        if target.exists() or target.is_symlink():
            target.unlink()
        if args.copy:
            shutil.copy2(args.folder / name, target)
        else:
            target.symlink_to((args.folder / name).resolve())
    print(f"{args.out}: {len(names)} photos, cameras only ({args.out / 'sparse' / '0'})")
    return args.out


if __name__ == "__main__":
    main()
