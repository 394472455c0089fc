"""Jets as point clouds: hadronic top jets vs QCD jets.

Reads the fixture made by ``datasets/jets/generate_top_tagging.py`` (Pythia 8 +
FastJet, anti-kT R=0.8, 550 < pT < 650 GeV, ``|eta| < 2``; see
``datasets/jets/README.md`` for provenance and checksum). Each jet becomes a
PyG ``Data``: one node per constituent with features

    log pT, log E, log(pT / pT_jet), log(E / E_jet), d_eta, d_phi, dR

(d_eta, d_phi relative to the jet axis, d_phi wrapped to (-pi, pi]),
``pos = (d_eta, d_phi)`` and ``y`` = 1 for top, 0 for QCD; plus the jet's
(pT, eta, phi, mass) as ``jet``.
"""
from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from geodl.io.npz import read_npz

FIXTURE = Path(__file__).resolve().parents[2] / "datasets" / "jets" / "top_tagging_small.npz"
# SHA-256 of the shipped fixture (also in datasets/README.md); checked on load.
FIXTURE_SHA256 = "24d2e2bde6129cbdb1ec88607b57fc6c288a287f9b25c63e8536fb3a70c6dd4c"
FEATURES = ("log_pt", "log_e", "log_pt_rel", "log_e_rel", "d_eta", "d_phi", "d_r")


def _check_kinematics(path: Path, constituents: np.ndarray, jets: np.ndarray) -> None:
    """``ValueError`` naming the first jet whose numbers make the features
    (logarithms of pT and E, angles) NaN or infinite: a non-finite value, a
    negative pT, a constituent (pT > 0; pT = 0 rows are padding) without
    positive energy, or a jet without positive pT."""
    c, pt = constituents, constituents[..., 0]
    real = pt > 0
    bad = (~np.isfinite(c).all(-1)) | (pt < 0) | (real & ~(c[..., 3] > 0))
    bad_jet = ~np.isfinite(jets).all(-1) | ~(jets[:, 0] > 0) | ~real.any(-1)
    if bad.any() or bad_jet.any():
        i = int(np.flatnonzero(bad.any(-1) | bad_jet)[0])
        if bad[i].any():
            p = int(np.flatnonzero(bad[i])[0])
            raise ValueError(f"path: {path}: jet {i}, constituent {p} has (pT, eta, phi, E) = "
                             f"{tuple(c[i, p].tolist())}; expected finite values, pT >= 0 and "
                             "E > 0 where pT > 0 (log pT and log E are features)")
        raise ValueError(f"path: {path}: jet {i} has (pT, eta, phi, mass) = "
                         f"{tuple(jets[i].tolist())} and {int(real[i].sum())} constituents; "
                         "expected finite values, pT > 0 and at least one constituent")


class TopTagging:
    """The jets of one ``.npz`` file (default: the shipped fixture).

    Args:
        path: the ``.npz`` (arrays ``constituents`` (J, P, 4) = pT, eta, phi, E,
            zero-padded; ``jets`` (J, 4) = pT, eta, phi, mass; ``labels`` (J,)).
        sha256: if given, the file's checksum must match. The shipped
            fixture is always checked against ``FIXTURE_SHA256``, whatever
            path names it (relative, through ``..`` or a link: compared with
            ``os.path.samefile``).
    """

    def __init__(self, path: str | Path | None = None, sha256: str | None = None) -> None:
        path = Path(FIXTURE if path is None else path)
        if path.exists() and FIXTURE.exists() and os.path.samefile(path, FIXTURE):
            if sha256 is not None and sha256 != FIXTURE_SHA256:
                raise ValueError(f"sha256: {path} is the shipped fixture, whose checksum is "
                                 f"{FIXTURE_SHA256}, not {sha256}")
            sha256 = FIXTURE_SHA256
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found: generate it with `python datasets/jets/"
                "generate_top_tagging.py` (needs `pip install -e .[hep]`), or pass the path "
                "of a file with arrays constituents (J, P, 4), jets (J, 4) and labels (J,)")
        if sha256 is not None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != sha256:
                raise ValueError(f"path: {path} has sha256 {digest}, expected {sha256}")
        f = read_npz(path, required=("constituents", "jets", "labels"))
        self.constituents = f["constituents"].astype(np.float64)
        self.jets = f["jets"].astype(np.float64)
        self.labels = f["labels"].astype(np.int64)
        j = len(self.labels)
        if self.constituents.ndim != 3 or self.constituents.shape[0] != j or \
                self.constituents.shape[2] != 4 or self.jets.shape != (j, 4):
            raise ValueError(f"path: inconsistent shapes {self.constituents.shape}, "
                             f"{self.jets.shape}, {self.labels.shape}")
        _check_kinematics(path, self.constituents, self.jets)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def mass(self) -> np.ndarray:
        """(J,) jet masses in GeV (the classic single-variable tagger)."""
        return self.jets[:, 3]

    def data(self, i: int) -> Data:
        c = self.constituents[i]
        c = c[c[:, 0] > 0]
        pt_j, eta_j, phi_j, _ = self.jets[i]
        e_j = c[:, 3].sum()
        d_eta = c[:, 1] - eta_j
        d_phi = (c[:, 2] - phi_j + math.pi) % (2 * math.pi) - math.pi
        x = np.stack([np.log(c[:, 0]), np.log(c[:, 3]), np.log(c[:, 0] / pt_j),
                      np.log(c[:, 3] / e_j), d_eta, d_phi, np.hypot(d_eta, d_phi)], 1)
        return Data(x=torch.tensor(x, dtype=torch.float32),
                    pos=torch.tensor(np.stack([d_eta, d_phi], 1), dtype=torch.float32),
                    y=torch.tensor([self.labels[i]]),
                    jet=torch.tensor(self.jets[i][None], dtype=torch.float32))

    def data_list(self, indices=None) -> list[Data]:
        idx = range(len(self)) if indices is None else indices
        return [self.data(int(i)) for i in idx]

    def split(self, fractions=(0.6, 0.2, 0.2), seed: int = 0) -> tuple[np.ndarray, ...]:
        """Random disjoint index sets that together cover every jet once.

        Args:
            fractions: one or more non-negative finite numbers summing to 1
                (to 1e-9); part ``i`` gets ``round(f_i * J)`` jets, the last
                part the rest.
            seed: permutation seed.
        """
        try:
            f = np.asarray(fractions, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"fractions: expected a sequence of numbers, got {fractions!r}") \
                from None
        if f.ndim != 1 or f.size == 0:
            raise ValueError(f"fractions: expected a non-empty 1-D sequence, got {fractions!r}")
        if not np.isfinite(f).all() or (f < 0).any():
            raise ValueError(f"fractions: expected non-negative finite numbers, got {fractions!r}")
        if abs(f.sum() - 1.0) > 1e-9:
            raise ValueError(f"fractions: must sum to 1, got {fractions!r} (sum {f.sum():.12g})")
        perm = np.random.default_rng(seed).permutation(len(self))
        cuts = np.minimum(np.cumsum([round(x * len(self)) for x in f[:-1]]), len(self))
        return tuple(np.split(perm, cuts))
