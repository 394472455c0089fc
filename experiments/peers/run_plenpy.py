"""Run plenpy's disparity estimation on one HCI scene folder (inside plenpy's
own virtual environment; experiments/lightfield_depth.py builds it).

    python run_plenpy.py SCENE_DIR METHOD VMIN VMAX OUT.npy

The grid comes from the folder's ``parameters.cfg``, or without one from the
count of ``input_CamNNN.png`` (a square grid).

Prints the seconds ``get_disparity`` took. plenpy 0.9.2 still calls
``np.int`` (removed in NumPy 1.24), so it is aliased before the call. The
disparity is written as plenpy returns it (its own sign and unit; the caller
calibrates them on a plane of known disparity).
"""
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

np.int = int  # plenpy 0.9.2 uses the alias NumPy 1.24 removed

from plenpy.lightfields import LightField  # noqa: E402


def main() -> None:
    folder, method, vmin, vmax, out = sys.argv[1:6]
    cfg = Path(folder) / "parameters.cfg"
    if cfg.exists():
        n = {k.strip(): v.strip() for k, _, v in
             (line.partition("=") for line in cfg.read_text().splitlines() if "=" in line)}
        U, V = int(n["num_cams_y"]), int(n["num_cams_x"])
    else:  # a public copy without it: a square grid of input_CamNNN.png
        U = V = round(len(list(Path(folder).glob("input_Cam*.png"))) ** 0.5)
    views = np.stack([np.asarray(Image.open(Path(folder) / f"input_Cam{k:03d}.png")
                                 .convert("RGB"), np.float32) / 255 for k in range(U * V)])
    lf = LightField(views.reshape(U, V, *views.shape[1:]))
    t0 = time.perf_counter()
    disparity, _ = lf.get_disparity(method=method, vmin=float(vmin), vmax=float(vmax))
    print(f"{time.perf_counter() - t0:.3f}")
    np.save(out, np.asarray(disparity, np.float32))


if __name__ == "__main__":
    main()
