"""Pictures of meshes and point clouds: headless PNG snapshots."""
from geodl.viz.snapshot import (pyplot, render_mesh_grid, save_figure, save_mesh_png,
                                 save_point_cloud_png)

__all__ = ["pyplot", "render_mesh_grid", "save_figure", "save_mesh_png", "save_point_cloud_png"]
