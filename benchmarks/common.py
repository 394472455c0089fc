"""Helpers for the benchmark scripts: interleaved timing on a noisy machine."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def synchronize() -> None:
    """Wait for the GPU's queued work (a no-op without CUDA in use), so that a
    clock read after it counts the kernels, not only their launch."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def interleaved(funcs: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, list[float]]:
    """Run each function once per round, rounds interleaved (A B A B ...), so
    that load from other processes hits every contender alike."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, fn in funcs.items():
            synchronize()
            t0 = time.perf_counter()
            fn()
            synchronize()
            times[name].append(time.perf_counter() - t0)
    return times


def report(times: dict[str, list[float]], baseline: str) -> None:
    base = statistics.median(times[baseline])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:40s} median {med:8.3f} s  (runs: {', '.join(f'{t:.3f}' for t in ts)})"
              f"  {base / med:5.2f}x vs {baseline}")


def train_step(layer, x, edge_index):
    """One forward + backward of ``layer`` (loss = mean squared output)."""
    def run():
        x.grad = None
        for p in layer.parameters():
            p.grad = None
        out = layer(x, edge_index)
        out.square().mean().backward()
        return out
    return run


def compare_layers(name: str, ours, theirs, x, edge_index, repeats: int) -> None:
    """Print output and input-gradient differences, then interleaved timings
    of forward + backward, geodl against the reference layer."""
    import torch

    with torch.no_grad():
        diff = (ours(x, edge_index) - theirs(x, edge_index)).abs().max().item()
    print(f"\n{name}: max |output difference| = {diff:.2e}")
    ga = torch.autograd.grad(ours(x, edge_index).square().mean(), x)[0]
    gb = torch.autograd.grad(theirs(x, edge_index).square().mean(), x)[0]
    print(f"  max |input-gradient difference| = {(ga - gb).abs().max():.2e}")
    times = interleaved({f"geodl {name}": train_step(ours, x, edge_index),
                         f"PyG   {name}": train_step(theirs, x, edge_index)}, repeats)
    report(times, f"PyG   {name}")


def compare_calls(name: str, ours: Callable[[], object], theirs: Callable[[], object],
                  repeats: int, inner: int = 1) -> None:
    """Output difference of two forward calls, then interleaved timings of
    ``inner`` forward + backward passes each (small inputs: several passes per
    timing, so the clock resolution and one-off noise matter less)."""
    import torch

    with torch.no_grad():
        diff = (ours() - theirs()).abs().max().item()
    print(f"\n{name}: max |output difference| = {diff:.2e}")

    def many(fn):
        def run():
            for _ in range(inner):
                fn().square().mean().backward()
        return run

    times = interleaved({f"geodl {name}": many(ours), f"PyG   {name}": many(theirs)}, repeats)
    report(times, f"PyG   {name}")
