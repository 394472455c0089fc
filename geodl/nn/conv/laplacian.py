r"""Graph Laplacians as values on a :class:`GraphStructure` with self-loops.

Entry order is the structure's: the E input edges (input self-loops get 0:
they are dropped, as PyG's ``get_laplacian`` drops them) followed by the N
diagonal entries. With :math:`d_j = \sum_{(j \to i)} w_{ji}` (PyG's
convention: the degree sums over the *source* row of ``edge_index``):

* ``None``: :math:`L = D - A`, off-diagonal :math:`-w_{ji}`, diagonal :math:`d`;
* ``"sym"``: :math:`L = I - D^{-1/2} A D^{-1/2}`, off-diagonal
  :math:`-w_{ji}/\sqrt{d_j d_i}`, diagonal 1;
* ``"rw"``: :math:`L = I - D^{-1} A`, off-diagonal :math:`-w_{ji}/d_j`, diagonal 1;

where :math:`1/0` is taken as 0 (isolated nodes). :func:`scaled_laplacian`
gives ChebConv's :math:`\hat L` on a structure, :func:`cheb_norm` the same
as an edge list (the public form, like PyG's ``gcn_norm``).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

from geodl.nn.conv.propagation import GraphStructure
from geodl.ops.validation import check_edge_index, check_edge_weight


def _compiling() -> bool:
    return torch.compiler.is_compiling()


def laplacian_entries(s: GraphStructure, edge_index: Tensor, edge_weight: Optional[Tensor],
                      normalization: Optional[str], dtype: torch.dtype
                      ) -> tuple[Tensor, Tensor]:
    """(entry-order values (E + N,), degree (N,)) of the Laplacian."""
    n = s.size[0]
    src, dst = edge_index[0], edge_index[1]
    w = torch.ones(s.num_edges, dtype=dtype, device=src.device) if edge_weight is None \
        else edge_weight.to(dtype)
    w = w * s.edge_mask(dtype)[:s.num_edges]  # drop input self-loops
    deg = w.new_zeros(n).index_add_(0, src, w)
    if normalization is None:
        return torch.cat([-w, deg]), deg
    if normalization == "sym":
        dis = deg.pow(-0.5)
        dis = dis.masked_fill(torch.isinf(dis), 0.0)
        off = -dis[src] * w * dis[dst]
    else:  # "rw"
        di = deg.pow(-1.0)
        di = di.masked_fill(torch.isinf(di), 0.0)
        off = -di[src] * w
    return torch.cat([off, torch.ones(n, dtype=dtype, device=src.device)]), deg


def scaled_laplacian(s: GraphStructure, edge_index: Tensor, edge_weight: Optional[Tensor],
                     normalization: Optional[str], dtype: torch.dtype,
                     lambda_max: Optional[Union[Tensor, float]] = None,
                     batch: Optional[Tensor] = None) -> Tensor:
    r"""Entry-order values of ChebConv's :math:`\hat L = 2L/\lambda_{\max} - I`
    on ``s`` (a structure with self-loops).

    ``lambda_max`` is a number, or one per graph of ``batch`` (B,) (then
    ``batch`` (N,) is needed). Without it: 2 for ``"sym"`` and ``"rw"``
    (their spectra lie in [0, 2]) and :math:`2\max_i d_i` for ``None``, an
    upper bound of :math:`\lambda_{\max}(D - A)` (Gershgorin); on a graph
    without edges (or with self-loops only) :math:`L = 0`, where every
    positive :math:`\lambda_{\max}` gives the same :math:`\hat L = -I`, so 2 is used.
    """
    lap, deg = laplacian_entries(s, edge_index, edge_weight, normalization, dtype)
    n = s.size[0]
    device = edge_index.device
    if lambda_max is None:
        lam = torch.tensor(2.0, dtype=dtype, device=device)
        if normalization is None and deg.numel():
            bound = 2.0 * deg.max()
            lam = torch.where(bound > 0, bound, lam)
    else:
        lam = torch.as_tensor(lambda_max, dtype=dtype, device=device).reshape(-1)
        if not _compiling() and (lam.numel() == 0 or bool((lam <= 0).any())
                                 or not bool(torch.isfinite(lam).all())):
            raise ValueError(f"lambda_max: expected positive finite values, got {lambda_max}")
    if batch is not None and (not isinstance(batch, Tensor) or batch.dim() != 1
                              or batch.numel() != n):
        got = tuple(batch.shape) if isinstance(batch, Tensor) else type(batch).__name__
        raise ValueError(f"batch: expected shape ({n},), got {got}")
    if lam.numel() > 1:
        if batch is None:
            raise ValueError("lambda_max: one value per graph needs the batch vector")
        if not _compiling() and n and int(batch.max()) >= lam.numel():
            raise ValueError(f"lambda_max: expected one value per graph of the batch "
                             f"({int(batch.max()) + 1} graphs), got {lam.numel()}")
        src = torch.cat([edge_index[0], torch.arange(n, device=device)])
        lam = lam[batch[src]]
    w = 2.0 * lap / lam
    w = w.masked_fill(torch.isinf(w), 0.0)
    return torch.cat([w[:s.num_edges], w[s.num_edges:] - 1.0])


def cheb_norm(edge_index: Tensor, edge_weight: Optional[Tensor] = None,
              num_nodes: Optional[int] = None, normalization: Optional[str] = "sym",
              lambda_max: Optional[Union[Tensor, float]] = None,
              batch: Optional[Tensor] = None,
              dtype: Optional[torch.dtype] = None) -> tuple[Tensor, Tensor]:
    r"""ChebConv's scaled Laplacian :math:`\hat L = 2L/\lambda_{\max} - I`
    as an edge list (what PyG's ``ChebConv.__norm__`` computes): input
    self-loops dropped, one diagonal entry per node last.

    Args:
        edge_index: (2, E) integer indices.
        edge_weight: (E,) finite weights (non-negative for ``"sym"``/``"rw"``).
        num_nodes: N (default: the largest index + 1).
        normalization: ``None`` (:math:`D - A`), ``"sym"`` or ``"rw"``.
        lambda_max: as :func:`scaled_laplacian`.
        batch: (N,) graph ids, for one ``lambda_max`` per graph.
        dtype: of the values (default: ``edge_weight``'s, else the default dtype).

    Returns:
        ``(edge_index, values)``: (2, E' + N) and (E' + N,), E' the edges
        that are not self-loops.
    """
    n = num_nodes if num_nodes is not None else (
        int(edge_index.max()) + 1 if edge_index.numel() else 0)
    edge_index = check_edge_index(edge_index, n)
    check_edge_weight(edge_weight, edge_index.shape[1], nonnegative=normalization is not None)
    dtype = dtype or (edge_weight.dtype if edge_weight is not None else torch.get_default_dtype())
    s = GraphStructure(edge_index, n, n, self_loops=True)
    values = scaled_laplacian(s, edge_index, edge_weight, normalization, dtype, lambda_max, batch)
    loops = torch.arange(n, device=edge_index.device)
    keep = torch.cat([edge_index[0] != edge_index[1],
                      torch.ones(n, dtype=torch.bool, device=edge_index.device)])
    full = torch.cat([edge_index, torch.stack([loops, loops])], 1)
    return full[:, keep], values[keep]
