"""Caching of a layer's graph operator (CSR structure and values)."""
from __future__ import annotations

from typing import Callable

from torch import Tensor

from geodl.ops.spmm import SparseOperator


class OperatorCache:
    """With ``enabled``, remembers the first ``(SparseOperator, values)`` built
    and returns it on every later call, like PyG's ``cached=True``; otherwise
    builds anew each time."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._value: tuple[SparseOperator, Tensor] | None = None

    def clear(self) -> None:
        self._value = None

    def get(self, build: Callable[[], tuple[SparseOperator, Tensor]]
            ) -> tuple[SparseOperator, Tensor]:
        if not self.enabled:
            return build()
        if self._value is None:
            op, w = build()
            self._value = (op, w.detach())
        return self._value

    @staticmethod
    def operator(edge_index: Tensor, num_nodes: int) -> SparseOperator:
        return SparseOperator.from_edge_index(edge_index, num_nodes)
