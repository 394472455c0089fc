"""Layers (``conv``), pooling (``pool``), models (``models``) and the
operators DiffusionNet precomputes."""
from geodl.nn import conv, models, pool, pseudo_coords
from geodl.nn.diffusion_operators import DiffusionOperators

__all__ = ["DiffusionOperators", "conv", "models", "pool", "pseudo_coords"]
