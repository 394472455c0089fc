"""Learned disparity weights on held-out training rooms, as ``geodl train-depth``
validates them: BadPix 0.07, MAE and the median signed error over the central
160 x 160 of each room (8 px border), for comparing weights trained on
different data (e.g. rooms only against rooms and objects scenes).

    .venv/bin/python experiments/learned_depth_rooms.py --model cost_net \\
        --weights shipped runs/cost_net_objects --rooms 8

``shipped`` names the weights in the package; any other value is a
checkpoint (a run folder or a ``.pt`` file, as ``estimate_disparity``
takes). Rooms are the ``training_seeds`` indices given (the default run's
held-out room is index 8), rendered into ``datasets/cache/depth_rooms`` when
missing, never benchmark seeds.
"""
from __future__ import annotations

import argparse

import torch

from geodl.datasets import training_seeds
from geodl.lightfield.depth.learned import load_model, star_views
from geodl.training.depth import Room, cache_room, predict, validate

CROP, BORDER = 160, 8


def median_signed_error(model: torch.nn.Module, room: Room) -> float:
    """Median of (estimate - truth) over the crop :func:`validate` scores."""
    S, H, W = room.views.shape
    y, x = (H - CROP) // 2, (W - CROP) // 2
    grid = torch.zeros(1, 9, 9, CROP, CROP)
    for i, (r, c) in enumerate(star_views(9)):
        grid[0, r, c] = room.views[i, y:y + CROP, x:x + CROP]
    with torch.no_grad():
        pred = predict(model, grid)[0][BORDER:-BORDER, BORDER:-BORDER]
    gt = room.disparity[y:y + CROP, x:x + CROP][BORDER:-BORDER, BORDER:-BORDER]
    ok = torch.isfinite(gt)
    return float((pred - gt)[ok].median())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["epinet", "cost_net"], required=True)
    ap.add_argument("--weights", nargs="+", default=["shipped"],
                    help="'shipped' or checkpoints (run folders or .pt files)")
    ap.add_argument("--rooms", type=int, nargs="+", default=[8],
                    help="indices into training_seeds (default 8, the default run's held-out room)")
    ap.add_argument("--cache", default="datasets/cache/depth_rooms")
    args = ap.parse_args(argv)
    seeds = training_seeds(max(args.rooms) + 1)
    rooms = {i: Room.load(cache_room(seeds[i], 512, args.cache)) for i in args.rooms}
    for weights in args.weights:
        model = load_model(args.model, None if weights == "shipped" else weights)
        for i, room in rooms.items():
            scores = validate(model, [room], CROP, torch.device("cpu"), border=BORDER)
            print(f"{args.model} {weights} room {i}: BadPix 0.07 {scores['badpix_0.07']:.2f} %, "
                  f"MAE {scores['mae']:.3f} px, median signed error "
                  f"{median_signed_error(model, room):+.3f} px", flush=True)


if __name__ == "__main__":
    main()
