"""``geodl demo``: what the library computes, end to end.

The tour (:mod:`geodl.demo.tour`): spectra, geodesics, descriptors, kNN
graphs, pooling, light fields, jets and the offline 3D viewers, every number
computed on the spot and compared with an exact answer where one exists.
"""
from __future__ import annotations

from pathlib import Path

from geodl.demo.tour import run_tour, write_viewers

#: a file every demo output folder holds, so a re-run may write into it
MARKER = ".geodl-demo"

__all__ = ["MARKER", "run_demo", "run_tour", "write_viewers"]


def run_demo(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by geodl demo\n")
    run_tour(out)
