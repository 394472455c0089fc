"""Complete networks built from ``geodl.nn.conv`` and ``geodl.nn.pool``."""
from geodl.nn.models.diffusion_net import DiffusionNet

__all__ = ["DiffusionNet"]
