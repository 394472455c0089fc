"""Datasets over the recipes and fixtures under ``datasets/``."""
from geodl.datasets.top_tagging import TopTagging

__all__ = ["TopTagging"]
