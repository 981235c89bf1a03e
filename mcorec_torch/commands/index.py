"""``mcorec-torch index ROOT...``: build (or read back) the cached index and print its report."""
from __future__ import annotations

import argparse
import json
import time

from ..timeline import FPS
from ._options import add_dataset_options, dataset_kwargs


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("index", help="build and cache the segment index, print statistics")
    parser.add_argument("roots", nargs="+", metavar="SPLIT_DIR")
    add_dataset_options(parser)
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached index")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.dataset import MCoRecDataset

    started = time.perf_counter()
    dataset = MCoRecDataset(args.roots, rebuild_index=args.rebuild, **dataset_kwargs(args))  # errors: exit 2 (cli)
    seconds = time.perf_counter() - started
    report = dataset.report()
    lengths = dataset.lengths
    print(report.format())
    print(f"\n{len(dataset)} segments, {lengths.sum() / FPS / 3600:.2f} h "
          f"({lengths.sum()} frames, {lengths.min() if len(lengths) else 0}-{lengths.max() if len(lengths) else 0} "
          f"frames per segment); index ready in {seconds:.2f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report.to_dict(), handle, indent=2)
    return 0
