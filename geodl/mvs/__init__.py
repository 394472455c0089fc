"""Multi-view stereo for posed photos: readers (COLMAP models through
``pycolmap``, NeRF-style ``transforms.json``), structure from motion
(``pycolmap``), depth ranges and neighbour views, the plane sweep, the
slanted-plane refinement, the scene's Manhattan planes for the textureless
fill, the geometric-consistency filter and its learned per-pixel alternative. The light-field depth estimators
(``geodl.lightfield.depth``) are the regular-grid special case; the sweep
shares their aggregation and refinement."""
from geodl.mvs.colmap import find_colmap_model, read_colmap, write_colmap_text
from geodl.mvs.consistency import agreement, consistency_filter, view_support
from geodl.mvs.depth_range import SceneRange, scene_range
from geodl.mvs.learned_filter import ConsistencyNet, pixel_features
from geodl.mvs.manhattan import ManhattanFrame, manhattan_frame
from geodl.mvs.neighbours import select_neighbors, select_neighbours
from geodl.mvs.nerf import read_transforms
from geodl.mvs.photos import load_posed_photos, photos_layout
from geodl.mvs.plane_sweep import plane_sweep_depth, sweep_cost
from geodl.mvs.sfm import solve_cameras
from geodl.mvs.slanted import PlaneCost, SlantedConfig, refine_slanted
from geodl.mvs.stereo import StereoResult, multi_view_stereo

__all__ = ["ConsistencyNet", "ManhattanFrame", "PlaneCost", "SceneRange", "SlantedConfig",
           "StereoResult", "agreement", "consistency_filter", "find_colmap_model",
           "load_posed_photos", "manhattan_frame", "multi_view_stereo", "photos_layout",
           "pixel_features", "plane_sweep_depth", "read_colmap", "read_transforms",
           "refine_slanted", "scene_range", "select_neighbors", "select_neighbours",
           "solve_cameras", "sweep_cost", "view_support", "write_colmap_text"]
