"""``mcorec-torch check ROOT``: validate a split and list every problem (exit 1 if any)."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="validate a split and report every problem")
    parser.add_argument("root", metavar="SPLIT_DIR")
    parser.add_argument("--no-decode", action="store_true",
                        help="only open and demux media; do not decode first/last frames")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..check import check_split

    result = check_split(args.root, decode=not args.no_decode)
    for problem in result.problems:
        print(problem)
    status = "OK" if result.ok else f"{len(result.problems)} problem(s)"
    print(f"checked {result.sessions} session(s), {result.files} file(s): {status}")
    return 0 if result.ok else 1
