"""The Middlebury temple (templeSparseRing: 16 calibrated photos) through
``geodl reconstruct``: the photos written as a COLMAP model of cameras only
(``datasets/middlebury_to_colmap.py``), reconstructed with no other argument,
then a snapshot and the mesh's extent against the tight bounding box that
Middlebury publishes (its reference mesh is withheld).

    .venv/bin/python experiments/middlebury_temple.py \\
        ../shared/data/mvs/middlebury_templeSparseRing --work /tmp/temple

``--mesh temple.ply`` skips the reconstruction and only draws and measures.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
#: templeSparseRing's tight bounding box (its README.txt), metres
BOX = np.array([[-0.073568, 0.021728, -0.012445], [0.028855, 0.181892, 0.062736]])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="the templeSparseRing folder")
    ap.add_argument("--work", type=Path, default=Path("/tmp/temple"))
    ap.add_argument("--mesh", type=Path, help="an existing reconstruction to draw and measure")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    root = HERE.parent
    mesh_path = args.mesh
    seconds = None
    if mesh_path is None:
        subprocess.run([sys.executable, str(root / "datasets" / "middlebury_to_colmap.py"),
                        str(args.folder), "--out", str(args.work), "--force"], check=True)
        mesh_path = args.work.with_suffix(".ply")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "geodl.cli", "reconstruct", str(args.work), "--out",
                        str(mesh_path), "--force"], check=True)
        seconds = time.perf_counter() - t0
    import trimesh

    from geodl.structures import Mesh
    from geodl.viz import Layer, snapshot

    tm = trimesh.load(mesh_path, process=False)
    v = np.asarray(tm.vertices)
    inside = np.all((v >= BOX[0] - 0.005) & (v <= BOX[1] + 0.005), axis=1)
    lo, hi = np.percentile(v, 1, axis=0), np.percentile(v, 99, axis=0)
    row = {"vertices": len(v), "faces": len(tm.faces), "seconds": seconds,
           "inside_box_5mm": float(inside.mean()), "extent_p1_p99": [lo.tolist(), hi.tolist()],
           "box": BOX.tolist()}
    print(json.dumps(row, indent=1))
    mesh = Mesh.from_trimesh(tm)
    (args.out / "figures").mkdir(parents=True, exist_ok=True)
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    snapshot([Layer(mesh)], args.out / "figures" / "middlebury_temple.png", width=700, height=600,
             elev=15, azim=-70, up="-y", legend=False)
    (args.out / "results" / "middlebury_temple.json").write_text(json.dumps(row, indent=1))
    return row


if __name__ == "__main__":
    main()
