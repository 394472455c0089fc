"""Helpers for the benchmark scripts: interleaved timing on a noisy machine."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def interleaved(funcs: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, list[float]]:
    """Run each function once per round, rounds interleaved (A B A B ...), so
    that load from other processes hits every contender alike."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, fn in funcs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def report(times: dict[str, list[float]], baseline: str) -> None:
    base = statistics.median(times[baseline])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:40s} median {med:8.3f} s  (runs: {', '.join(f'{t:.3f}' for t in ts)})"
              f"  {base / med:5.2f}x vs {baseline}")
