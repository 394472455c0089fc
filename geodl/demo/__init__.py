"""``geodl demo``: what the library computes, end to end.

Part 1 (:mod:`geodl.demo.room`): the pipeline the light-field half exists
for, on one seeded room: light-field captures -> disparity -> a novel view
-> a fused room mesh -> evaluated against the ground truth -> ``report.html``.
Part 2 (:mod:`geodl.demo.tour`, into ``tour/``): spectra, geodesics,
descriptors, kNN graphs, pooling, light fields, jets and the offline 3D
viewers, every number computed on the spot and compared with an exact answer
where one exists.
"""
from __future__ import annotations

import time
from pathlib import Path

from geodl.demo.room import run_room
from geodl.demo.tour import run_tour, write_viewers

#: a file every demo output folder holds, so a re-run may write into it
MARKER = ".geodl-demo"

__all__ = ["MARKER", "run_demo", "run_room", "run_tour", "write_viewers"]


def run_demo(out: Path, quick: bool = False) -> None:
    """Both parts into ``out`` (``quick``: part 1 on tiny captures, no tour)."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by geodl demo\n")
    rows = run_room(out, quick=quick)
    part1 = time.perf_counter() - t0
    if not quick:
        print()
        run_tour(out / "tour")
    print("\n== Summary: the room")
    width = max(len(r["result"]) for r in rows)
    for r in rows:
        print(f"   {r['result']:{width}s}  {r['value']}")
    print(f"\nDone in {time.perf_counter() - t0:.0f} s (part 1: {part1:.0f} s). "
          f"Open {out / 'report.html'} in a browser; pictures: {out}/*.png"
          + ("" if quick else f", {out / 'tour'}/"))
