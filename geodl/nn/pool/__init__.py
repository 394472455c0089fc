"""Pooling for graph and mesh networks."""
from geodl.nn.pool.graclus_pyramid import BinaryTreePool, GraclusPyramid
from geodl.nn.pool.mesh_pool import MeshPool, MeshUnpool, mesh_hierarchy
from geodl.nn.pool.readout import (
                                  AttentionReadout,
                                  TopKPool,
                                  global_add_pool,
                                  global_max_pool,
                                  global_mean_pool,
)

__all__ = ["AttentionReadout", "BinaryTreePool", "GraclusPyramid", "MeshPool", "MeshUnpool",
           "TopKPool", "global_add_pool", "global_max_pool", "global_mean_pool", "mesh_hierarchy"]
