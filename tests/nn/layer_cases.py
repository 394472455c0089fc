"""One small instance of every graph layer with arguments for its forward,
shared by the device, compile and validation tests."""
from __future__ import annotations

import torch

import geodl.nn.conv as C
from tests.helpers import mlp as _mlp
from tests.helpers import random_graph


def graph(n: int = 10, e: int = 30, seed: int = 0):
    """(edge_index, x (n, 6), weight (e,), edge_attr (e, 3))."""
    return random_graph(n, e, "x", "weight", "edge_attr", seed=seed)


def layer_cases():
    """name -> (layer, args builder (x, ei, w, ea) -> forward args)."""
    torch.manual_seed(0)
    return {
        "GCNConv": (C.GCNConv(6, 4), lambda x, ei, w, ea: (x, ei, w)),
        "ChebConv": (C.ChebConv(6, 4, K=3), lambda x, ei, w, ea: (x, ei, w)),
        "CayleyConv": (C.CayleyConv(6, 4, r=2, jacobi_iterations=4),
                       lambda x, ei, w, ea: (x, ei, w)),
        "GATConv": (C.GATConv(6, 4, heads=2, edge_dim=3), lambda x, ei, w, ea: (x, ei, ea)),
        "GINConv": (C.GINConv(_mlp(6, 4)), lambda x, ei, w, ea: (x, ei)),
        "GINEConv": (C.GINEConv(_mlp(6, 4), edge_dim=3), lambda x, ei, w, ea: (x, ei, ea)),
        "SAGEConv": (C.SAGEConv(6, 4), lambda x, ei, w, ea: (x, ei)),
        "SAGEConv-max": (C.SAGEConv(6, 4, aggr="max"), lambda x, ei, w, ea: (x, ei)),
        "EdgeConv": (C.EdgeConv(_mlp(12, 4)), lambda x, ei, w, ea: (x, ei)),
        "NNConv": (C.NNConv(6, 4, _mlp(3, 24), aggr="mean"), lambda x, ei, w, ea: (x, ei, ea)),
        "FeaStConv": (C.FeaStConv(6, 4, heads=2), lambda x, ei, w, ea: (x, ei)),
        "GMMConv": (C.GMMConv(6, 4, dim=3, kernel_size=2), lambda x, ei, w, ea: (x, ei, ea)),
        "GMMConv-separate": (C.GMMConv(6, 4, dim=3, kernel_size=2, separate_gaussians=True),
                             lambda x, ei, w, ea: (x, ei, ea)),
    }
