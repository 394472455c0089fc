"""Social networks: semi-supervised node classification on graphs.

1. Zachary's karate club (networkx): predict each member's club after the
   split from ONE labelled member per community (the instructor, node 0, and
   the officer, node 33). GCN and GAT on one-hot node features, against
   unsupervised spectral bisection (sign of the normalised Laplacian's Fiedler
   vector). Accuracy on the other 32 members, mean ± std over 10 seeds.
2. Two-community stochastic block models (2 x 200 nodes, mean degree 10) as
   the in/out edge ratio c_in/c_out shrinks towards 1; 10 labelled nodes per
   community. GCN vs spectral bisection, 5 graphs per ratio, with the
   Kesten-Stigum detectability threshold (c_in - c_out)^2 = 2 (c_in + c_out)
   marked: below it no algorithm beats chance in the large-graph limit.

    .venv/bin/python experiments/social_networks.py [--seeds 10]

Writes experiments/results/social_networks.json and
experiments/figures/sbm_accuracy.png.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import networkx as nx
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from geodl import ops
from geodl.nn.conv import GATConv, GCNConv
from geodl.structures import from_networkx
from geodl.viz import pyplot, save_figure

HERE = Path(__file__).resolve().parent


class GCN(torch.nn.Module):
    def __init__(self, cin: int, hidden: int = 16, classes: int = 2) -> None:
        super().__init__()
        self.c1, self.c2 = GCNConv(cin, hidden, cached=True), GCNConv(hidden, classes, cached=True)

    def forward(self, x: Tensor, ei: Tensor) -> Tensor:
        return self.c2(F.dropout(F.relu(self.c1(x, ei)), 0.5, self.training), ei)


class GAT(torch.nn.Module):
    def __init__(self, cin: int, hidden: int = 4, heads: int = 4, classes: int = 2) -> None:
        super().__init__()
        self.c1 = GATConv(cin, hidden, heads=heads, dropout=0.2)
        self.c2 = GATConv(hidden * heads, classes, heads=1)

    def forward(self, x: Tensor, ei: Tensor) -> Tensor:
        return self.c2(F.elu(self.c1(x, ei)), ei)


def train_semi_supervised(model: torch.nn.Module, x: Tensor, ei: Tensor, y: Tensor,
                          labelled: Tensor, epochs: int = 200) -> Tensor:
    """Train on the labelled nodes only; return predictions for all nodes."""
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for _ in range(epochs):
        model.train()
        loss = F.cross_entropy(model(x, ei)[labelled], y[labelled])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return model(x, ei).argmax(1)


def spectral_bisection(ei: Tensor, n: int, y: Tensor, labelled: Tensor) -> Tensor:
    """Sign of the Fiedler vector of the symmetric normalised Laplacian, the
    two halves named after the majority label of their labelled nodes."""
    L = ops.graph_laplacian(ei, num_nodes=n, normalization="sym").to_dense()
    _, vecs = torch.linalg.eigh(L)
    side = (vecs[:, 1] > 0).long()
    agree = (side[labelled] == y[labelled]).float().mean()
    return side if agree >= 0.5 else 1 - side


def accuracy(pred: Tensor, y: Tensor, mask: Tensor) -> float:
    return float((pred[mask] == y[mask]).float().mean())


def karate(seeds: int) -> dict:
    g = nx.karate_club_graph()
    data = from_networkx(g, node_attrs=["club"])
    n = g.number_of_nodes()
    y = torch.tensor([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(n)])
    labelled = torch.tensor([0, 33])
    unlabelled = torch.ones(n, dtype=torch.bool)
    unlabelled[labelled] = False
    x = torch.eye(n)
    out = {}
    for name, make in [("GCN", lambda: GCN(n)), ("GAT", lambda: GAT(n))]:
        accs = []
        for seed in range(seeds):
            torch.manual_seed(seed)
            accs.append(accuracy(train_semi_supervised(make(), x, data.edge_index, y, labelled),
                                 y, unlabelled))
        out[name] = accs
    out["spectral bisection"] = [accuracy(spectral_bisection(data.edge_index, n, y, labelled),
                                          y, unlabelled)]
    return out


def sbm(ratios: list[float], graphs: int, n_per: int = 200, mean_degree: float = 10.0,
        n_labelled: int = 10) -> dict:
    results = {"ratio": ratios, "GCN": [], "spectral bisection": [], "ks_ratio": None}
    c = mean_degree
    # Kesten-Stigum: (c_in - c_out)^2 = 2 (c_in + c_out) = 4c, with c_in + c_out = 2c
    # -> c_in - c_out = 2 sqrt(c), c_in = c + sqrt(c), c_out = c - sqrt(c)
    results["ks_ratio"] = (c + math.sqrt(c)) / (c - math.sqrt(c))
    for r in ratios:
        c_out = 2 * c / (1 + r)
        c_in = r * c_out
        p_in, p_out = c_in / n_per, c_out / n_per
        gcn, spec = [], []
        for seed in range(graphs):
            g = nx.stochastic_block_model([n_per, n_per], [[p_in, p_out], [p_out, p_in]],
                                          seed=seed)
            data = from_networkx(g)
            n = 2 * n_per
            y = torch.cat([torch.zeros(n_per), torch.ones(n_per)]).long()
            rng = np.random.default_rng(seed)
            labelled = torch.tensor(np.concatenate([rng.choice(n_per, n_labelled, replace=False),
                                                    n_per + rng.choice(n_per, n_labelled, replace=False)]))
            mask = torch.ones(n, dtype=torch.bool)
            mask[labelled] = False
            torch.manual_seed(seed)
            gcn.append(accuracy(train_semi_supervised(GCN(n), torch.eye(n), data.edge_index, y,
                                                      labelled), y, mask))
            spec.append(accuracy(spectral_bisection(data.edge_index, n, y, labelled), y, mask))
        results["GCN"].append(gcn)
        results["spectral bisection"].append(spec)
    return results


def plot_sbm(res: dict, path: Path) -> None:
    plt = pyplot()
    r = np.array(res["ratio"])
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, marker in (("GCN", "o"), ("spectral bisection", "s")):
        acc = np.array(res[name])
        ax.errorbar(r, acc.mean(1), yerr=acc.std(1), marker=marker, capsize=3, label=name)
    ax.axvline(res["ks_ratio"], color="k", ls="--", lw=1,
               label=f"Kesten-Stigum threshold ({res['ks_ratio']:.2f})")
    ax.axhline(0.5, color="0.6", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("c_in / c_out (in/out edge ratio)")
    ax.set_ylabel("accuracy on unlabelled nodes")
    ax.set_title("Two-community SBM, 400 nodes, mean degree 10")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="karate: training seeds")
    ap.add_argument("--graphs", type=int, default=5, help="SBM: graphs per ratio")
    ap.add_argument("--ratios", default="20,10,6,4,3,2.5,2,1.6,1.3,1")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    out = Path(args.out)
    k = karate(args.seeds)
    print("Zachary's karate club, one labelled member per community "
          f"(accuracy on the other 32, {args.seeds} seeds):")
    for name, accs in k.items():
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        print(f"  {name:20s} {100 * statistics.mean(accs):6.2f} ± {100 * sd:.2f} %")
    s = sbm([float(v) for v in args.ratios.split(",")], args.graphs)
    print(f"\nSBM 2 x 200 nodes, mean degree 10, 10 labels per community, {args.graphs} graphs "
          f"per ratio (Kesten-Stigum threshold at c_in/c_out = {s['ks_ratio']:.2f}):")
    print("  c_in/c_out   GCN               spectral bisection")
    for i, r in enumerate(s["ratio"]):
        a, b = np.array(s["GCN"][i]), np.array(s["spectral bisection"][i])
        print(f"  {r:9.2f}   {100 * a.mean():5.1f} ± {100 * a.std():4.1f} %   "
              f"{100 * b.mean():5.1f} ± {100 * b.std():4.1f} %")
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / "social_networks.json").write_text(json.dumps({"karate": k, "sbm": s},
                                                                     indent=2))
    plot_sbm(s, out / "figures" / "sbm_accuracy.png")
    return {"karate": k, "sbm": s}


if __name__ == "__main__":
    main()
