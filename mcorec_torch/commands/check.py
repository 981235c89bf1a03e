"""``mcorec-torch check ROOT``: validate a split and list every problem (exit 1 if any); when
there is none, also show which segments the given options make of it."""
from __future__ import annotations

import argparse
import dataclasses

from ._options import add_dataset_options, dataset_options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="validate a split and report every problem")
    parser.add_argument("root", metavar="SPLIT_DIR")
    parser.add_argument("--no-decode", action="store_true",
                        help="only open and demux media; do not decode first/last frames")
    add_dataset_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import MCoRecDataError
    from ..qa.check import check_split

    options = dataset_options(args)
    result = check_split(args.root, decode=not args.no_decode, options=options)
    for problem in result.problems:
        print(problem)
    status = "OK" if result.ok else f"{len(result.problems)} problem(s)"
    print(f"checked {result.sessions} session(s), {result.files} file(s): {status}")
    if not result.ok:
        return 1
    from ..data.dataset import MCoRecDataset

    try:  # what the dataset makes of the split with these options
        dataset = MCoRecDataset(args.root, cache_dir=args.cache_dir, **dataclasses.asdict(options))
    except MCoRecDataError as exc:
        print(f"with these options: {exc}")
        return 1
    print(f"\n{len(dataset)} segments with crops={options.crops!r}, view={options.view!r}, "
          f"audio={options.audio!r}:")
    print(dataset.report().format())
    return 0
