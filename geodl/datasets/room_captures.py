"""Deprecated module path of :mod:`geodl.datasets.rooms.lightfield_captures` (the same
module object: importing this one warns and hands that one back)."""
import sys
import warnings

from geodl.datasets.rooms import lightfield_captures

warnings.warn("geodl.datasets.room_captures is deprecated; use geodl.datasets.rooms.lightfield_captures",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = lightfield_captures
