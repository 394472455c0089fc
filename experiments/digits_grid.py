"""The grid CNN, generalised: 8x8 handwritten digits (scikit-learn, offline).

Models, each trained from 5 seeds on the same stratified 80/20 split:
  (a) cnn          a plain grid CNN (two 3x3 conv + 2x2 max-pool stages)
  (b) chebnet      ChebNet (K=3) on the 8x8 grid graph, Graclus binary-tree pooling
  (c) spectral     SpectralConv (Bruna et al.) on the grid graph's full eigenbasis
  (d) chebnet_irr  ChebNet on an irregular random 70 % of each image's pixels
                   (a different kNN graph per image), global pooling
  (e) spectral_irr SpectralConv on the same irregular graphs, per-graph eigenbases
The grid CNN cannot run on (d)/(e): there is no grid.

    .venv/bin/python experiments/digits_grid.py [--seeds 5] [--epochs 40]

Writes experiments/results/digits_grid.json, a Markdown table on stdout and
experiments/figures/digits_filters.png (learned first-layer filters).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import get_laplacian, scatter, to_undirected
from tqdm import tqdm

from geodl import ops
from geodl.nn.conv import ChebConv, SpectralConv
from geodl.nn.pool import BinaryTreePool, GraclusPyramid
from geodl.viz import pyplot, save_figure

HERE = Path(__file__).resolve().parent
SIDE = 8


# ------------------------------------------------------------------------ data
def load_digits_split(seed: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(x_train (n, 8, 8) in [0, 1], y_train, x_test, y_test), stratified 80/20."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    tr, te = train_test_split(np.arange(len(y)), test_size=0.2, stratify=d.target,
                              random_state=seed)
    return x[tr], y[tr], x[te], y[te]


def sym_eigenbasis(edge_index: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """Full eigenbasis of the symmetric normalised Laplacian (spectrum in [0, 2])."""
    ei, w = get_laplacian(edge_index, None, "sym", torch.float64, n)
    L = torch.zeros(n, n, dtype=torch.float64).index_put_((ei[0], ei[1]), w, accumulate=True)
    evals, evecs = torch.linalg.eigh(L)
    return evals.float(), evecs.float()


class IrregularDigits:
    """Each image keeps a random 70 % of its pixels (fixed per image); its
    graph joins each kept pixel to its 6 nearest kept pixels (symmetrised).
    Node features: intensity and the pixel's (row, column) scaled to [0, 1]:
    isotropic graph filters cannot tell up from down, so position must be input."""

    def __init__(self, images: Tensor, keep: float = 0.7, k: int = 6, seed: int = 1234) -> None:
        g = torch.Generator().manual_seed(seed)
        rr, cc = torch.meshgrid(torch.arange(SIDE), torch.arange(SIDE), indexing="ij")
        coords = torch.stack([rr.reshape(-1), cc.reshape(-1)], 1).float()
        self.graphs = []
        for img in images:
            sel = torch.sort(torch.randperm(SIDE * SIDE, generator=g)[:round(keep * SIDE * SIDE)]).values
            # a tiny jitter breaks the grid's distance ties deterministically
            pos = coords[sel] + 1e-3 * torch.randn(len(sel), 2, generator=g)
            ei = to_undirected(ops.knn_graph(pos, k))
            evals, evecs = sym_eigenbasis(ei, len(sel))
            feats = torch.cat([img.reshape(-1)[sel, None], coords[sel] / (SIDE - 1)], 1)
            self.graphs.append((feats, ei, evals, evecs))

    def batch(self, idx: Tensor):
        xs, eis, evals, evecs, batch = [], [], [], [], []
        off = 0
        for b, i in enumerate(idx.tolist()):
            x, ei, ev, U = self.graphs[i]
            xs.append(x), eis.append(ei + off), evals.append(ev[None]), evecs.append(U)
            batch.append(torch.full((x.shape[0],), b, dtype=torch.long))
            off += x.shape[0]
        return (torch.cat(xs), torch.cat(eis, 1), torch.cat(evals), torch.cat(evecs),
                torch.cat(batch))


# ---------------------------------------------------------------------- models
class GridCNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.fc = torch.nn.Linear(32 * 2 * 2, 10)

    def forward(self, img: Tensor) -> Tensor:
        h = F.max_pool2d(F.relu(self.c1(img[:, None])), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return self.fc(h.flatten(1))


class ChebNetGraclus(torch.nn.Module):
    """ChebConv -> ReLU -> binary-tree pool, twice, on the coarsened grid graph."""

    def __init__(self, pyramid: GraclusPyramid, K: int = 3) -> None:
        super().__init__()
        self.pyr = pyramid
        self.c1 = ChebConv(1, 16, K)
        self.c2 = ChebConv(16, 32, K)
        self.pool = BinaryTreePool("max")
        self.fc = torch.nn.Linear(32 * pyramid.num_nodes[2], 10)

    def forward(self, img: Tensor) -> Tensor:
        b = img.shape[0]
        x = self.pyr.permute(img.reshape(b, -1, 1)).reshape(-1, 1)
        e0, _ = self.pyr.batched_edges(0, b)
        h = self.pool(F.relu(self.c1(x, e0)))
        e1, w1 = self.pyr.batched_edges(1, b)
        h = self.pool(F.relu(self.c2(h, e1, w1.float())))
        return self.fc(h.reshape(b, -1))


class SpectralGridNet(torch.nn.Module):
    """Two SpectralConv layers on the grid's eigenbasis, then a linear readout."""

    def __init__(self, evals: Tensor, evecs: Tensor) -> None:
        super().__init__()
        self.register_buffer("evals", evals)
        self.register_buffer("evecs", evecs)
        self.c1 = SpectralConv(1, 16, num_coeffs=12, freq_max=2.0)
        self.c2 = SpectralConv(16, 32, num_coeffs=12, freq_max=2.0)
        self.fc = torch.nn.Linear(32 * SIDE * SIDE, 10)

    def forward(self, img: Tensor) -> Tensor:
        b = img.shape[0]
        n = SIDE * SIDE
        x = img.reshape(b * n, 1)
        U = self.evecs.repeat(b, 1)
        batch = torch.arange(b).repeat_interleave(n)
        h = F.relu(self.c1(x, U, self.evals, batch=batch))
        h = F.relu(self.c2(h, U, self.evals, batch=batch))
        return self.fc(h.reshape(b, -1))


class IrregularNet(torch.nn.Module):
    """Three graph convolutions (Cheb or spectral) and a global mean+max readout."""

    def __init__(self, kind: str, widths: tuple[int, ...] = (3, 32, 64, 64)) -> None:
        super().__init__()
        self.kind = kind
        pairs = list(zip(widths, widths[1:]))
        if kind == "cheb":
            self.convs = torch.nn.ModuleList([ChebConv(a, b, 4) for a, b in pairs])
        else:
            self.convs = torch.nn.ModuleList(
                [SpectralConv(a, b, num_coeffs=12, freq_max=2.0) for a, b in pairs])
        self.fc = torch.nn.Sequential(torch.nn.Linear(2 * widths[-1], 64), torch.nn.ReLU(),
                                      torch.nn.Linear(64, 10))

    def forward(self, x, ei, evals, evecs, batch) -> Tensor:
        h = x
        for conv in self.convs:
            h = F.relu(conv(h, ei) if self.kind == "cheb" else
                       conv(h, evecs, evals, batch=batch))
        n = int(batch.max()) + 1
        return self.fc(torch.cat([scatter(h, batch, 0, n, "mean"), scatter(h, batch, 0, n, "max")], 1))


# -------------------------------------------------------------------- training
def train_and_test(name: str, seed: int, data, epochs: int, lr: float = 3e-3,
                   batch_size: int = 64) -> float:
    xtr, ytr, xte, yte, pyramid, grid_basis, irr_tr, irr_te = data
    torch.manual_seed(seed)
    model = {"cnn": lambda: GridCNN(),
             "chebnet": lambda: ChebNetGraclus(pyramid),
             "spectral": lambda: SpectralGridNet(*grid_basis),
             "chebnet_irr": lambda: IrregularNet("cheb"),
             "spectral_irr": lambda: IrregularNet("spectral")}[name]()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    irregular = name.endswith("_irr")
    gen = torch.Generator().manual_seed(seed)

    def logits(idx: Tensor, train: bool) -> Tensor:
        if irregular:
            return model(*(irr_tr if train else irr_te).batch(idx))
        return model((xtr if train else xte)[idx])

    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(ytr), generator=gen)
        for s in range(0, len(perm), batch_size):
            idx = perm[s:s + batch_size]
            loss = F.cross_entropy(logits(idx, True), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(yte), 256):
            idx = torch.arange(s, min(s + 256, len(yte)))
            correct += int((logits(idx, False).argmax(1) == yte[idx]).sum())
    filters[(name, seed)] = model
    return correct / len(yte)


filters: dict = {}


def save_filter_figure(path: Path) -> None:
    """First-layer filters: CNN 3x3 kernels, and each ChebNet filter's response
    to a unit impulse at pixel (3, 3) of the grid graph (its K-1 = 2-hop stencil)."""
    plt = pyplot()
    cnn = next(m for (n, _), m in filters.items() if n == "cnn")
    cheb = next(m for (n, _), m in filters.items() if n == "chebnet")
    ei = ops.grid_graph(SIDE, SIDE)
    delta = torch.zeros(SIDE * SIDE, 1)
    delta[3 * SIDE + 3] = 1.0
    with torch.no_grad():
        resp = (cheb.c1(delta, ei) - cheb.c1.bias).reshape(SIDE, SIDE, -1)
    fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
    for i in range(8):
        w = cnn.c1.weight[i, 0].detach().numpy()
        axes[0, i].imshow(w, cmap="RdBu_r", vmin=-abs(w).max(), vmax=abs(w).max())
        r = resp[..., i].numpy()
        axes[1, i].imshow(r, cmap="RdBu_r", vmin=-abs(r).max(), vmax=abs(r).max())
        for ax in axes[:, i]:
            ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].set_ylabel("grid CNN\n3x3 kernel")
    axes[1, 0].set_ylabel("ChebNet K=3\nimpulse response")
    fig.suptitle("Learned first-layer filters: the Chebyshev filters are 2-hop stencils on the grid graph")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--models", default="cnn,chebnet,spectral,chebnet_irr,spectral_irr")
    ap.add_argument("--limit", type=int, default=0, help="use only this many training images")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    out = Path(args.out)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    xtr, ytr, xte, yte = load_digits_split(0)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    grid = ops.grid_graph(SIDE, SIDE)
    pyramid = GraclusPyramid.build(grid, None, SIDE * SIDE, levels=2, seed=0)
    data = (xtr, ytr, xte, yte, pyramid, sym_eigenbasis(grid, SIDE * SIDE),
            IrregularDigits(xtr, seed=1), IrregularDigits(xte, seed=2))
    names = args.models.split(",")
    results: dict[str, list[float]] = {n: [] for n in names}
    t0 = time.perf_counter()
    jobs = [(n, s) for n in names for s in range(args.seeds)]
    for name, seed in tqdm(jobs, desc="training", disable=None):
        results[name].append(train_and_test(name, seed, data, args.epochs))
    summary = {n: {"mean": statistics.mean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                   "runs": v} for n, v in results.items()}
    print(f"\n| model | test accuracy (mean ± std over {args.seeds} seeds) |\n|---|---|")
    for n, s in summary.items():
        print(f"| {n} | {100 * s['mean']:.2f} ± {100 * s['std']:.2f} % |")
    print(f"\n({time.perf_counter() - t0:.0f} s, {args.epochs} epochs, "
          f"{len(ytr)} train / {len(yte)} test images)")
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / "digits_grid.json").write_text(json.dumps(
        {"epochs": args.epochs, "seeds": args.seeds, "train": len(ytr), "test": len(yte),
         "results": summary}, indent=2))
    if "cnn" in names and "chebnet" in names:
        save_filter_figure(out / "figures" / "digits_filters.png")
    return summary


if __name__ == "__main__":
    main()
