"""Particle physics: top-quark jets vs QCD jets, each jet a point cloud.

Data: the top-tagging fixture (``datasets/jets``; Pythia 8 + FastJet, anti-kT
R=0.8, 550 < pT < 650 GeV, |eta| < 2), split 60/20/20 once (seed 0).
Models (trained from several seeds, best epoch by validation AUC):
  edgeconv  ParticleNet-style: EdgeConv on the (d_eta, d_phi) kNN graph, then
            a DynamicEdgeConv on the learned features, global mean, MLP
  gat       two GATConv layers on the (d_eta, d_phi) kNN graph, mean+max, MLP
  mass      baseline: the jet mass alone, score = -|m - 172.5 GeV|
Metrics on the test set: ROC AUC and background rejection 1/eps_B at signal
efficiencies eps_S = 30 % and 50 %, with the ROC figure.

    .venv/bin/python experiments/jet_tagging.py [--seeds 3] [--epochs 20]
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch
from tqdm import tqdm

from geodl.datasets import TopTagging
from geodl.nn.conv import DynamicEdgeConv, EdgeConv, GATConv
from geodl.nn.pool import global_max_pool, global_mean_pool
from geodl.ops import knn_graph
from geodl.viz import pyplot, save_figure

HERE = Path(__file__).resolve().parent
TOP_MASS = 172.5


def mlp(*sizes: int) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.BatchNorm1d(b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers)


class ParticleNetLite(torch.nn.Module):
    def __init__(self, k: int = 16) -> None:
        super().__init__()
        self.k = k
        self.conv1 = EdgeConv(mlp(14, 32, 32))
        self.conv2 = DynamicEdgeConv(mlp(64, 64, 64), k=k)
        self.head = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                        torch.nn.Dropout(0.1), torch.nn.Linear(64, 2))

    def forward(self, b: Batch) -> torch.Tensor:
        ei = knn_graph(b.pos, self.k, b.batch)
        h = self.conv1(b.x, ei)
        h = self.conv2(h, b.batch)
        return self.head(global_mean_pool(h, b.batch))


class JetGAT(torch.nn.Module):
    def __init__(self, k: int = 16) -> None:
        super().__init__()
        self.k = k
        self.c1 = GATConv(7, 16, heads=4)
        self.c2 = GATConv(64, 16, heads=4)
        self.head = torch.nn.Sequential(torch.nn.Linear(128, 64), torch.nn.ReLU(),
                                        torch.nn.Linear(64, 2))

    def forward(self, b: Batch) -> torch.Tensor:
        ei = knn_graph(b.pos, self.k, b.batch)
        h = F.elu(self.c2(F.elu(self.c1(b.x, ei)), ei))
        return self.head(torch.cat([global_mean_pool(h, b.batch),
                                    global_max_pool(h, b.batch)], 1))


def roc_metrics(labels: np.ndarray, scores: np.ndarray) -> dict:
    """AUC, rejection 1/eps_B at eps_S = 0.3 and 0.5, and the curve."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    rejection = {}
    for eff in (30, 50):
        eps_b = float(np.interp(eff / 100, tpr, fpr))
        rejection[f"rejection_at_{eff}"] = 1.0 / eps_b if eps_b > 0 else float("inf")
    return {"auc": float(roc_auc_score(labels, scores)), **rejection,
            "tpr": tpr.tolist(), "fpr": fpr.tolist()}


def predict(model: torch.nn.Module, data: list, batch_size: int = 256) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(data), batch_size):
            b = Batch.from_data_list(data[s:s + batch_size])
            out.append(torch.softmax(model(b), 1)[:, 1])
    return torch.cat(out).numpy()


def train(name: str, seed: int, train_set: list, val_set: list, epochs: int,
          batch_size: int = 128) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = ParticleNetLite() if name == "edgeconv" else JetGAT()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    y_val = np.array([int(d.y) for d in val_set])
    best, best_state = -1.0, None
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(train_set), generator=gen).tolist()
        for s in range(0, len(perm), batch_size):
            b = Batch.from_data_list([train_set[i] for i in perm[s:s + batch_size]])
            loss = F.cross_entropy(model(b), b.y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        auc = roc_metrics(y_val, predict(model, val_set))["auc"]
        if auc > best:
            best, best_state = auc, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model


def plot(curves: dict, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for name, m in curves.items():
        tpr, fpr = np.array(m["tpr"]), np.array(m["fpr"])
        ok = fpr > 0
        ax.plot(tpr[ok], 1 / fpr[ok], label=f"{name} (AUC {m['auc']:.3f})")
    ax.axvline(0.3, color="0.6", lw=1, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("signal efficiency eps_S (top)")
    ax.set_ylabel("background rejection 1/eps_B (QCD)")
    ax.set_title("Top tagging, test set")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--models", default="edgeconv,gat")
    ap.add_argument("--data", default=None, help="an .npz like the fixture (default: fixture)")
    ap.add_argument("--limit", type=int, default=0, help="use only this many jets")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    out = Path(args.out)
    ds = TopTagging(args.data)
    tr, va, te = ds.split((0.6, 0.2, 0.2), seed=0)
    if args.limit:
        tr, va, te = (a[:max(1, args.limit * len(a) // len(ds))] for a in (tr, va, te))
    train_set, val_set, test_set = ds.data_list(tr), ds.data_list(va), ds.data_list(te)
    y_test = ds.labels[te]
    results = {"mass": roc_metrics(y_test, -np.abs(ds.mass[te] - TOP_MASS))}
    keys = ("auc", "rejection_at_30", "rejection_at_50")
    summary = {"mass": {k: [results["mass"][k]] for k in keys}}
    jobs = [(n, s) for n in args.models.split(",") for s in range(args.seeds)]
    for name, seed in tqdm(jobs, desc="training", disable=None):
        m = roc_metrics(y_test, predict(train(name, seed, train_set, val_set, args.epochs),
                                        test_set))
        summary.setdefault(name, {k: [] for k in keys})
        for k in keys:
            summary[name][k].append(m[k])
        if seed == 0:
            results[name] = m
    print(f"\n{len(tr)} train / {len(va)} val / {len(te)} test jets, {args.epochs} epochs")
    print("| model | ROC AUC | 1/eps_B at eps_S = 30 % | 1/eps_B at eps_S = 50 % |\n"
          "|---|---|---|---|")
    for name, s in summary.items():
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        print(f"| {name} | {statistics.mean(s['auc']):.4f} ± {sd(s['auc']):.4f} | "
              f"{statistics.mean(s['rejection_at_30']):.1f} ± {sd(s['rejection_at_30']):.1f} | "
              f"{statistics.mean(s['rejection_at_50']):.1f} ± {sd(s['rejection_at_50']):.1f} |")
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / "jet_tagging.json").write_text(json.dumps(
        {"summary": summary, "n_train": len(tr), "n_test": len(te), "epochs": args.epochs},
        indent=2))
    plot(results, out / "figures" / "jet_roc.png")
    return summary


if __name__ == "__main__":
    main()
