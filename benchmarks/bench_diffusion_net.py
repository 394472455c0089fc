"""DiffusionNet forward (and forward+backward) on a ~50k-vertex mesh with
precomputed operators: time and peak memory.

    .venv/bin/python benchmarks/bench_diffusion_net.py [--repeats 3]

Operators (k=128 eigenbasis, gradients) are computed first and saved; the
network then runs in a fresh process so that its peak resident memory is not
hidden by the eigensolver's.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))


def child(path: str, repeats: int, method: str) -> None:
    from geodl.nn import DiffusionOperators
    from geodl.nn.models import DiffusionNet

    payload = torch.load(path, weights_only=True)
    ops = DiffusionOperators(**payload)
    torch.manual_seed(0)
    net = DiffusionNet(3, 10, width=128, n_blocks=4, diffusion_method=method)
    x = ops.evecs[:, 1:4].float().contiguous()
    ops = DiffusionOperators(**{k: (v.float() if v.is_floating_point() else v)
                                for k, v in payload.items()})
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fwd, both = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with torch.no_grad():
            net(x, ops)
        fwd.append(time.perf_counter() - t0)
    peak_fwd = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(repeats):
        net.zero_grad()
        t0 = time.perf_counter()
        net(x, ops).square().mean().backward()
        both.append(time.perf_counter() - t0)
    peak_both = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    print(f"  {method:9s} forward (no grad): median {med(fwd):.3f} s  (runs: "
          f"{', '.join(f'{t:.3f}' for t in fwd)}); peak RSS +{(peak_fwd - base) / 1024:.0f} MiB "
          f"over the {base / 1024:.0f} MiB holding the operators")
    print(f"  {method:9s} forward+backward:   median {med(both):.3f} s  (runs: "
          f"{', '.join(f'{t:.3f}' for t in both)}); peak RSS +{(peak_both - base) / 1024:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--method", default="spectral", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.repeats, args.method)
        return
    from bench_eigen import bumpy_torus

    from geodl.nn import DiffusionOperators

    mesh = bumpy_torus()
    t0 = time.perf_counter()
    ops = DiffusionOperators.from_mesh(mesh, k=128)
    print(f"mesh: {mesh.num_verts} vertices; DiffusionNet(3 -> 10, width 128, 4 blocks), "
          f"float32, torch threads {torch.get_num_threads()}")
    print(f"  precompute operators (k=128 eigenbasis + gradients): {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ops.pt")
        torch.save({f.name: getattr(ops, f.name) for f in dataclasses.fields(ops)
                    if not f.name.startswith("_")}, path)
        for method in ("spectral", "implicit"):
            subprocess.run([sys.executable, __file__, "--child", path, "--repeats",
                            str(args.repeats), "--method", method], check=True)


if __name__ == "__main__":
    main()
