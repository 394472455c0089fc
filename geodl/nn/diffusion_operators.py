"""Precomputed operators for DiffusionNet: mass, Laplacian, eigenbasis and
tangent gradients of one shape or of a batch of shapes (block diagonal)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import Tensor

from geodl import ops
from geodl.ops.spmm import SparseOperator
from geodl.structures import Mesh, PointCloud


@dataclass
class DiffusionOperators:
    """Operators of N vertices in B shapes (float64 geometry).

    Attributes:
        mass: (N,) lumped mass.
        evecs: (N, k) each vertex's row of its shape's M-orthonormal basis.
        evals: (B, k).
        batch: (N,) shape ids.
        lap_index: (2, nnz) COO indices of the block-diagonal PSD Laplacian.
        lap_value: (nnz,) its values.
        grad_index: (2, nnz) COO indices of the tangent gradients.
        grad_x: (nnz,) values of the gradient's x component.
        grad_y: (nnz,) values of the gradient's y component.
    """

    mass: Tensor
    evals: Tensor
    evecs: Tensor
    batch: Tensor
    lap_index: Tensor
    lap_value: Tensor
    grad_index: Tensor
    grad_x: Tensor
    grad_y: Tensor
    _ops: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_nodes(self) -> int:
        return self.mass.shape[0]

    @property
    def num_graphs(self) -> int:
        return self.evals.shape[0]

    def laplacian_operator(self) -> SparseOperator:
        if "L" not in self._ops:
            self._ops["L"] = SparseOperator(self.lap_index[0], self.lap_index[1],
                                            (self.num_nodes, self.num_nodes))
        return self._ops["L"]

    def gradient_operator(self) -> SparseOperator:
        if "G" not in self._ops:
            self._ops["G"] = SparseOperator(self.grad_index[0], self.grad_index[1],
                                            (self.num_nodes, self.num_nodes))
        return self._ops["G"]

    @classmethod
    def _build(cls, points: Tensor, normals: Tensor, L: Tensor, mass: Tensor,
               evals: Tensor, evecs: Tensor, neighbours: Tensor) -> "DiffusionOperators":
        frames = ops.tangent_frames(normals)
        row, col, gx, gy = ops.gradient_operator_entries(points, frames, neighbours)
        Lc = L.to_sparse_coo().coalesce()
        return cls(mass=mass, evals=evals[None], evecs=evecs,
                   batch=torch.zeros(points.shape[0], dtype=torch.long, device=evecs.device),
                   lap_index=Lc.indices(), lap_value=Lc.values(),
                   grad_index=torch.stack([row, col]), grad_x=gx, grad_y=gy)

    @classmethod
    def from_mesh(cls, mesh: Mesh, k: int = 128) -> "DiffusionOperators":
        """Cotangent Laplacian, its eigenbasis (disk-cached) and one-ring gradients."""
        evals, evecs = mesh.eigen(min(k, mesh.num_verts - 1))
        return cls._build(mesh.verts64, mesh.vertex_normals, mesh.laplacian(), mesh.mass(),
                          evals, evecs, mesh.edge_index)

    @classmethod
    def from_point_cloud(cls, cloud: PointCloud, k: int = 128,
                         neighbours: int = 30) -> "DiffusionOperators":
        """Point-cloud Laplacian, its eigenbasis and kNN gradients (PCA normals
        when the cloud has none)."""
        L, M = cloud.laplacian(neighbours)
        evals, evecs = ops.generalized_eigh(L, M, min(k, len(cloud) - 1))
        if cloud.normals is None:
            cloud = cloud.estimate_normals(k=min(neighbours, len(cloud) - 1))
        nbrs = ops.knn_graph(cloud.points.double(), min(neighbours, len(cloud) - 1))
        return cls._build(cloud.points.double(), cloud.normals.double(), L, M, evals, evecs, nbrs)

    @staticmethod
    def collate(items: Sequence["DiffusionOperators"]) -> "DiffusionOperators":
        """Block-diagonal batch of several shapes' operators (same k)."""
        if not items:
            raise ValueError("items: expected at least one DiffusionOperators")
        ks = {it.evecs.shape[1] for it in items}
        if len(ks) != 1:
            raise ValueError(f"items: all shapes need the same number of eigenpairs, got {ks}")
        dev = items[0].evecs.device
        offsets = torch.cumsum(torch.tensor([0] + [it.num_nodes for it in items], device=dev), 0)
        return DiffusionOperators(
            mass=torch.cat([it.mass for it in items]),
            evals=torch.cat([it.evals for it in items]),
            evecs=torch.cat([it.evecs for it in items]),
            batch=torch.cat([torch.full((it.num_nodes,), b, dtype=torch.long, device=dev)
                             for b, it in enumerate(items)]),
            lap_index=torch.cat([it.lap_index + o for it, o in zip(items, offsets)], 1),
            lap_value=torch.cat([it.lap_value for it in items]),
            grad_index=torch.cat([it.grad_index + o for it, o in zip(items, offsets)], 1),
            grad_x=torch.cat([it.grad_x for it in items]),
            grad_y=torch.cat([it.grad_y for it in items]))
