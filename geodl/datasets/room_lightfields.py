"""Deprecated module path of :mod:`geodl.datasets.rooms.scene_sets` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import scene_sets

warnings.warn("geodl.datasets.room_lightfields is deprecated; use geodl.datasets.rooms.scene_sets",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = scene_sets
