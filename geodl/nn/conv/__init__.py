"""Convolutions, one per file, PyG-style ``forward(x, edge_index, ...)``."""
from geodl.nn.conv.cheb_conv import ChebConv
from geodl.nn.conv.gcn_conv import GCNConv

__all__ = ["ChebConv", "GCNConv"]
