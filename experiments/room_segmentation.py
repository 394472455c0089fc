"""Rooms: semantic segmentation of reconstructed room meshes (floor, wall,
ceiling, furniture) with DiffusionNet, against a per-vertex MLP.

Data: ``geodl.datasets.RoomSegmentation``: one mesh per room (``--source``:
a ``geodl.recon.reconstruct_room`` method, or ``standin``, marching cubes of
the distance to the room's own scene, when no reconstructions exist), labels
transferred from the ground-truth object ids by nearest surface (pictures
count as wall; vertices over ``--tolerance`` from any surface are ignored).
Training rooms: ``training_seeds(--train)``; test rooms: ``BENCHMARK_SEEDS``.
Meshes are fused at ``--voxel`` (0.1 m) and coarsened by vertex clustering
(``--cluster`` 0.15 m cells, about 5k vertices per room) so that training
takes minutes on 2 cores; ``--also-test cost_volume`` scores the same
models on reconstructions from estimated disparity of the benchmark rooms.

Per-vertex features, the same for both models (22 channels):
  height above the floor (z minus the mesh's 1st-percentile z: z is up),
  x and y about the mesh's median, unit vertex normal (3), and 16 log-HKS
  channels (k = 64 eigenpairs, times from ``geodl.ops.hks_times``,
  standardised per room).
Models: DiffusionNet (width 32, 4 blocks, spectral diffusion on 64
eigenpairs, gradient features) and an MLP (3 hidden layers of 64) applied to
each vertex alone. Adam (lr 3e-3), cross-entropy (ignore -1), one room per
step. Metric: per-class IoU over all test vertices (ignored ones excluded),
mean IoU over the 4 classes; mean ± std over ``--seeds`` trainings.

    .venv/bin/python experiments/room_segmentation.py [--also-test cost_volume] [--quick]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from geodl import ops
from geodl.datasets.rooms.labels import CLASSES, IGNORE_INDEX
from geodl.datasets.rooms.segmentation import (
    DEFAULT_ROOT,
    RoomMeshConfig,
    RoomSample,
    RoomSegmentation,
    segmentation_splits,
)
from geodl.datasets.rooms.standin import room_interior
from geodl.nn import DiffusionOperators
from geodl.nn.models import DiffusionNet
from geodl.render import make_room
from geodl.structures import PinholeCamera
from geodl.viz import Layer, pyplot, save_figure, snapshot

HERE = Path(__file__).resolve().parent
K_EIG = 64
N_HKS = 16
N_FEATURES = 6 + N_HKS
#: class colours for the figures: floor, wall, ceiling, furniture; ignored grey
COLOURS = np.array([[0.55, 0.40, 0.25], [0.55, 0.75, 0.95], [0.95, 0.85, 0.30],
                    [0.85, 0.20, 0.25], [0.6, 0.6, 0.6]])


@dataclass
class Prepared:
    sample: RoomSample
    x: Tensor  # (V, N_FEATURES) float32
    dops: DiffusionOperators
    labels: Tensor


def features(sample: RoomSample, k: int = K_EIG) -> tuple[Tensor, DiffusionOperators]:
    """The (V, 22) features of one room mesh and its DiffusionNet operators."""
    m = sample.mesh
    v = m.verts64
    height = v[:, 2] - torch.quantile(v[:, 2], 0.01)
    xy = v[:, :2] - v[:, :2].median(0).values
    dops = DiffusionOperators.from_mesh(m, k=min(k, m.num_verts - 1))
    evals, evecs = dops.evals[0], dops.evecs
    hks = torch.log(ops.heat_kernel_signature(evals, evecs, N_HKS).clamp_min(1e-12))
    hks = (hks - hks.mean(0)) / hks.std(0).clamp_min(1e-8)
    x = torch.cat([height[:, None], xy, m.vertex_normals, hks], 1)
    return x.float(), dops


class VertexMLP(torch.nn.Module):
    """The baseline: the same features, each vertex on its own."""

    def __init__(self, cin: int, cout: int, width: int = 64) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(cin, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
            torch.nn.ReLU(), torch.nn.Linear(width, width), torch.nn.ReLU(),
            torch.nn.Linear(width, cout))

    def forward(self, x: Tensor, dops: DiffusionOperators | None = None) -> Tensor:
        return self.net(x)


def build(method: str) -> torch.nn.Module:
    if method == "diffusionnet":
        return DiffusionNet(N_FEATURES, len(CLASSES), width=32, n_blocks=4)
    if method == "mlp":
        return VertexMLP(N_FEATURES, len(CLASSES))
    raise ValueError(f"method: expected 'diffusionnet' or 'mlp', got {method!r}")


def train(method: str, seed: int, rooms: list[Prepared], epochs: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build(method)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for i in torch.randperm(len(rooms), generator=gen).tolist():
            r = rooms[i]
            loss = F.cross_entropy(model(r.x, r.dops), r.labels, ignore_index=IGNORE_INDEX)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def confusion(pred: Tensor, labels: Tensor, n: int = len(CLASSES)) -> Tensor:
    """(n, n) counts [true, predicted] over the labelled vertices."""
    keep = labels != IGNORE_INDEX
    return torch.bincount(labels[keep] * n + pred[keep], minlength=n * n).reshape(n, n)


def iou(conf: Tensor) -> list[float]:
    """Per-class IoU = TP / (TP + FP + FN) from a confusion matrix (NaN when
    a class is neither present nor predicted)."""
    tp = conf.diag().double()
    denom = conf.sum(0).double() + conf.sum(1).double() - tp
    return [float(t / d) if d > 0 else math.nan for t, d in zip(tp, denom)]


def evaluate(model: torch.nn.Module, rooms: list[Prepared]) -> tuple[list[float], list[Tensor]]:
    conf = torch.zeros(len(CLASSES), len(CLASSES), dtype=torch.long)
    preds = []
    with torch.no_grad():
        for r in rooms:
            p = model(r.x, r.dops).argmax(1)
            preds.append(p)
            conf += confusion(p, r.labels)
    return iou(conf), preds


def _colours(labels: Tensor) -> np.ndarray:
    lab = labels.numpy().copy()
    lab[lab == IGNORE_INDEX] = len(CLASSES)
    return COLOURS[lab]


def figure(room: Prepared, preds: dict[str, Tensor], path: Path, tmp: Path) -> None:
    """Ground truth and each method's prediction, seen from a high corner of
    the room (its inner box, not the mesh's, which floaters can stretch)."""
    lo, hi = room_interior(make_room(room.sample.seed))
    eye = lo + (hi - lo) * np.array([0.04, 0.06, 0.92])
    target = lo + (hi - lo) * np.array([0.75, 0.8, 0.15])
    cam = PinholeCamera.look_at(eye, target, up=(0, 0, 1), fov_deg=95, width=480, height=360)
    panels = [("ground truth", room.labels)] + [(m, p) for m, p in preds.items()]
    files = []
    for k, (name, lab) in enumerate(panels):
        files.append(snapshot(Layer(room.sample.mesh, colors=_colours(lab), name=name),
                              tmp / f"panel{k}.png", view=cam, width=480, height=360,
                              legend=False))
    plt = pyplot()
    fig, axes = plt.subplots(1, len(files), figsize=(4.8 * len(files), 4.0))
    for ax, f, (name, _) in zip(np.atleast_1d(axes), files, panels):
        ax.imshow(plt.imread(f))
        ax.set_title(name)
        ax.set_axis_off()
    from matplotlib.patches import Patch
    fig.legend(handles=[Patch(color=COLOURS[i], label=c) for i, c in enumerate(CLASSES)]
               + [Patch(color=COLOURS[-1], label="ignored")], loc="lower center",
               ncol=len(CLASSES) + 1)
    fig.suptitle(f"room {room.sample.seed} (benchmark), {room.sample.info['config']['source']}")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default="ground_truth",
                    help="'standin' or a reconstruct_room method (ground_truth, cost_volume)")
    ap.add_argument("--also-test", default="",
                    help="comma-separated further sources of the same benchmark rooms to test "
                         "the trained models on (e.g. cost_volume)")
    ap.add_argument("--train", type=int, default=16, help="training rooms")
    ap.add_argument("--test", type=int, default=8, help="benchmark rooms (1-8)")
    ap.add_argument("--voxel", type=float, default=0.1)
    ap.add_argument("--captures", type=int, default=4)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--grid", type=int, default=5)
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--cluster", type=float, default=0.15,
                    help="coarsen the meshes by vertex clustering with cells of this many "
                         "metres (0: keep the full meshes)")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--methods", default="diffusionnet,mlp")
    ap.add_argument("--cache", default=str(DEFAULT_ROOT))
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads (0: torch's default); 1 is several times faster "
                         "on a machine whose cores are already busy")
    ap.add_argument("--quick", action="store_true",
                    help="tests: stand-in rooms, 2 training, 1 test, 25 cm voxels, 1 seed")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    if args.quick:
        args.source, args.also_test = "standin", ""
        args.train, args.test, args.voxel, args.seeds, args.cluster = 2, 1, 0.25, 1, 0
        args.tolerance = max(args.tolerance, 0.25)
        args.epochs = min(args.epochs, 15)
        args.threads = args.threads or 1  # small graphs: threads cost more than they give
    previous = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return run(args)
    finally:  # a caller (pytest) keeps its own thread count
        torch.set_num_threads(previous)


def run(args: argparse.Namespace) -> dict:
    out = Path(args.out)
    methods = args.methods.split(",")
    config = RoomMeshConfig(args.source, args.voxel, args.captures, args.size, args.grid,
                            args.tolerance, cluster=args.cluster or None)
    t0 = time.perf_counter()
    train_set, test_set = segmentation_splits(args.train, config, args.test, args.cache)
    tests = {args.source: test_set}
    for extra in filter(None, args.also_test.split(",")):
        cfg = RoomMeshConfig(extra, args.voxel, args.captures, args.size, args.grid,
                             args.tolerance, cluster=args.cluster or None)
        tests[extra] = RoomSegmentation(test_set.seeds, cfg, args.cache)
    t_data = time.perf_counter() - t0
    build = train_set.build_seconds + sum(t.build_seconds for t in tests.values())
    prep = lambda s: Prepared(s, *features(s), s.labels)  # noqa: E731
    train_rooms = [prep(s) for s in train_set]
    test_rooms = {name: [prep(s) for s in ds] for name, ds in tests.items()}
    t_feat = time.perf_counter() - t0 - t_data
    results: dict = {"config": config.__dict__, "epochs": args.epochs, "seeds": args.seeds,
                     "train_seeds": train_set.seeds, "test_seeds": test_set.seeds,
                     "verts_per_room": float(np.mean([r.sample.mesh.num_verts
                                                      for r in train_rooms])),
                     "seconds": {"data": t_data, "built": build, "features": t_feat},
                     "skipped": {"train": train_set.skipped,
                                 **{name: ds.skipped for name, ds in tests.items()}},
                     "tests": {}, "methods": {}}
    for name, rooms in test_rooms.items():
        results["tests"][name] = {
            "verts_per_room": float(np.mean([r.sample.mesh.num_verts for r in rooms])),
            "class_counts": tests[name].class_counts().tolist(),
            "ignored_fraction": float(np.mean(np.concatenate(
                [(r.labels == IGNORE_INDEX).numpy() for r in rooms])))}
    preds_first: dict[str, dict[str, Tensor]] = {name: {} for name in test_rooms}
    for method in methods:
        t1 = time.perf_counter()
        runs: dict[str, list] = {name: [] for name in test_rooms}
        for seed in range(args.seeds):
            model = train(method, seed, train_rooms, args.epochs)
            for name, rooms in test_rooms.items():
                ious, preds = evaluate(model, rooms)
                runs[name].append(ious)
                if seed == 0:
                    preds_first[name][method] = preds[0]
        results["methods"][method] = {"seconds": time.perf_counter() - t1}
        for name in test_rooms:
            per_class = np.array(runs[name])  # (seeds, classes)
            results["methods"][method][name] = {"iou": per_class.tolist(),
                                                "miou": np.nanmean(per_class, 1).tolist()}
    results["seconds"]["total"] = time.perf_counter() - t0
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
    print(f"trained on {args.source}: {len(train_rooms)} rooms, "
          f"{results['verts_per_room']:.0f} vertices per room, {args.epochs} epochs, "
          f"{args.seeds} seed(s); IoU % on the benchmark rooms (mean ± std over seeds)")
    for part, skipped in results["skipped"].items():
        for seed, why in skipped:
            print(f"  skipped ({part}) room {seed}: {why}")
    for name in test_rooms:
        t = results["tests"][name]
        print(f"tested on {name}: {len(test_rooms[name])} rooms, {t['verts_per_room']:.0f} "
              f"vertices per room, {100 * t['ignored_fraction']:.1f} % ignored")
        print(f"  {'method':13s}" + "".join(f"{c:>16s}" for c in CLASSES) + f"{'mIoU':>16s}")
        for method, r in results["methods"].items():
            cols = [[100 * row[c] for row in r[name]["iou"]] for c in range(len(CLASSES))]
            cols.append([100 * m for m in r[name]["miou"]])
            print(f"  {method:13s}" + "".join(f"{statistics.mean(c):9.1f} ± {sd(c):4.1f}"
                                              for c in cols))
    print(f"  times: data {t_data:.0f} s (of which building {build:.0f} s), features "
          f"{t_feat:.0f} s, " + ", ".join(f"{m} {r['seconds']:.0f} s"
                                          for m, r in results["methods"].items()))
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / "room_segmentation.json").write_text(json.dumps(results, indent=2))
    tmp = out / "results" / ".room_segmentation_panels"
    tmp.mkdir(exist_ok=True)
    for k, name in enumerate(test_rooms):
        fig_name = "room_segmentation.png" if k == 0 else f"room_segmentation_{name}.png"
        figure(test_rooms[name][0], preds_first[name], out / "figures" / fig_name, tmp)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return results


if __name__ == "__main__":
    main()
