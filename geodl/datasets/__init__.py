"""Datasets over the recipes and fixtures under ``datasets/``."""
from geodl.datasets.plane_lightfield import smooth_texture, textured_plane
from geodl.datasets.rooms.lightfield_captures import RoomCaptures, render_room_captures, write_room_captures
from geodl.datasets.rooms.scene import (
    FINE_PARTS,
    ROOM_SUPERSAMPLE,
    median_depth,
    render_hci_scene,
    scene_name,
)
from geodl.datasets.rooms.scene_sets import (
    BENCHMARK_SEEDS,
    cached_room_scenes,
    training_seeds,
    write_room_scenes,
)
from geodl.datasets.top_tagging import TopTagging

__all__ = ["BENCHMARK_SEEDS", "FINE_PARTS", "ROOM_SUPERSAMPLE", "RoomCaptures", "TopTagging",
           "cached_room_scenes", "median_depth", "render_hci_scene", "render_room_captures",
           "scene_name", "smooth_texture", "textured_plane", "training_seeds",
           "write_room_captures", "write_room_scenes"]
