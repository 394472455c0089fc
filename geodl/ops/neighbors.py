r"""Exact k-nearest-neighbour and radius graphs in pure torch, bounded memory.

PyG's ``knn_graph``/``radius_graph`` need ``torch-cluster``, which cannot be
installed everywhere; these need nothing but torch. Output follows PyG:
``edge_index`` is (2, E) with ``edge_index[0]`` the neighbour (source) and
``edge_index[1]`` the centre (target) for ``flow="source_to_target"``.
Edges come sorted by centre, then by distance (ties by index).

Two back-ends, both exact:

* **grid** (D <= 3): points are bucketed into cubic cells of side ``h`` and a
  query scans the :math:`3^D` cells around its own. Its k-th candidate is
  provably its k-th neighbour when the k-th distance does not exceed ``h``
  plus the query's distance to its cell walls (every point outside the block
  is farther than that). Queries that fail this test go to a second pass with
  ``2h`` and then to brute force, so the result never depends on ``h``; ``h``
  is fitted to the data's k-th neighbour distance on a sample.
* **brute force** (any D): chunked :math:`\|y\|^2 - 2y^\top x + \|x\|^2`
  with ``topk``, then the winners' distances are recomputed as sums of squared
  differences (the matmul form loses digits) and re-ranked from a few spare
  candidates.

Memory is bounded by processing queries in chunks of at most ``budget``
candidate distances.
"""
from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from geodl.ops.validation import check_batch, check_points, check_positive

_BUDGET = 1 << 22  # candidate distances per chunk (~32 MB in float64)


def _prep(x, y, batch_x, batch_y) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    x = check_points(x, "x", dim=None)
    y = check_points(y, "y", dim=None)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y: feature dimensions differ ({x.shape[1]} vs {y.shape[1]})")
    if y.dtype != x.dtype:
        y = y.to(x.dtype)
    bx = torch.zeros(x.shape[0], dtype=torch.long, device=x.device) if batch_x is None else check_batch(
        batch_x, x.shape[0], "batch_x")
    by = torch.zeros(y.shape[0], dtype=torch.long, device=y.device) if batch_y is None else check_batch(
        batch_y, y.shape[0], "batch_y")
    return x, y, bx, by


def _sqdist(a: Tensor, b: Tensor) -> Tensor:
    return ((a - b) ** 2).sum(-1)


# --------------------------------------------------------------------- brute
def _brute_knn(x: Tensor, y: Tensor, k: int, bx: Tensor, by: Tensor,
               query: Tensor) -> tuple[Tensor, Tensor]:
    """(Q, k) neighbour indices and squared distances for ``y[query]`` (inf-padded)."""
    spare = min(x.shape[0], k + max(4, k // 2))
    xx = (x * x).sum(1)
    out_i, out_d = [], []
    step = max(1, _BUDGET // max(1, x.shape[0]))
    for s in range(0, query.numel(), step):
        q = query[s:s + step]
        yq = y[q]
        d = (yq * yq).sum(1, keepdim=True) - 2.0 * yq @ x.T + xx
        d.masked_fill_(by[q, None] != bx[None, :], math.inf)
        _, idx = d.topk(spare, dim=1, largest=False)
        exact = _sqdist(yq[:, None, :], x[idx])
        exact.masked_fill_(by[q, None] != bx[idx], math.inf)
        exact, order = _rank(exact, idx)
        out_i.append(idx.gather(1, order[:, :k]))
        out_d.append(exact[:, :k])
    return torch.cat(out_i), torch.cat(out_d)


def _rank(d: Tensor, idx: Tensor) -> tuple[Tensor, Tensor]:
    """Sort each row by (distance, index): a deterministic tie-break."""
    o1 = idx.argsort(dim=1, stable=True)
    o2 = d.gather(1, o1).argsort(dim=1, stable=True)
    order = o1.gather(1, o2)
    return d.gather(1, order), order


# ---------------------------------------------------------------------- grid
class _Grid:
    """Points of ``x`` sorted by cell key (batch, cell coordinates), last axis
    fastest, so that the three cells along the last axis of a 3^D block are
    one contiguous run of the sorted points: a block is 3^(D-1) runs."""

    def __init__(self, x: Tensor, bx: Tensor, lo: Tensor, dims: Tensor, h: float) -> None:
        self.h, self.lo, self.dims = h, lo, dims
        d = x.shape[1]
        self.strides = torch.ones(d, dtype=torch.long, device=x.device)
        for a in range(d - 2, -1, -1):
            self.strides[a] = self.strides[a + 1] * dims[a + 1]
        self.batch_stride = int(self.strides[0] * dims[0])
        key = self.key(self.cell_of(x), bx)
        self.key_sorted, self.order = torch.sort(key)
        # coordinates in cell order: candidate gathers then touch nearby memory
        self.cols = [c.contiguous() for c in x[self.order].T]
        num_keys = self.batch_stride * (int(bx.max()) + 1)
        self.table = None
        if num_keys <= 8 * x.shape[0] + 4096:  # dense prefix-count table
            counts = torch.bincount(key, minlength=num_keys)
            self.table = torch.cat([torch.zeros(1, dtype=torch.long, device=x.device), torch.cumsum(counts, 0)])
        runs = torch.tensor(list(itertools.product((-1, 0, 1), repeat=d - 1)),
                            dtype=torch.long, device=x.device).reshape(-1, d - 1)
        self.run_offsets = torch.cat([runs, torch.zeros(len(runs), 1, dtype=torch.long, device=x.device)], 1)

    def cell_of(self, p: Tensor) -> Tensor:
        c = torch.floor((p - self.lo) / self.h).long()
        return torch.minimum(c.clamp_min(0), self.dims - 1)

    def key(self, cells: Tensor, b: Tensor) -> Tensor:
        return b * self.batch_stride + self._linear(cells)

    def _linear(self, cells: Tensor) -> Tensor:
        # an explicit sum: integer matmul is not vectorised on CPU
        out = cells[..., 0] * int(self.strides[0])
        for a in range(1, cells.shape[-1]):
            out = out + cells[..., a] * int(self.strides[a])
        return out

    def _prefix(self, keys: Tensor) -> Tensor:
        """Number of points whose key is below each of ``keys``."""
        if self.table is not None:
            return self.table[keys]
        return torch.searchsorted(self.key_sorted, keys)

    def block(self, cells: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        """(Q, 3^(D-1)) start positions (in cell order) and lengths of the runs
        that make up each query's 3^D block of cells."""
        nb = cells[:, None, :] + self.run_offsets[None]  # (Q, R, D), last axis = own
        inside = ((nb[..., :-1] >= 0) & (nb[..., :-1] < self.dims[:-1])).all(-1)
        last = self.dims.numel() - 1
        nb = torch.minimum(nb.clamp_min(0), self.dims - 1)  # outside runs are masked below
        lo_c, hi_c = nb.clone(), nb.clone()
        lo_c[..., last] = (nb[..., last] - 1).clamp_min(0)
        hi_c[..., last] = (nb[..., last] + 1).clamp_max(int(self.dims[last]) - 1)
        base = (b * self.batch_stride)[:, None]
        k_lo = base + self._linear(lo_c)
        k_hi = base + self._linear(hi_c) + 1
        start = self._prefix(k_lo)
        length = torch.where(inside, self._prefix(k_hi) - start, 0)
        return start, length

    def margin(self, p: Tensor, cells: Tensor) -> Tensor:
        """Distance from each point to the walls of its own cell (>= 0)."""
        rel = (p - self.lo) - cells.to(p.dtype) * self.h
        return torch.minimum(rel, self.h - rel).min(1).values.clamp_min(0)


def _gather_block(grid: _Grid, start: Tensor, cnt: Tensor) -> tuple[Tensor, Tensor]:
    """Candidates of each query padded to (Q, R * S): positions in cell order
    and a valid mask (S is the longest run in the chunk)."""
    smax = int(cnt.max()) if cnt.numel() else 0
    ar = torch.arange(smax, device=start.device)
    pos = start[:, :, None] + ar
    valid = ar < cnt[:, :, None]
    pos = torch.where(valid, pos, 0)
    return pos.reshape(start.shape[0], -1), valid.reshape(start.shape[0], -1)


def _block_sqdist(grid: _Grid, yq: Tensor, pos: Tensor) -> Tensor:
    """(Q, C) squared distances from queries to candidates at cell-order ``pos``,
    one coordinate at a time (no (Q, C, D) temporaries)."""
    d = None
    for a, col in enumerate(grid.cols):
        t = col[pos]
        t.sub_(yq[:, a:a + 1])
        t.mul_(t)
        d = t if d is None else d.add_(t)
    return d


def _chunk_end(width: Tensor, s: int) -> int:
    """End of the chunk of queries starting at ``s`` whose padded candidate
    matrix (rows x widest row) fits the memory budget; at least one row."""
    cmax = torch.cummax(width[s:s + _BUDGET], 0).values
    rows = torch.arange(1, cmax.numel() + 1, device=width.device)
    return s + max(1, int((rows * cmax.clamp_min(1) <= _BUDGET).sum()))


def _grid_knn_pass(grid: _Grid, x: Tensor, y: Tensor, k: int, by: Tensor,
                   query: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """One grid pass: (Q, k) indices, squared distances, and a resolved mask."""
    cells = grid.cell_of(y[query])
    order = torch.argsort(grid.key(cells, by[query]))  # cell order: memory locality
    query, cells = query[order], cells[order]
    start, cnt = grid.block(cells, by[query])
    total = cnt.sum(1)
    width = cnt.max(1).values * cnt.shape[1]  # padded candidates per query
    res_i = torch.zeros(query.numel(), k, dtype=torch.long, device=x.device)
    res_d = torch.full((query.numel(), k), math.inf, dtype=x.dtype, device=x.device)
    s = 0
    while s < query.numel():
        e = _chunk_end(width, s)
        pos, valid = _gather_block(grid, start[s:e], cnt[s:e])
        d = _block_sqdist(grid, y[query[s:e]], pos).masked_fill_(~valid, math.inf)
        kk = min(k, d.shape[1])
        if kk:
            best_d, best = d.topk(kk, dim=1, largest=False)
            best_i = grid.order[pos.gather(1, best)]
            best_d, o = _rank(best_d, best_i)
            res_d[s:e, :kk] = best_d
            res_i[s:e, :kk] = best_i.gather(1, o)
        s = e
    margin = grid.margin(y[query], cells)
    resolved = (total >= k) & (res_d[:, -1] <= (grid.h + margin) ** 2)
    inv = torch.empty_like(order)
    inv[order] = torch.arange(order.numel(), device=order.device)
    return res_i[inv], res_d[inv], resolved[inv]


def _bbox(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    lo = torch.minimum(x.min(0).values, y.min(0).values)
    hi = torch.maximum(x.max(0).values, y.max(0).values)
    return lo, hi


def _make_grid(x: Tensor, bx: Tensor, lo: Tensor, hi: Tensor, h: float) -> _Grid:
    ext = (hi - lo).clamp_min(0)
    dims = torch.floor(ext / h).long() + 1
    # keep the key inside int64 even for tiny h: coarsen until it fits
    while float(torch.prod(dims.double())) * (int(bx.max()) + 1 if bx.numel() else 1) > 2 ** 60:
        h *= 2
        dims = torch.floor(ext / h).long() + 1
    return _Grid(x, bx, lo, dims, h)


def _fit_cell_size(x: Tensor, y: Tensor, k: int, bx: Tensor, by: Tensor,
                   lo: Tensor, hi: Tensor, gen: torch.Generator) -> float:
    """Cell side close to the 90th percentile of a query sample's k-th distance."""
    d = x.shape[1]
    vol = float(torch.prod((hi - lo).clamp_min(1e-12 * float((hi - lo).max()) + 1e-300)))
    h = (vol * k / max(1, x.shape[0])) ** (1.0 / d)
    h = max(h, 1e-12)
    sample = torch.randperm(y.shape[0], generator=gen)[:512]
    for _ in range(40):
        grid = _make_grid(x, bx, lo, hi, h)
        _, dist, ok = _grid_knn_pass(grid, x, y, k, by, sample)
        if ok.float().mean() >= 0.8:
            fin = dist[ok, -1]
            fin = fin[torch.isfinite(fin)]
            if fin.numel():
                return max(float(torch.quantile(fin.sqrt(), 0.9)), h * 1e-3, 1e-300)
            return h
        h *= 2.0
    return h


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
    return _table_to_pairs(idx, dist)


def _table_to_pairs(idx: Tensor, dist: Tensor) -> Tensor:
    ok = torch.isfinite(dist)
    rows = torch.arange(idx.shape[0], device=idx.device)[:, None].expand_as(idx)
    return torch.stack([rows[ok], idx[ok]])


def _knn_table(x, y, k, batch_x, batch_y) -> tuple[Tensor, Tensor]:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive int, got {k!r}")
    x, y, bx, by = _prep(x, y, batch_x, batch_y)
    m = y.shape[0]
    if m == 0 or x.shape[0] == 0:
        return (torch.zeros(m, 0, dtype=torch.long, device=x.device),
                torch.zeros(m, 0, dtype=x.dtype, device=x.device))
    k_eff = min(k, x.shape[0])
    everything = torch.arange(m, device=x.device)
    if x.shape[1] > 3 or x.shape[0] * m <= 4 * _BUDGET:
        return _brute_knn(x, y, k_eff, bx, by, everything)
    lo, hi = _bbox(x, y)
    gen = torch.Generator().manual_seed(0)
    h = _fit_cell_size(x, y, k_eff, bx, by, lo, hi, gen)
    idx = torch.zeros(m, k_eff, dtype=torch.long, device=x.device)
    dist = torch.full((m, k_eff), math.inf, dtype=x.dtype, device=x.device)
    todo = everything
    for scale in (1.0, 2.0):
        if todo.numel() == 0:
            break
        grid = _make_grid(x, bx, lo, hi, h * scale)
        i, d, ok = _grid_knn_pass(grid, x, y, k_eff, by, todo)
        idx[todo[ok]], dist[todo[ok]] = i[ok], d[ok]
        todo = todo[~ok]
    if todo.numel():
        i, d = _brute_knn(x, y, k_eff, bx, by, todo)
        idx[todo], dist[todo] = i, d
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
    if not loop:
        n = idx.shape[0]
        keep = (idx != torch.arange(n, device=idx.device)[:, None]) & torch.isfinite(dist)
        # keep the first k non-self entries of each row
        keep &= torch.cumsum(keep.long(), 1) <= k
        rows = torch.arange(n, device=idx.device)[:, None].expand_as(idx)
        centre, nbr = rows[keep], idx[keep]
    else:
        centre, nbr = _table_to_pairs(idx, dist)
    if flow == "source_to_target":
        return torch.stack([nbr, centre])
    return torch.stack([centre, nbr])


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
    x, y, bx, by = _prep(x, y, batch_x, batch_y)
    if x.shape[0] == 0 or y.shape[0] == 0:
        return torch.zeros(2, 0, dtype=torch.long, device=x.device)
    r2 = r * r
    qs, ns, ds = [], [], []
    if x.shape[1] > 3:
        step = max(1, _BUDGET // x.shape[0])
        for s in range(0, y.shape[0], step):
            q = torch.arange(s, min(s + step, y.shape[0]), device=y.device)
            d = _sqdist(y[q, None, :], x[None])
            ok = (d <= r2) & (by[q, None] == bx[None])
            qi, ni = ok.nonzero(as_tuple=True)
            qs.append(q[qi]), ns.append(ni), ds.append(d[qi, ni])
    else:
        lo, hi = _bbox(x, y)
        grid = _make_grid(x, bx, lo, hi, r * (1 + 1e-9))
        cells = grid.cell_of(y)
        start, cnt = grid.block(cells, by)
        width = cnt.max(1).values * cnt.shape[1]
        s = 0
        while s < y.shape[0]:
            e = _chunk_end(width, s)
            pos, valid = _gather_block(grid, start[s:e], cnt[s:e])
            d = _block_sqdist(grid, y[s:e], pos)
            ok = valid & (d <= r2)
            qi, ci = ok.nonzero(as_tuple=True)
            qs.append(qi + s), ns.append(grid.order[pos[qi, ci]]), ds.append(d[qi, ci])
            s = e
    q, n, d = torch.cat(qs), torch.cat(ns), torch.cat(ds)
    o = torch.argsort(n, stable=True)
    o = o[torch.argsort(d[o], stable=True)]
    o = o[torch.argsort(q[o], stable=True)]
    q, n = q[o], n[o]
    if max_num_neighbors is not None:
        first = torch.searchsorted(q, q)  # q is sorted: start of each query's run
        keep = (torch.arange(q.numel(), device=q.device) - first) < max_num_neighbors
        q, n = q[keep], n[keep]
    return torch.stack([q, n])


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
            keep = (torch.arange(centre.numel(), device=centre.device) - first) < max_num_neighbors
            centre, nbr = centre[keep], nbr[keep]
    if flow == "source_to_target":
        return torch.stack([nbr, centre])
    return torch.stack([centre, nbr])
