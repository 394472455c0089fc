"""Looking at meshes, point clouds, graphs, cameras and light fields.

- :func:`to_html`: an interactive 3D viewer in one offline HTML file.
- :func:`snapshot`: a PNG of the same scene, without any display.
- :func:`show`: an Open3D window where a display exists, else the HTML page.
- :class:`Layer`: how to draw an object (scalar field, colours, edges, ...).

Plus matplotlib helpers for figures (:func:`pyplot`, :func:`save_figure`),
a grid of scalar fields on one mesh (:func:`render_mesh_grid`) and a contact
sheet of light fields (:func:`save_contact_sheet`).
"""
from geodl.viz.figure import pyplot, save_figure
from geodl.viz.files import load_file
from geodl.viz.html import to_html
from geodl.viz.layer import Layer
from geodl.viz.lightfield_points import center_points, lightfield_layers
from geodl.viz.lightfield_sheet import save_contact_sheet
from geodl.viz.png import render_mesh_grid, save_mesh_png, save_point_cloud_png, snapshot
from geodl.viz.window import show

__all__ = ["Layer", "center_points", "lightfield_layers", "load_file", "pyplot",
           "render_mesh_grid", "save_contact_sheet", "save_figure", "save_mesh_png",
           "save_point_cloud_png", "show", "snapshot", "to_html"]
