"""``mcorec-torch check ROOT``: validate a split and list every problem, grouped by session
(exit 1 if any; notes on what is unusual but valid do not count); when there is no problem,
also show which segments the given options make of it."""
from __future__ import annotations

import argparse
import dataclasses
import json

from ._options import add_dataset_options, dataset_options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="validate a split and report every problem")
    parser.add_argument("root", metavar="SPLIT_DIR")
    decoding = parser.add_mutually_exclusive_group()
    decoding.add_argument("--no-decode", action="store_true",
                          help="only open and demux media; do not decode first/last frames")
    decoding.add_argument("--deep", action="store_true",
                          help="decode every video and audio frame of every file (slow; shows a progress bar)")
    parser.add_argument("--json", metavar="FILE",
                        help="also write the findings as JSON ('-': print only the JSON)")
    add_dataset_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.dataset import MCoRecDataset
    from ..qa.check import check_split

    options = dataset_options(args)
    result = check_split(args.root, decode=not args.no_decode, options=options, deep=args.deep)
    report = result.to_dict()
    machine = args.json == "-"
    if not machine:
        print(result.format())
    if result.ok:  # what the dataset makes of the split with these options (a data error exits 2)
        dataset = MCoRecDataset(args.root, cache_dir=args.cache_dir, **dataclasses.asdict(options))
        report["segments"] = {"count": len(dataset), "options": dataclasses.asdict(options),
                              "report": dataset.report().to_dict()}
        if not machine:
            print(f"\n{len(dataset)} segments with crops={options.crops!r}, view={options.view!r}, "
                  f"audio={options.audio!r}:")
            print(dataset.report().format())
    if machine:
        print(json.dumps(report, indent=2))
    elif args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
    return 0 if result.ok else 1
