"""Training loops for the learned models: they draw data from the recipes in
``geodl.datasets`` and train models of ``geodl.lightfield``, so they sit above
both (``depth``: the disparity networks)."""
