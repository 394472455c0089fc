"""Graph-level readouts and TopK pooling: PyG's own implementations.

PyG's ``global_*_pool``, ``AttentionalAggregation`` and ``TopKPooling`` are
pure torch (no torch-scatter needed) and already what a geodl model wants,
so geodl re-exports them instead of keeping a second copy; our tests pin their
behaviour (values by hand) so that an upstream change would be noticed.

- ``global_mean_pool(x, batch)``, ``global_max_pool``, ``global_add_pool``:
  (N, C) -> (B, C).
- ``AttentionReadout(gate_nn)``: :math:`\\sum_i \\mathrm{softmax}_i(g(x_i))\\, x_i`
  per graph (Li et al. 2016), PyG's ``AttentionalAggregation``.
- ``TopKPool(in_channels, ratio)``: keeps the :math:`\\lceil kN\\rceil` nodes with
  the largest score :math:`y = x p / \\|p\\|`, scaled by :math:`\\tanh(y)`, and
  the edges among them (Gao & Ji 2019; Cangea et al. 2018); PyG's ``TopKPooling``.
"""
from torch_geometric.nn import TopKPooling as TopKPool
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.nn.aggr import AttentionalAggregation as AttentionReadout

__all__ = ["AttentionReadout", "TopKPool", "global_add_pool", "global_max_pool",
           "global_mean_pool"]
