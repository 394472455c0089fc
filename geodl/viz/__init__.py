"""Pictures of meshes and point clouds: headless PNG snapshots."""
from geodl.viz.snapshot import render_mesh_grid, save_mesh_png, save_point_cloud_png

__all__ = ["render_mesh_grid", "save_mesh_png", "save_point_cloud_png"]
