"""Datasets over the recipes and fixtures under ``datasets/``."""
from geodl.datasets.room_lightfields import (BENCHMARK_SEEDS, scene_name, training_seeds,
                                             write_room_scenes)
from geodl.datasets.top_tagging import TopTagging

__all__ = ["BENCHMARK_SEEDS", "TopTagging", "scene_name", "training_seeds",
           "write_room_scenes"]
