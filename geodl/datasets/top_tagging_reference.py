r"""Convert the public top-tagging reference set (Kasieczka et al., SciPost
Phys. 7, 014 (2019); files ``train.h5``, ``val.h5``, ``test.h5``) into the
``.npz`` layout that ``TopTagging`` reads.

The reference files are pandas HDF5 tables (key ``table``) with, per jet, up
to 200 constituents as columns ``E_i, PX_i, PY_i, PZ_i`` (zero-padded, pT
ordered) and the label ``is_signal_new``. Per constituent:
:math:`p_T = \sqrt{p_x^2 + p_y^2}`, :math:`\eta = \operatorname{asinh}(p_z / p_T)`,
:math:`\phi = \operatorname{atan2}(p_y, p_x)`; the jet four-momentum is the sum
of all its constituents (before truncation). Reading needs ``pandas`` and
``tables`` (the ``reference`` extra); the files are read in chunks, so a
1.2-million-jet file fits in memory as float16 output.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

REFERENCE_CONSTITUENTS = 200


def cartesian_to_jet_arrays(e: np.ndarray, px: np.ndarray, py: np.ndarray, pz: np.ndarray,
                            max_constituents: int) -> tuple[np.ndarray, np.ndarray]:
    """(J, P) Cartesian constituents (E = 0 marks padding) -> constituents
    (J, max_constituents, 4) = (pT, eta, phi, E) of the hardest, zero-padded,
    and jets (J, 4) = (pT, eta, phi, mass) of the summed four-momentum."""
    real = e > 0
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(real, np.arcsinh(pz / np.where(pt > 0, pt, 1.0)), 0.0)
    phi = np.where(real, np.arctan2(py, px), 0.0)
    order = np.argsort(-np.where(real, pt, -1.0), axis=1, kind="stable")[:, :max_constituents]
    take = lambda a: np.take_along_axis(np.where(real, a, 0.0), order, 1)  # noqa: E731
    cons = np.stack([take(pt), take(eta), take(phi), take(e)], -1)
    E, PX, PY, PZ = ((a * real).sum(1) for a in (e, px, py, pz))
    jet_pt = np.hypot(PX, PY)
    jets = np.stack([jet_pt, np.arcsinh(PZ / np.where(jet_pt > 0, jet_pt, 1.0)),
                     np.arctan2(PY, PX),
                     np.sqrt(np.clip(E ** 2 - PX ** 2 - PY ** 2 - PZ ** 2, 0, None))], 1)
    if cons.shape[1] < max_constituents:  # fewer columns than requested: pad
        cons = np.pad(cons, ((0, 0), (0, max_constituents - cons.shape[1]), (0, 0)))
    return cons, jets


def convert_reference(path_in: str | Path, path_out: str | Path, max_constituents: int = 60,
                      limit: int | None = None, chunk: int = 50_000) -> str:
    """Write ``path_in`` (a reference ``.h5``) as a ``TopTagging`` ``.npz``
    (float16 constituents, float32 jets, int8 labels); returns its SHA-256."""
    import pandas as pd
    from tqdm import tqdm

    if not Path(path_in).exists():
        raise FileNotFoundError(
            f"{path_in} not found: place a file of the public top-tagging reference set "
            "there (train.h5, val.h5 or test.h5 from its Zenodo record)")
    names = {f: [f"{f}_{i}" for i in range(REFERENCE_CONSTITUENTS)]
             for f in ("E", "PX", "PY", "PZ")}
    cons, jets, labels = [], [], []
    with pd.HDFStore(str(path_in), mode="r") as store:
        n = store.get_storer("table").nrows
        n = n if limit is None else min(n, limit)
        for start in tqdm(range(0, n, chunk), desc="converting jets", unit="chunk",
                          disable=None):
            df = store.select("table", start=start, stop=min(start + chunk, n))
            missing = [c for c in ("E_0", "PX_0", "is_signal_new") if c not in df.columns]
            if missing:
                raise ValueError(f"path_in: {path_in} lacks columns {missing}; expected the "
                                 "top-tagging reference layout (E_i, PX_i, PY_i, PZ_i, "
                                 "is_signal_new)")
            cols = {f: [c for c in v if c in df.columns] for f, v in names.items()}
            c, j = cartesian_to_jet_arrays(*(df[cols[f]].to_numpy(np.float64)
                                             for f in ("E", "PX", "PY", "PZ")),
                                           max_constituents)
            cons.append(c.astype(np.float16))
            jets.append(j.astype(np.float32))
            labels.append(df["is_signal_new"].to_numpy().astype(np.int8))
    np.savez_compressed(path_out, constituents=np.concatenate(cons), jets=np.concatenate(jets),
                        labels=np.concatenate(labels))
    return hashlib.sha256(Path(path_out).read_bytes()).hexdigest()
