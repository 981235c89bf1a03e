"""``mcorec-torch export-merge OUT``: join the per-session parts of a sharded export (every
``--shard i/n`` job done) into its final files (manifest.jsonl and the format's own)."""
from __future__ import annotations

import argparse
import sys

from ..errors import MCoRecDataError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("export-merge", help="join the shards of an export (export --shard i/n) into "
                                                        "its manifest and final files")
    parser.add_argument("out", metavar="OUT", help="the export folder every shard wrote into")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export import merge_export

    try:
        segments, skipped = merge_export(args.out)
    except MCoRecDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"merged {segments} segments into {args.out}/manifest.jsonl ({skipped} skipped, see skipped.jsonl)")
    return 0
