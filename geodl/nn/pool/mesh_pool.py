"""Mesh pooling and unpooling along the vertex maps of QEM simplification."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from geodl.structures import Mesh


def mesh_hierarchy(mesh: Mesh, targets: Sequence[int]) -> tuple[list[Mesh], list[Tensor]]:
    """Successive QEM simplifications to ``targets`` vertices (decreasing).

    Returns:
        meshes: ``[mesh, coarse_1, ...]``; clusters: ``clusters[l]`` (V_l,) maps
        level l's vertices to level l+1's.
    """
    if list(targets) != sorted(targets, reverse=True) or not targets:
        raise ValueError(f"targets: expected decreasing vertex counts, got {list(targets)}")
    meshes, clusters = [mesh], []
    for t in targets:
        coarse, cluster = meshes[-1].simplify(t)
        meshes.append(coarse)
        clusters.append(cluster)
    return meshes, clusters


class MeshPool(torch.nn.Module):
    """Pool fine-vertex features into coarse vertices: ``out[c] = reduce({x[v] :
    cluster[v] = c})`` (``"mean"``, ``"max"`` or ``"sum"``).

    Shapes:
        - **input:** ``x`` :math:`(V, C)`, ``cluster`` :math:`(V,)`
        - **output:** :math:`(V', C)`, ``V' = num_coarse``
    """

    def __init__(self, reduce: str = "mean") -> None:
        super().__init__()
        if reduce not in ("mean", "max", "sum"):
            raise ValueError(f"reduce: expected 'mean', 'max' or 'sum', got {reduce!r}")
        self.reduce = reduce

    def forward(self, x: Tensor, cluster: Tensor, num_coarse: int | None = None) -> Tensor:
        if cluster.shape != (x.shape[0],):
            raise ValueError(f"cluster: expected shape ({x.shape[0]},), got {tuple(cluster.shape)}")
        n = int(cluster.max()) + 1 if num_coarse is None else num_coarse
        return scatter(x, cluster, 0, dim_size=n, reduce=self.reduce)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(reduce={self.reduce!r})"


class MeshUnpool(torch.nn.Module):
    """Copy each coarse vertex's features back to the fine vertices merged into it.

    Shapes:
        - **input:** ``x`` :math:`(V', C)`, ``cluster`` :math:`(V,)`
        - **output:** :math:`(V, C)`
    """

    def forward(self, x: Tensor, cluster: Tensor) -> Tensor:
        if cluster.numel() and int(cluster.max()) >= x.shape[0]:
            raise ValueError(f"cluster: refers to coarse vertex {int(cluster.max())} but x has "
                             f"{x.shape[0]} rows")
        return x[cluster]
