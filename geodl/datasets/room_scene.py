"""Deprecated module path of :mod:`geodl.datasets.rooms.scene` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import scene

warnings.warn("geodl.datasets.room_scene is deprecated; use geodl.datasets.rooms.scene",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = scene
