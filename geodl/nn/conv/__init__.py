"""Convolutions, one per file, PyG-style ``forward(x, edge_index, ...)``."""
from geodl.nn.conv.cayley_conv import CayleyConv
from geodl.nn.conv.cheb_conv import ChebConv
from geodl.nn.conv.diffusion_block import DiffusionBlock
from geodl.nn.conv.edge_conv import DynamicEdgeConv, EdgeConv
from geodl.nn.conv.feast_conv import FeaStConv
from geodl.nn.conv.gat_conv import GATConv
from geodl.nn.conv.gcn_conv import GCNConv
from geodl.nn.conv.geodesic_conv import GeodesicConv
from geodl.nn.conv.gin_conv import GINConv, GINEConv
from geodl.nn.conv.gmm_conv import GMMConv
from geodl.nn.conv.learned_time_diffusion import LearnedTimeDiffusion
from geodl.nn.conv.nn_conv import EdgeConditionedConv, NNConv
from geodl.nn.conv.sage_conv import SAGEConv
from geodl.nn.conv.spatial_gradient_features import SpatialGradientFeatures
from geodl.nn.conv.spectral_conv import SpectralConv
from geodl.nn.conv.spiral_conv import SpiralConv

__all__ = ["CayleyConv", "ChebConv", "DiffusionBlock", "DynamicEdgeConv", "EdgeConditionedConv",
           "EdgeConv", "FeaStConv", "GATConv", "GCNConv", "GINConv", "GINEConv", "GMMConv",
           "GeodesicConv", "LearnedTimeDiffusion", "NNConv", "SAGEConv", "SpatialGradientFeatures",
           "SpectralConv", "SpiralConv"]
