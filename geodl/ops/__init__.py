"""Pure tensor maths on points, meshes and graphs (no containers).

Everything here takes and returns tensors; geometry operators work in float64.
"""
from geodl.ops.cotan import cotan_laplacian, laplacian_from_cotangents, mass_matrix
from geodl.ops.eigen import EigenSolveError, generalized_eigh
from geodl.ops.graph_laplacian import graph_laplacian, lambda_max
from geodl.ops.mesh_geometry import (
                                     corner_cotangents,
                                     edge_lengths,
                                     face_areas,
                                     face_normals,
                                     mesh_edge_index,
                                     mesh_edges,
                                     vertex_normals,
)
from geodl.ops.sparse import diag_csr, from_scipy, sparse_csr, to_scipy

__all__ = [
    "EigenSolveError", "corner_cotangents", "cotan_laplacian", "diag_csr", "edge_lengths",
    "face_areas", "face_normals", "from_scipy", "generalized_eigh", "graph_laplacian",
    "lambda_max", "laplacian_from_cotangents", "mass_matrix", "mesh_edge_index",
    "mesh_edges", "sparse_csr", "to_scipy", "vertex_normals",
]

from geodl.ops.intrinsic_delaunay import intrinsic_delaunay_laplacian  # noqa: E402

__all__ += ["intrinsic_delaunay_laplacian"]
from geodl.ops.neighbors import knn, knn_graph, radius, radius_graph  # noqa: E402

__all__ += ["knn", "knn_graph", "radius", "radius_graph"]
from geodl.ops.descriptors import heat_kernel_signature, hks_times, wave_kernel_signature  # noqa: E402,E501
from geodl.ops.geodesics import HeatMethod, dijkstra_distance, heat_geodesic  # noqa: E402
from geodl.ops.graclus import CoarseLevel, graclus, graclus_coarsening, pool_graph  # noqa: E402

__all__ += ["CoarseLevel", "HeatMethod", "dijkstra_distance", "graclus", "graclus_coarsening",
            "heat_geodesic", "heat_kernel_signature", "hks_times", "pool_graph",
            "wave_kernel_signature"]
from geodl.ops.pointcloud_laplacian import point_cloud_laplacian  # noqa: E402

__all__ += ["point_cloud_laplacian"]
from geodl.ops.simplify import simplify_mesh  # noqa: E402

__all__ += ["simplify_mesh"]
from geodl.ops.spmm import SparseOperator, spmm  # noqa: E402

__all__ += ["SparseOperator", "spmm"]
from geodl.ops.tangent_gradient import gradient_operator_entries, tangent_frames  # noqa: E402

__all__ += ["gradient_operator_entries", "tangent_frames"]
from geodl.ops.grid_graph import grid_graph  # noqa: E402

__all__ += ["grid_graph"]
from geodl.ops.spirals import spiral_indices  # noqa: E402

__all__ += ["spiral_indices"]
from geodl.ops.geodesic_patches import geodesic_patches  # noqa: E402

__all__ += ["geodesic_patches"]
from geodl.ops.rotations import random_rotation  # noqa: E402

__all__ += ["random_rotation"]
from geodl.ops.sampling import (  # noqa: E402
    grid_sample_matrix,
    sample_at_coordinates,
    sample_at_pixels,
    within_pixel_centers,
)

__all__ += ["grid_sample_matrix", "sample_at_coordinates", "sample_at_pixels",
            "within_pixel_centers"]
