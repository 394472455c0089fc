"""Convert a file of the public top-tagging reference set (train.h5, val.h5 or
test.h5; Kasieczka et al. 2019) into the .npz that geodl.datasets.TopTagging
reads, so experiments/jet_tagging.py runs on it:

    pip install -e ".[reference]"
    python datasets/jets/convert_reference.py test.h5 test.npz --max-constituents 60
    python experiments/jet_tagging.py --data test.npz
"""
from __future__ import annotations

import argparse

from geodl.datasets.top_tagging_reference import convert_reference


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("h5", help="a reference-set file (pandas HDF5, key 'table')")
    ap.add_argument("out", help="the .npz to write")
    ap.add_argument("--max-constituents", type=int, default=60)
    ap.add_argument("--limit", type=int, default=None, help="convert only the first N jets")
    args = ap.parse_args()
    digest = convert_reference(args.h5, args.out, args.max_constituents, args.limit)
    print(f"wrote {args.out}, sha256 {digest}")


if __name__ == "__main__":
    main()
