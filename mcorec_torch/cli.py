"""``mcorec-torch``: the command line (SPEC §9). Each subcommand lives in ``mcorec_torch.commands``."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import List, Optional

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("index", "check", "show", "timeline", "cache", "demo", "score", "tokenizer", "train", "decode", "bench", "export",
            "export_merge")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcorec-torch", description="Frame-exact MCoRec (CHiME-9 Task 1) segments for PyTorch.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mcorec_torch.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mcorec_torch.commands.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    from .commands._exit import exit_code_of

    return exit_code_of(args.func, args)  # a data or config error: its message and exit 2 (SPEC §9)


if __name__ == "__main__":
    sys.exit(main())
