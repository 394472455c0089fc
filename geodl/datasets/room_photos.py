"""Deprecated module path of :mod:`geodl.datasets.rooms.photos` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import photos

warnings.warn("geodl.datasets.room_photos is deprecated; use geodl.datasets.rooms.photos",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = photos
