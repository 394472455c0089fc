"""Pictures of meshes, point clouds and light fields: headless PNG snapshots."""
from geodl.viz.lightfield_sheet import save_contact_sheet
from geodl.viz.snapshot import (pyplot, render_mesh_grid, save_figure, save_mesh_png,
                                save_point_cloud_png)

__all__ = ["pyplot", "render_mesh_grid", "save_contact_sheet", "save_figure", "save_mesh_png",
           "save_point_cloud_png"]
