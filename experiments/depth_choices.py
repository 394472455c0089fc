"""The training-room comparisons behind two disparity defaults: the planar
prior of ``estimate_disparity`` and ``refine_net``'s WLS data weight
(training rooms only; never run on the benchmark rooms). Figures:
``experiments/README.md#depth-choices``.

    .venv/bin/python experiments/depth_choices.py            # rooms 100-106
    .venv/bin/python experiments/depth_choices.py --refine-checkpoints RUN   # other weights too

The rooms are the anti-aliased ``ROOM_SUPERSAMPLE`` renders;
``--supersample 1`` renders them with one ray per pixel (the figures marked
one-ray in ``experiments/README.md``).

Variants, each scored with the benchmark's BadPix 0.07 and MSE x100 per room,
over all rooms and over the two halves the rule looks at (100-102, 103-106):

* ``cost_volume`` as estimated and snapped to planes, with its defaults (the
  real-scene settings) and with the rooms' matching (``ROOM_MATCHING``) with
  the multi-view Lucas-Kanade refinement on (3 iterations) and off (0);
  with ``--options``, ``cost_volume`` with those options too;
* ``refine_net`` with data weight p^4 (``confidence_power=0``, the default)
  and p^4 c (``confidence_power=1``), each as estimated and snapped; with
  ``--refine-checkpoints``, the same two for other weights.

"Snapped" is :func:`~geodl.lightfield.depth.planes.snap_to_planes` of the
answer as estimated, which is what ``estimate_disparity(..., planes=True)``
returns (``tests/lightfield/depth/test_planar_prior.py``), so each method runs once.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from geodl.datasets import ROOM_SUPERSAMPLE, cached_room_scenes
from geodl.lightfield import load_hci
from geodl.lightfield.benchmark.metrics import evaluate
from geodl.lightfield.depth import estimate_disparity
from geodl.lightfield.depth.cost_volume import ROOM_MATCHING
from geodl.lightfield.depth.planes import snap_to_planes

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / "datasets" / "cache" / "analysis_rooms"

#: name -> (method, options of estimate_disparity); each is scored as estimated and snapped
VARIANTS = {"cost_volume": ("cost_volume", {}),
            "cost_volume iterations 3": ("cost_volume", {"config": ROOM_MATCHING}),
            "cost_volume iterations 0": ("cost_volume",
                                         {"config": replace(ROOM_MATCHING, iterations=0)}),
            "refine_net p^4": ("refine_net", {"confidence_power": 0.0}),
            "refine_net p^4 c": ("refine_net", {"confidence_power": 1.0})}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=list(range(100, 107)))
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--supersample", type=int, default=ROOM_SUPERSAMPLE,
                    help="rays per pixel side of the renders (the recorded figures: 1)")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                    help="which variants to run (default: all)")
    ap.add_argument("--refine-checkpoints", nargs="*", type=Path, default=[],
                    help="also score refine_net with these weights (.pt or run folder), "
                         "with each data weight")
    ap.add_argument("--options", type=json.loads, default=None, metavar="JSON",
                    help='also score cost_volume with these options over its defaults, '
                         'e.g. \'{"blur": 1.0}\'')
    args = ap.parse_args(argv)
    variants = {k: VARIANTS[k] for k in args.variants}
    if args.options is not None:
        variants[f"cost_volume {json.dumps(args.options)}"] = ("cost_volume", args.options)
    for path in args.refine_checkpoints:
        for name, (_, options) in VARIANTS.items():
            if name.startswith("refine_net"):
                variants[f"{name} [{path}]"] = ("refine_net", {**options, "checkpoint": path})
    folders = dict(zip(args.seeds, cached_room_scenes(args.cache, args.seeds,
                                                      supersample=args.supersample)))
    rows: dict[str, list[tuple[float, float]]] = {}
    for seed in args.seeds:
        lf = load_hci(folders[seed])
        for name, (method, options) in variants.items():
            t0 = time.perf_counter()
            d, c = estimate_disparity(lf, method, planes=False, **options)
            for suffix, answer in (("", d), (" + planes", snap_to_planes(d, c).disparity)):
                m = evaluate(answer.double().numpy(), lf.ground_truth)
                rows.setdefault(name + suffix, []).append((m["badpix0.07"], m["mse100"]))
            print(f"room {seed} {name} ({time.perf_counter() - t0:.1f} s)", flush=True)
    halves = [i for i, s in enumerate(args.seeds) if s <= 102], \
        [i for i, s in enumerate(args.seeds) if s > 102]
    print("\n| variant | BadPix 0.07 per room | mean BadPix / MSE x100 | 100-102 | 103-106 |")
    print("|---|---|---|---|---|")
    summary = {}
    for name, r in rows.items():
        bad, mse = [b for b, _ in r], [e for _, e in r]
        part = [f"{_mean([bad[i] for i in h]):.2f} / {_mean([mse[i] for i in h]):.2f}"
                if h else "-" for h in halves]
        summary[name] = {"badpix0.07": _mean(bad), "mse100": _mean(mse)}
        print(f"| {name} | {' '.join(f'{b:.2f}' for b in bad)} | {_mean(bad):.2f} / "
              f"{_mean(mse):.2f} | {part[0]} | {part[1]} |")
    return summary


if __name__ == "__main__":
    main()
