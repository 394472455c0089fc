"""k=128 eigenpairs of the cotangent Laplacian of a ~50k-vertex mesh:
geodl.ops.generalized_eigh against a plain scipy eigsh in shift-invert mode
on the same matrices.

    .venv/bin/python benchmarks/bench_eigen.py [--repeats 2]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved, report  # noqa: E402

from geodl import ops  # noqa: E402
from geodl.structures import Mesh  # noqa: E402


def bumpy_torus(n_major: int = 320, n_minor: int = 160) -> Mesh:
    """A torus with smooth bumps (no symmetry left, so no repeated eigenvalues)."""
    m = Mesh.torus(major=1.0, minor=0.35, n_major=n_major, n_minor=n_minor)
    v = m.verts64
    phi = torch.atan2(v[:, 1], v[:, 0])
    theta = torch.atan2(v[:, 2], v[:, :2].norm(dim=1) - 1.0)
    r = 1 + 0.08 * torch.sin(5 * phi) * torch.cos(2 * theta) + 0.04 * torch.sin(3 * theta + phi)
    centre = torch.stack([torch.cos(phi), torch.sin(phi), torch.zeros_like(phi)], 1)
    return Mesh(centre + (v - centre) * r[:, None], m.faces)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("-k", type=int, default=128)
    args = ap.parse_args()
    mesh = bumpy_torus()
    L, M = mesh.laplacian(), mesh.mass()
    print(f"mesh: {mesh.num_verts} vertices, {mesh.num_faces} faces; k = {args.k}; "
          f"torch threads = {torch.get_num_threads()}")
    A = ops.to_scipy(L).tocsc()
    Md = sp.diags(M.numpy()).tocsc()
    sigma = -1e-8 * float(A.diagonal().mean() / M.numpy().mean())
    v0 = np.random.default_rng(0).standard_normal(A.shape[0])
    results = {}

    def ours():
        results["geodl"] = ops.generalized_eigh(L, M, args.k)

    def plain():
        w, v = sla.eigsh(A, k=args.k, M=Md, sigma=sigma, which="LM", v0=v0)
        results["scipy"] = (np.sort(w), v)

    times = interleaved({"geodl.ops.generalized_eigh": ours,
                         "scipy eigsh(sigma=..., default splu)": plain}, args.repeats)
    report(times, "scipy eigsh(sigma=..., default splu)")
    w_ours = results["geodl"][0].numpy()
    w_ref = results["scipy"][0]
    print(f"  max |eigenvalue difference| {np.abs(w_ours - w_ref).max():.2e} "
          f"(lambda_max {w_ref.max():.2f})")
    ev = results["geodl"][1]
    orth = (ev.T @ (M[:, None] * ev) - torch.eye(args.k, dtype=torch.float64)).abs().max()
    print(f"  geodl: max |Phi^T M Phi - I| = {float(orth):.2e}")


if __name__ == "__main__":
    main()
