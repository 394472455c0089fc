"""Reusable property checks (see ``geodl.testing``)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import Tensor

from geodl.ops.rotations import random_rotation


def _close(a: Tensor, b: Tensor, atol: float, rtol: float, what: str) -> None:
    if a.shape != b.shape:
        raise AssertionError(f"{what}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
    err = (a - b).abs()
    tol = atol + rtol * b.abs()
    if not bool((err <= tol).all()):
        worst = float((err - tol).max())
        raise AssertionError(f"{what}: max |difference| {float(err.max()):.3e} exceeds tolerance "
                             f"(atol={atol}, rtol={rtol}) by {worst:.3e}")


def _permute_graph(x: Tensor, edge_index: Tensor, gen: torch.Generator
                   ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    n = x.shape[0]
    perm = torch.randperm(n, generator=gen)  # new node i is old node perm[i]
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    eperm = torch.randperm(edge_index.shape[1], generator=gen)
    return x[perm], inv[edge_index[:, eperm]], perm, eperm


def assert_permutation_equivariant(fn: Callable[..., Tensor], x: Tensor, edge_index: Tensor,
                                   edge_attr: Tensor | None = None, seed: int = 0,
                                   atol: float = 1e-5, rtol: float = 1e-4,
                                   **kwargs: Any) -> None:
    """``fn(P x, P E) == P fn(x, E)`` for a random node relabelling P, with the
    edge list also shuffled (``edge_attr`` follows its edges).

    ``fn`` is called as ``fn(x, edge_index, **kwargs)`` or, with ``edge_attr``,
    ``fn(x, edge_index, edge_attr, **kwargs)``; it returns per-node rows.
    """
    gen = torch.Generator().manual_seed(seed)
    xp, ep, perm, eperm = _permute_graph(x, edge_index, gen)
    args = () if edge_attr is None else (edge_attr,)
    args_p = () if edge_attr is None else (edge_attr[eperm],)
    out = fn(x, edge_index, *args, **kwargs)
    out_p = fn(xp, ep, *args_p, **kwargs)
    _close(out_p, out[perm], atol, rtol, "permutation equivariance")


def assert_permutation_invariant(fn: Callable[..., Tensor], x: Tensor, edge_index: Tensor,
                                 edge_attr: Tensor | None = None, seed: int = 0,
                                 atol: float = 1e-5, rtol: float = 1e-4, **kwargs: Any) -> None:
    """``fn(P x, P E) == fn(x, E)`` for graph-level outputs."""
    gen = torch.Generator().manual_seed(seed)
    xp, ep, _, eperm = _permute_graph(x, edge_index, gen)
    args = () if edge_attr is None else (edge_attr,)
    args_p = () if edge_attr is None else (edge_attr[eperm],)
    _close(fn(xp, ep, *args_p, **kwargs), fn(x, edge_index, *args, **kwargs), atol, rtol,
           "permutation invariance")


def assert_batch_consistent(fn: Callable[..., Tensor], graphs: Sequence[Any],
                            node_level: bool = True, atol: float = 1e-5,
                            rtol: float = 1e-4) -> None:
    """A PyG ``Batch`` of ``graphs`` gives each graph's own output.

    ``fn(data)`` receives a ``Data`` or a ``Batch`` (with ``.batch``); it
    returns per-node rows (``node_level``) or one row per graph.
    """
    from torch_geometric.data import Batch

    batch = Batch.from_data_list(list(graphs))
    out = fn(batch)
    singles = []
    for g in graphs:
        one = Batch.from_data_list([g])
        singles.append(fn(one))
    _close(out, torch.cat(singles), atol, rtol,
           "batch consistency" + (" (node level)" if node_level else " (graph level)"))


def assert_rigid_invariant(fn: Callable[[Tensor], Tensor], verts: Tensor, seed: int = 0,
                           translation_scale: float = 1.0, atol: float = 1e-6,
                           rtol: float = 1e-5) -> None:
    """``fn(verts R^T + t) == fn(verts)`` for a random rotation R and shift t."""
    gen = torch.Generator().manual_seed(seed)
    R = random_rotation(seed, verts.dtype)
    t = torch.randn(3, generator=gen, dtype=torch.float64).to(verts.dtype) * translation_scale
    _close(fn(verts @ R.T + t), fn(verts), atol, rtol, "rigid-motion invariance")


def assert_isometry_invariant(fn: Callable[[Tensor], Tensor], verts: Tensor,
                              deformed: Tensor, atol: float = 1e-3, rtol: float = 5e-2) -> None:
    """``fn(deformed) ~= fn(verts)`` for a (near-)isometric deformation of the
    same connectivity. Tolerances are loose: a discrete bend is isometric only
    up to the mesh resolution."""
    _close(fn(deformed), fn(verts), atol, rtol, "isometry invariance")


def assert_gradcheck(fn: Callable[..., Tensor] | torch.nn.Module, *inputs: Any,
                     eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> None:
    """``torch.autograd.gradcheck`` in float64.

    A module is copied to float64; floating tensor inputs are cast to float64
    and require grad (integer inputs such as ``edge_index`` pass through).
    """
    if isinstance(fn, torch.nn.Module):
        import copy

        fn = copy.deepcopy(fn).double()
    args = []
    for a in inputs:
        if isinstance(a, Tensor) and a.is_floating_point():
            a = a.detach().double().requires_grad_(True)
        args.append(a)
    ok = torch.autograd.gradcheck(lambda *a: fn(*a), tuple(args), eps=eps, atol=atol, rtol=rtol,
                                  raise_exception=False)
    if not ok:
        raise AssertionError("gradcheck failed: analytic and numerical gradients differ")
