r"""Exact k-nearest-neighbour and radius graphs, for any distribution of points.

PyG's ``knn_graph``/``radius_graph`` need ``torch-cluster``, which cannot be
installed everywhere; these need torch and scipy. Output follows PyG:
``edge_index`` is (2, E) with ``edge_index[0]`` the neighbour (source) and
``edge_index[1]`` the centre (target) for ``flow="source_to_target"``.
Edges come sorted by centre, then by distance, ties by the smaller index;
distances are :math:`\sum_d (x_d - y_d)^2` evaluated in float64 whatever the
input's dtype, so the result equals a float64 brute force exactly.

The method is chosen per input (each graph of a batch on its own):

* **k-d tree** (D <= 3, not tiny): scipy's ``cKDTree`` on every core, made
  exact for ties (:mod:`geodl.ops.kdtree_neighbors`). A tree adapts to the
  data, so far outliers, mixed scales, lines and spheres cost what uniform
  points cost (a grid with one cell size, fitted to the bounding box, did
  not: one outlier took 2M points from 40 s to over 280 s).
* **padded brute force** (many small graphs, e.g. a PyG batch of jets):
  every graph padded to the largest and all pairwise distances at once,
  which beats one tree per graph when graphs hold a few hundred points.
* **brute force** (D > 3, or tiny): chunked :math:`\|y\|^2 - 2y^\top x +
  \|x\|^2` with ``topk`` for candidates, exact distances for the ranking.

Memory is bounded by processing queries in chunks of at most ``budget``
candidate distances.

Squared distances live in float64's range: points are first scaled by a
power of two (exact) when their largest coordinate is beyond
:math:`2^{\pm 400}`, so nothing overflows; a point set whose differences
span more orders of magnitude than squared float64 resolves (e.g. from
:math:`10^{-300}` to :math:`10^{300}`) is refused where a neighbour's
squared distance underflows, never answered with ties that are not there.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from geodl.ops.kdtree_neighbors import as_float64_numpy, tree_knn, tree_radius
from geodl.ops.validation import check_batch, check_points, check_positive

_BUDGET = 1 << 22  # candidate distances per chunk (~32 MB in float64)


def _prep(x, y, batch_x, batch_y) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    same = y is x
    # the searches run on the CPU (scipy); results go back to the input's device
    x = check_points(x, "x", dim=None).detach().cpu()
    y = x if same else check_points(y, "y", dim=None).detach().cpu()
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y: feature dimensions differ ({x.shape[1]} vs {y.shape[1]})")
    if y.dtype != x.dtype:
        y = y.to(x.dtype)
    bx = torch.zeros(x.shape[0], dtype=torch.long) if batch_x is None else check_batch(
        batch_x, x.shape[0], "batch_x").cpu()
    by = torch.zeros(y.shape[0], dtype=torch.long) if batch_y is None else check_batch(
        batch_y, y.shape[0], "batch_y").cpu()
    return x, y, bx, by


def _device(x) -> torch.device:
    return x.device if isinstance(x, Tensor) else torch.device("cpu")


def _sqdist(a: Tensor, b: Tensor) -> Tensor:
    return ((a - b) ** 2).sum(-1)


# --------------------------------------------------------------------- brute
def _rank(d: Tensor, idx: Tensor) -> tuple[Tensor, Tensor]:
    """Sort each row by (distance, index): a deterministic tie-break."""
    o1 = idx.argsort(dim=1, stable=True)
    o2 = d.gather(1, o1).argsort(dim=1, stable=True)
    order = o1.gather(1, o2)
    return d.gather(1, order), order


def _brute_knn(x: Tensor, y: Tensor, k: int) -> tuple[Tensor, Tensor]:
    r"""(M, k) neighbour indices and exact squared distances, one batch, float64.

    Candidates come from the matmul form :math:`\|y\|^2 - 2y^\top x +
    \|x\|^2` (fast, but it loses digits); their exact distances are then
    ranked by (distance, index). A row is settled when its k-th exact
    distance is below the smallest matmul distance left out minus that
    form's error bound (no point left out can tie or beat it); other rows
    (ties at the k-th place) are ranked over every point.
    """
    n, dim = x.shape
    spare = min(n, k + max(4, k // 2))
    xx = (x * x).sum(1)
    # rounding error bound of the matmul form: a few ulps of the norms involved
    unit = 4.0 * (dim + 2) * torch.finfo(torch.float64).eps
    out_i, out_d = [], []
    step = max(1, _BUDGET // max(1, n))
    for s in range(0, y.shape[0], step):
        yq = y[s:s + step]
        yy = (yq * yq).sum(1, keepdim=True)
        d = yy - 2.0 * yq @ x.T + xx
        cand_d, cand = d.topk(spare, dim=1, largest=False)
        exact, order = _rank(_sqdist(yq[:, None, :], x[cand]), cand)
        idx = cand.gather(1, order)
        if spare < n:
            err = unit * (yy[:, 0] + xx.max())
            unsure = (exact[:, k - 1] >= cand_d[:, -1] - err).nonzero().flatten()
            for r in unsure.tolist():  # rare: a tie at the k-th place
                full, o = _rank(_sqdist(yq[r], x)[None], torch.arange(n)[None])
                exact[r, :k], idx[r, :k] = full[0, :k], o[0, :k]
        out_i.append(idx[:, :k])
        out_d.append(exact[:, :k])
    return torch.cat(out_i), torch.cat(out_d)


# ------------------------------------------------------------------- batches
class _Groups:
    """The points of each graph id: ``x[ox[sx[b]:sx[b] + cx[b]]]`` (same for y)."""

    def __init__(self, bx: Tensor, by: Tensor) -> None:
        nb = int(max(int(bx.max()), int(by.max()))) + 1
        self.num = nb
        self.cx = torch.bincount(bx, minlength=nb)
        self.cy = torch.bincount(by, minlength=nb)
        self.ox = torch.argsort(bx, stable=True)
        self.oy = torch.argsort(by, stable=True)
        self.sx = torch.cumsum(self.cx, 0) - self.cx
        self.sy = torch.cumsum(self.cy, 0) - self.cy
        self.bx, self.by = bx, by

    def small(self) -> bool:
        """Padded brute force pays: every graph is small and padding wastes little."""
        mx, my = int(self.cx.max()), int(self.cy.max())
        work = int((self.cx * self.cy).sum())
        return mx * my <= 1 << 18 and self.num * mx * my <= 4 * work + (1 << 16)

    def members(self, b: int) -> tuple[Tensor, Tensor]:
        sx, cx, sy, cy = int(self.sx[b]), int(self.cx[b]), int(self.sy[b]), int(self.cy[b])
        return self.ox[sx:sx + cx], self.oy[sy:sy + cy]

    def padded(self, t: Tensor, which: str) -> tuple[Tensor, Tensor, Tensor]:
        """(B, S, D) points of each graph (padded with 0), (B, S) original
        indices (-1 = padding) and (B, S) validity."""
        o, s, c, b = ((self.ox, self.sx, self.cx, self.bx) if which == "x"
                      else (self.oy, self.sy, self.cy, self.by))
        smax = int(c.max())
        bs = b[o]
        slot = torch.arange(o.numel()) - s[bs]
        pts = torch.zeros(self.num, smax, t.shape[1], dtype=t.dtype)
        pts[bs, slot] = t[o]
        ids = torch.full((self.num, smax), -1, dtype=torch.long)
        ids[bs, slot] = o
        return pts, ids, ids >= 0


def _padded_sqdist(yq: Tensor, xq: Tensor) -> Tensor:
    """(B, Sy, Sx) exact squared distances, one coordinate at a time."""
    d = None
    for a in range(xq.shape[2]):
        t = yq[:, :, None, a] - xq[:, None, :, a]
        t = t * t
        d = t if d is None else d + t
    return d


def _padded_chunks(g: _Groups, x: Tensor, y: Tensor):
    """Yield (y ids, x ids, exact squared distances with inf at padding)
    for chunks of graphs, each (b, Sy, Sx) within the memory budget."""
    X, XI, XV = g.padded(x, "x")
    Y, YI, YV = g.padded(y, "y")
    per = max(1, _BUDGET // max(1, X.shape[1] * Y.shape[1]))
    for s in range(0, g.num, per):
        d = _padded_sqdist(Y[s:s + per], X[s:s + per])
        d.masked_fill_(~XV[s:s + per, None, :], math.inf)
        yield YI[s:s + per], YV[s:s + per], XI[s:s + per], d


def _padded_knn(g: _Groups, x: Tensor, y: Tensor, k: int, m: int):
    idx = torch.zeros(m, k, dtype=torch.long)
    dist = torch.full((m, k), math.inf, dtype=torch.float64)
    for yi, yv, xi, d in _padded_chunks(g, x, y):
        b, sy, sx = d.shape
        kk = min(k, sx)
        ids = xi[:, None, :].expand(b, sy, sx).reshape(b * sy, sx)
        dd, order = _rank(d.reshape(b * sy, sx), ids)  # full sort: every S is small
        rows = yv.reshape(-1)
        q = yi.reshape(-1)[rows]
        idx[q, :kk] = ids.gather(1, order[:, :kk])[rows]
        dist[q, :kk] = dd[:, :kk][rows]
    return idx, dist


# ------------------------------------------------------------------ dispatch
def _single_knn(x: Tensor, y: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """One graph: a k-d tree in low dimension unless tiny, else brute force."""
    if x.shape[1] <= 3 and x.shape[0] * y.shape[0] > 1 << 16:
        xn = as_float64_numpy(x)
        yn = xn if y is x else as_float64_numpy(y)
        i, d = tree_knn(xn, yn, k)
        return torch.from_numpy(i), torch.from_numpy(d)
    return _brute_knn(x, y, k)


def knn(x: Tensor, y: Tensor, k: int, batch_x: Tensor | None = None,
        batch_y: Tensor | None = None) -> Tensor:
    """For each row of ``y`` the ``k`` nearest rows of ``x`` (same batch).

    Args:
        x: (N, D) points searched. y: (M, D) queries.
        k: neighbours per query; fewer are returned where a batch has fewer points.
        batch_x, batch_y: (N,), (M,) graph ids (PyG batch vectors).

    Returns:
        (2, E) long: ``[query index in y, neighbour index in x]`` like PyG's ``knn``.
    """
    idx, dist = _knn_table(x, y, k, batch_x, batch_y)
    return _table_to_pairs(idx, dist).to(_device(x))


def _table_to_pairs(idx: Tensor, dist: Tensor) -> Tensor:
    ok = torch.isfinite(dist)
    rows = torch.arange(idx.shape[0])[:, None].expand_as(idx)
    return torch.stack([rows[ok], idx[ok]])


def _knn_table(x, y, k, batch_x, batch_y) -> tuple[Tensor, Tensor]:
    """(M, min(k, N)) neighbour indices and float64 squared distances; rows of
    queries whose graph has fewer points are padded with inf."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive int, got {k!r}")
    same = y is x and batch_y is batch_x
    x, y, bx, by = _prep(x, y, batch_x, batch_y)
    x = x.detach().to(torch.float64)
    y = x if same else y.detach().to(torch.float64)
    m, n = y.shape[0], x.shape[0]
    if m == 0 or n == 0:
        return torch.zeros(m, 0, dtype=torch.long), torch.zeros(m, 0, dtype=torch.float64)
    k_eff = min(k, n)
    x0, y0 = x, y
    x, y = _in_safe_range(x, y, same)
    idx, dist = _knn_by_method(x, y, k_eff, m, bx, by, batch_x is None and batch_y is None, same)
    _check_resolved(x0, y0, idx, dist)
    return idx, dist


def _in_safe_range(x: Tensor, y: Tensor, same: bool) -> tuple[Tensor, Tensor]:
    """``x`` and ``y`` times one power of two that brings their largest
    coordinate near 1 when it lies beyond 2^400 or below 2^-400 (where the
    squares of differences could overflow or underflow); else unchanged."""
    big = max(float(x.abs().max()), float(y.abs().max()))
    if big == 0 or 2.0 ** -400 <= big <= 2.0 ** 400:
        return x, y
    shift = -math.frexp(big)[1]
    x = torch.ldexp(x, torch.tensor(float(shift), dtype=torch.float64))
    return x, x if same else torch.ldexp(y, torch.tensor(float(shift), dtype=torch.float64))


def _check_resolved(x: Tensor, y: Tensor, idx: Tensor, dist: Tensor) -> None:
    """``ValueError`` when a neighbour's squared distance underflowed (below
    the smallest normal float64) although it is another point: the ranking
    among such neighbours is not known."""
    tiny = torch.finfo(torch.float64).tiny
    low = (dist < tiny).nonzero()
    if low.numel() == 0:
        return
    rows, cols = low[:, 0], low[:, 1]
    differ = (x[idx[rows, cols]] != y[rows]).any(1)
    if differ.any():
        r = int(rows[differ][0])
        nz = torch.cat([x.abs().flatten(), y.abs().flatten()])
        nz = nz[nz > 0]
        raise ValueError(f"x: coordinates span too many orders of magnitude for float64 squared "
                         f"distances (|x| from {float(nz.min()):.3g} to {float(nz.max()):.3g}): "
                         f"the neighbours of query {r} are closer than they can resolve; "
                         "rescale or split the points")


def _knn_by_method(x, y, k_eff, m, bx, by, single: bool, same: bool
                   ) -> tuple[Tensor, Tensor]:
    if single:
        return _single_knn(x, y, k_eff)
    g = _Groups(bx, by)
    if g.small():
        return _padded_knn(g, x, y, k_eff, m)
    idx = torch.zeros(m, k_eff, dtype=torch.long)
    dist = torch.full((m, k_eff), math.inf, dtype=torch.float64)
    for b in (g.cy > 0).nonzero().flatten().tolist():
        xi, yi = g.members(b)
        kb = min(k_eff, xi.numel())
        if kb == 0:
            continue
        xb = x[xi]
        i, d = _single_knn(xb, xb if same else y[yi], kb)
        idx[yi, :kb], dist[yi, :kb] = xi[i], d
    return idx, dist


def knn_graph(x: Tensor, k: int, batch: Tensor | None = None, loop: bool = False,
              flow: str = "source_to_target") -> Tensor:
    """k-nearest-neighbour graph of the rows of ``x`` within each graph of ``batch``.

    Args:
        x: (N, D) points or features. k: neighbours per node.
        batch: (N,) PyG batch vector (sorted graph ids) or ``None``.
        loop: include each node among its own neighbours.
        flow: ``"source_to_target"`` (``edge_index[1]`` is the centre) or
            ``"target_to_source"``.

    Returns:
        (2, N*k) long edge index (fewer edges where a graph has <= k nodes).
    """
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"flow: expected 'source_to_target' or 'target_to_source', got {flow!r}")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive int, got {k!r}")
    kq = k if loop else k + 1
    idx, dist = _knn_table(x, x, kq, batch, batch)
    n = idx.shape[0]
    if not loop and idx.shape[1] == kq and bool(torch.isfinite(dist[:, -1]).all()):
        # every row full (the usual case): each yields exactly k neighbours.
        # Drop the first column where it is the point itself; elsewhere (a
        # duplicate of smaller index came first) drop self wherever it is,
        # or the last column if self is not among the k + 1.
        table = idx[:, 1:]
        bad = (idx[:, 0] != torch.arange(n)).nonzero().flatten()
        if bad.numel():
            sub = idx[bad]
            m = sub != bad[:, None]
            m &= torch.cumsum(m.long(), 1) <= k
            table = table.clone()
            table[bad] = sub[m].reshape(-1, k)
        centre = torch.arange(n).repeat_interleave(k)
        nbr = table.reshape(-1)
    elif not loop:
        keep = (idx != torch.arange(n)[:, None]) & torch.isfinite(dist)
        # keep the first k non-self entries of each row
        keep &= torch.cumsum(keep.long(), 1) <= k
        rows = torch.arange(n)[:, None].expand_as(idx)
        centre, nbr = rows[keep], idx[keep]
    else:
        centre, nbr = _table_to_pairs(idx, dist)
    if flow == "source_to_target":
        return torch.stack([nbr, centre]).to(_device(x))
    return torch.stack([centre, nbr]).to(_device(x))


def _single_radius(x: Tensor, y: Tensor, r: float) -> tuple[Tensor, Tensor, Tensor]:
    """One graph: (query, neighbour, squared distance) of every pair within ``r``."""
    if x.shape[1] <= 3:
        xn = as_float64_numpy(x)
        q, n, d = tree_radius(xn, xn if y is x else as_float64_numpy(y), r)
        return torch.from_numpy(q), torch.from_numpy(n), torch.from_numpy(d)
    qs, ns, ds = [], [], []
    step = max(1, _BUDGET // x.shape[0])
    for s in range(0, y.shape[0], step):
        d = _sqdist(y[s:s + step, None, :], x[None])
        qi, ni = (d <= r * r).nonzero(as_tuple=True)
        qs.append(qi + s), ns.append(ni), ds.append(d[qi, ni])
    return torch.cat(qs), torch.cat(ns), torch.cat(ds)


def radius(x: Tensor, y: Tensor, r: float, batch_x: Tensor | None = None,
           batch_y: Tensor | None = None, max_num_neighbors: int | None = None) -> Tensor:
    """All rows of ``x`` within distance ``r`` (inclusive) of each row of ``y``.

    Unlike PyG (default 32, an arbitrary subset), ``max_num_neighbors=None``
    keeps every neighbour, and an integer keeps the *nearest* ones.

    Returns:
        (2, E) long ``[query index in y, neighbour index in x]``, sorted by
        query then distance.
    """
    r = check_positive(r, "r")
    if max_num_neighbors is not None and (not isinstance(max_num_neighbors, int)
                                          or max_num_neighbors < 1):
        raise ValueError(f"max_num_neighbors: expected None or a positive int, "
                         f"got {max_num_neighbors!r}")
    same = y is x and batch_y is batch_x
    device = _device(x)
    x, y, bx, by = _prep(x, y, batch_x, batch_y)
    if x.shape[0] == 0 or y.shape[0] == 0:
        return torch.zeros(2, 0, dtype=torch.long, device=device)
    x = x.detach().to(torch.float64)
    y = x if same else y.detach().to(torch.float64)
    qs, ns, ds = [], [], []
    if batch_x is None and batch_y is None:
        q, n, d = _single_radius(x, y, r)
        qs.append(q), ns.append(n), ds.append(d)
    else:
        g = _Groups(bx, by)
        if g.small():
            for yi, yv, xi, d in _padded_chunks(g, x, y):
                ok = (d <= r * r) & yv[:, :, None]
                b, qi, ci = ok.nonzero(as_tuple=True)
                qs.append(yi[b, qi]), ns.append(xi[b, ci]), ds.append(d[b, qi, ci])
        else:
            for b in (g.cy > 0).nonzero().flatten().tolist():
                xi, yi = g.members(b)
                if xi.numel() == 0:
                    continue
                xb = x[xi]
                q, n, d = _single_radius(xb, xb if same else y[yi], r)
                qs.append(yi[q]), ns.append(xi[n]), ds.append(d)
    q, n, d = torch.cat(qs), torch.cat(ns), torch.cat(ds)
    o = torch.argsort(n, stable=True)
    o = o[torch.argsort(d[o], stable=True)]
    o = o[torch.argsort(q[o], stable=True)]
    q, n = q[o], n[o]
    if max_num_neighbors is not None:
        first = torch.searchsorted(q, q)  # q is sorted: start of each query's run
        keep = (torch.arange(q.numel()) - first) < max_num_neighbors
        q, n = q[keep], n[keep]
    return torch.stack([q, n]).to(device)


def radius_graph(x: Tensor, r: float, batch: Tensor | None = None, loop: bool = False,
                 max_num_neighbors: int | None = None,
                 flow: str = "source_to_target") -> Tensor:
    """Graph connecting every pair of rows of ``x`` closer than ``r`` (inclusive).

    Same argument order and edge direction as PyG's ``radius_graph``;
    ``max_num_neighbors`` as in :func:`radius`.
    """
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"flow: expected 'source_to_target' or 'target_to_source', got {flow!r}")
    extra = 0 if loop or max_num_neighbors is None else 1
    pairs = radius(x, x, r, batch, batch,
                   None if max_num_neighbors is None else max_num_neighbors + extra)
    centre, nbr = pairs
    if not loop:
        keep = centre != nbr
        centre, nbr = centre[keep], nbr[keep]
        if max_num_neighbors is not None:
            first = torch.searchsorted(centre, centre)
            keep = (torch.arange(centre.numel()) - first) < max_num_neighbors
            centre, nbr = centre[keep], nbr[keep]
    if flow == "source_to_target":
        return torch.stack([nbr, centre]).to(_device(x))
    return torch.stack([centre, nbr]).to(_device(x))
