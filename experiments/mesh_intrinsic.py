"""Meshes: intrinsic vs extrinsic learning on deformed, remeshed shapes.

Data: ``geodl.datasets.deformed_shapes`` (seeded recipes): every shape is
non-rigidly deformed, randomly rotated and triangulated anew, so neither the
pose, the vertex count nor the connectivity carries information.

1. Classification of the 5 genus-0 classes (train/test seeds disjoint).
2. Dense correspondence to a template (the asymmetric "blob"): each vertex is
   classified into one of the template's 642 vertices; error = geodesic
   distance on the template between predicted and true vertex, divided by
   sqrt(template area). Reported: % of vertices with error 0 and <= 0.05, and
   the cumulative error curve.

Methods (input features in brackets):
  diffusionnet  DiffusionNet, spectral diffusion + gradient features [HKS]
  geodesic      GeodesicConv x 2, geodesic polar patches [HKS]
  monet         GMMConv x 2, polar pseudo-coordinates in the tangent frame [HKS]
  xyz           the same DiffusionNet on raw coordinates [xyz]: extrinsic baseline

    .venv/bin/python experiments/mesh_intrinsic.py [--seeds 3]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from geodl import ops
from geodl.datasets.deformed_shapes import BLOB, CLASSES, correspondence, make_shape, template
from geodl.nn import DiffusionOperators
from geodl.nn.conv import GeodesicConv, GMMConv
from geodl.nn.models import DiffusionNet
from geodl.viz import pyplot, save_figure

HERE = Path(__file__).resolve().parent
K_EIG = 64
N_HKS = 16


@dataclass
class Sample:
    hks: Tensor
    xyz: Tensor
    dops: DiffusionOperators
    patch_index: Tensor
    patch_weight: Tensor
    edge_index: Tensor
    pseudo: Tensor
    label: Tensor  # class id (1,) or per-vertex template index (V,)


def prepare(shape, label: Tensor, patch_radius: float = 0.3) -> Sample:
    m = shape.mesh
    evals, evecs = m.eigen(K_EIG, cache_dir=False)
    t = torch.logspace(math.log10(0.01), math.log10(1.0), N_HKS, dtype=torch.float64)
    hks = torch.log(ops.heat_kernel_signature(evals, evecs, t))
    hks = (hks - hks.mean(0)) / hks.std(0).clamp_min(1e-8)
    dops = DiffusionOperators.from_mesh(m, k=K_EIG)
    pi, pw = ops.geodesic_patches(m.verts64, m.faces, patch_radius, n_rho=2, n_theta=8)
    ei = torch.cat([m.edge_index, torch.arange(m.num_verts).repeat(2, 1)], 1)
    # polar coordinates of each neighbour in the centre's tangent frame
    frames = ops.tangent_frames(m.vertex_normals)
    off = m.verts64[ei[0]] - m.verts64[ei[1]]
    u = (off * frames[ei[1], 0]).sum(1)
    v = (off * frames[ei[1], 1]).sum(1)
    rho = torch.hypot(u, v)
    pseudo = torch.stack([rho / rho.max(), torch.remainder(torch.atan2(v, u), 2 * math.pi)
                          / (2 * math.pi)], 1)
    xyz = m.verts64 - m.verts64.mean(0)
    return Sample(hks.float(), xyz.float(), dops, pi, pw.float(), ei, pseudo.float(), label)


class PatchNet(torch.nn.Module):
    """Linear lift, two intrinsic convolutions (geodesic or MoNet), head."""

    def __init__(self, kind: str, cin: int, cout: int, width: int = 32, per_vertex: bool = False):
        super().__init__()
        self.kind, self.per_vertex = kind, per_vertex
        self.lift = torch.nn.Linear(cin, width)
        if kind == "geodesic":
            self.convs = torch.nn.ModuleList([GeodesicConv(width, width, 2, 8) for _ in range(2)])
        else:
            self.convs = torch.nn.ModuleList([GMMConv(width, width, dim=2, kernel_size=8)
                                              for _ in range(2)])
        self.head = torch.nn.Linear(width if per_vertex else 2 * width, cout)

    def forward(self, x: Tensor, s: Sample) -> Tensor:
        h = F.relu(self.lift(x))
        for conv in self.convs:
            h = F.relu(conv(h, s.patch_index, s.patch_weight) if self.kind == "geodesic"
                       else conv(h, s.edge_index, s.pseudo)) + h
        if self.per_vertex:
            return self.head(h)
        return self.head(torch.cat([h.mean(0), h.amax(0)]))[None]


def build(method: str, cout: int, per_vertex: bool) -> tuple[torch.nn.Module, str]:
    if method in ("diffusionnet", "xyz"):
        net = DiffusionNet(N_HKS if method == "diffusionnet" else 3, cout, width=32, n_blocks=3,
                           outputs_at="vertices" if per_vertex else "global_mean")
        return net, ("hks" if method == "diffusionnet" else "xyz")
    return PatchNet(method, N_HKS, cout, per_vertex=per_vertex), "hks"


def run(model: torch.nn.Module, feature: str, s: Sample) -> Tensor:
    x = getattr(s, feature)
    if isinstance(model, DiffusionNet):
        return model(x, s.dops)
    return model(x, s)


def train(method: str, seed: int, train_set: list, cout: int, per_vertex: bool,
          epochs: int) -> tuple[torch.nn.Module, str]:
    torch.manual_seed(seed)
    model, feature = build(method, cout, per_vertex)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for i in torch.randperm(len(train_set), generator=gen).tolist():
            s = train_set[i]
            loss = F.cross_entropy(run(model, feature, s), s.label)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model, feature


def classification(methods, seeds, epochs, n_train, n_test) -> dict:
    n = len(CLASSES)
    train_set = [prepare(make_shape(c, s), torch.tensor([c])) for s in range(n_train) for c in range(n)]
    test_set = [prepare(make_shape(c, 1000 + s), torch.tensor([c]))
                for s in range(n_test) for c in range(n)]
    out = {}
    for method in methods:
        accs = []
        for seed in range(seeds):
            model, feature = train(method, seed, train_set, n, False, epochs)
            with torch.no_grad():
                pred = [int(run(model, feature, s).argmax()) for s in test_set]
            accs.append(float(np.mean([p == int(s.label) for p, s in zip(pred, test_set)])))
        out[method] = accs
    return out


def correspondence_task(methods, seeds, epochs, n_train, n_test) -> dict:
    tmpl = template(BLOB)
    nt = tmpl.mesh.num_verts
    geo = torch.stack([tmpl.mesh.geodesic(i) for i in range(nt)])  # (nt, nt) on the template
    scale = math.sqrt(tmpl.mesh.area)

    def sample(seed):
        shape = make_shape(BLOB, seed)
        return prepare(shape, correspondence(shape, tmpl))
    train_set = [sample(s) for s in range(n_train)]
    test_set = [sample(1000 + s) for s in range(n_test)]
    thresholds = np.linspace(0, 0.25, 26)
    out = {}
    for method in methods:
        exact, within, curves = [], [], []
        for seed in range(seeds):
            model, feature = train(method, seed, train_set, nt, True, epochs)
            errs = []
            with torch.no_grad():
                for s in test_set:
                    pred = run(model, feature, s).argmax(1)
                    errs.append((geo[pred, s.label] / scale).numpy())
            e = np.concatenate(errs)
            exact.append(float((e == 0).mean()))
            within.append(float((e <= 0.05).mean()))
            curves.append([float((e <= t).mean()) for t in thresholds])
        out[method] = {"exact": exact, "within_0.05": within,
                       "curve": np.mean(curves, 0).tolist(), "thresholds": thresholds.tolist()}
    return out


def plot(corr: dict, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for method, r in corr.items():
        ax.plot(r["thresholds"], 100 * np.array(r["curve"]), label=method)
    ax.set_xlabel("geodesic error / sqrt(area)")
    ax.set_ylabel("% correspondences within error")
    ax.set_title("Dense correspondence, deformed + remeshed shapes")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--methods", default="diffusionnet,geodesic,monet,xyz")
    ap.add_argument("--cls-epochs", type=int, default=30)
    ap.add_argument("--corr-epochs", type=int, default=60)
    ap.add_argument("--cls-train", type=int, default=12, help="training shapes per class")
    ap.add_argument("--cls-test", type=int, default=6, help="test shapes per class")
    ap.add_argument("--corr-train", type=int, default=16)
    ap.add_argument("--corr-test", type=int, default=6)
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    out = Path(args.out)
    methods = args.methods.split(",")
    cls = classification(methods, args.seeds, args.cls_epochs, args.cls_train, args.cls_test)
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
    print(f"Classification, {len(CLASSES)} classes, {args.cls_train}/{args.cls_test} shapes per "
          f"class (train/test), {args.seeds} seeds:")
    for m, a in cls.items():
        print(f"  {m:13s} {100 * statistics.mean(a):6.2f} ± {100 * sd(a):.2f} %")
    corr = correspondence_task(methods, args.seeds, args.corr_epochs, args.corr_train,
                               args.corr_test)
    print(f"\nCorrespondence to a 642-vertex template, {args.corr_train}/{args.corr_test} shapes:")
    for m, r in corr.items():
        print(f"  {m:13s} exact {100 * statistics.mean(r['exact']):5.1f} ± {100 * sd(r['exact']):.1f} %"
              f"   within 0.05: {100 * statistics.mean(r['within_0.05']):5.1f} ± "
              f"{100 * sd(r['within_0.05']):.1f} %")
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / "mesh_intrinsic.json").write_text(json.dumps(
        {"classification": cls, "correspondence": corr}, indent=2))
    plot(corr, out / "figures" / "mesh_correspondence.png")
    return {"classification": cls, "correspondence": corr}


if __name__ == "__main__":
    main()
