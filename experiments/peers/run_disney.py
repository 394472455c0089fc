"""Run disneydisp (Kim et al., SIGGRAPH 2013; M. Tuschen's implementation) on
the centre row of one HCI scene folder, inside its own virtual environment
(NumPy < 1.24, scikit-image 0.19; experiments/lightfield_depth.py builds it).

    python run_disney.py SCENE_DIR - VMIN VMAX OUT.npy

The method works on one row of views: the centre row, as a float64 HDF5
light field [s, v, u, 3]; only the centre view's map is computed (``s_hat``).
It samples a symmetric range covering [VMIN, VMAX] at 0.05 px steps (so its
own sign convention does not matter; the caller calibrates sign and unit on
planes). Prints the seconds of ``calculateDisp`` + ``calculateMap``.
"""
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
from DisneyDisp import Disney
from PIL import Image


def main() -> None:
    folder, _, vmin, vmax, out = sys.argv[1:6]
    cfg = (Path(folder) / "parameters.cfg").read_text()
    n = {k.strip(): v.strip() for k, _, v in
         (line.partition("=") for line in cfg.splitlines() if "=" in line)}
    U, V = int(n["num_cams_y"]), int(n["num_cams_x"])
    row = U // 2
    views = np.stack([np.asarray(Image.open(Path(folder) / f"input_Cam{row * V + c:03d}.png")
                                 .convert("RGB"), np.float64) / 255 for c in range(V)])
    reach = max(abs(float(vmin)), abs(float(vmax)))
    with tempfile.TemporaryDirectory() as tmp:
        lf_file = Path(tmp) / "lf.hdf5"
        with h5py.File(lf_file, "w") as f:
            f.create_dataset("lightfield", data=views)
        t0 = time.perf_counter()
        disney = Disney(str(lf_file), "lightfield", str(Path(tmp) / "out") + "/",
                        working_dir=str(Path(tmp) / "work") + "/", n_cpus=-1, s_hat=V // 2)
        disney.calculateDisp(min_disp=-reach, max_disp=reach, stepsize=0.05, Ce_t=0.02,
                             Cd_t=0.1, S_t=0.1)
        disney.calculateMap()
        seconds = time.perf_counter() - t0
        with h5py.File(Path(tmp) / "out" / "disparity_map.hdf5", "r") as f:
            disparity = np.array(f["disparity_map"][V // 2])
        del disney
    print(f"{seconds:.3f}")
    np.save(out, disparity.astype(np.float32))


if __name__ == "__main__":
    main()
