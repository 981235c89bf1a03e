"""``mcorec-torch describe SPLIT_DIR...``: figures of the segments the options make of one or more
splits (``MCoRecDataset.describe()``): hours, segments, speakers, sessions, conversations,
duration percentiles and histogram, per-session and per-speaker tables, each session's speech
overlap from its labels; ``--json`` prints them as JSON instead."""
from __future__ import annotations

import argparse
import json

from ._options import add_dataset_options, dataset_kwargs


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("describe", help="figures of a split: hours, speakers, durations, speech overlap")
    parser.add_argument("roots", nargs="+", metavar="SPLIT_DIR")
    add_dataset_options(parser)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.dataset import MCoRecDataset

    dataset = MCoRecDataset(args.roots, **dataset_kwargs(args))  # errors: exit 2 (cli)
    description = dataset.describe()
    print(json.dumps(description.to_dict(), indent=2) if args.json else description)
    return 0
