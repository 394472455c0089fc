"""matplotlib on the headless Agg back-end: figures without a display."""
from __future__ import annotations

from pathlib import Path


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return matplotlib, plt


def pyplot():
    """``matplotlib.pyplot`` on the headless Agg back-end."""
    return _mpl()[1]


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG (creating folders) and close it."""
    _, plt = _mpl()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
