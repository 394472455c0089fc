"""Pooling for graph and mesh networks."""
from geodl.nn.pool.graclus_pyramid import BinaryTreePool, GraclusPyramid
from geodl.nn.pool.mesh_pool import MeshPool, MeshUnpool, mesh_hierarchy

__all__ = ["BinaryTreePool", "GraclusPyramid", "MeshPool", "MeshUnpool", "mesh_hierarchy"]
