"""Layers (``conv``), pooling (``pool``) and models (``models``)."""
from geodl.nn import conv

__all__ = ["conv"]
