"""``mcorec-torch``: the command line (SPEC §9). Each subcommand lives in ``mcorec_torch.commands``."""
from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import sys
from typing import Any, Dict, List, Optional, Sequence

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("index", "describe", "check", "show", "timeline", "cache", "lips", "demo", "score", "tokenizer", "train", "decode",
            "bench", "export", "export_merge")


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """``"did you mean X or Y?"`` naming the (at most three) candidates closest to ``word``
    (:func:`difflib.get_close_matches`, compared without leading dashes, which every flag
    shares), or ``""`` when none is close."""
    by_name = {candidate.lstrip("-"): candidate for candidate in candidates}
    close = difflib.get_close_matches(word.lstrip("-"), list(by_name), n=3)
    return f"did you mean {' or '.join(by_name[name] for name in close)}?" if close else ""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose "invalid choice" error (a misspelled subcommand, ``--format
    mpp``) names the closest choices. Subcommand parsers are made of this class too."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            hint = did_you_mean(str(value), [str(choice) for choice in action.choices or ()])
            if not hint:
                raise
            raise argparse.ArgumentError(action, f"{exc.message} ({hint})") from None


def build_parser() -> Parser:
    from .commands._version import package_version

    parser = Parser(prog="mcorec-torch", description="Frame-exact MCoRec (CHiME-9 Task 1) segments for PyTorch.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
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


def _subcommand_parsers(parser: argparse.ArgumentParser) -> Dict[str, argparse.ArgumentParser]:
    """The subcommand parsers of ``parser`` by name."""
    for action in parser._actions:  # argparse keeps its subparsers action only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> List[str]:
    return [flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")]


def parse_command_line(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """The parsed command line; an argument the subcommand does not take is a usage error
    (exit 2) that names the subcommand's closest flags."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = _subcommand_parsers(parser).get(args.command, parser)
        flags = _flags(command)  # the top-level flags go before the subcommand: not suggested after it
        message = f"unrecognized arguments: {' '.join(unknown)}"
        for word in unknown:
            flag = word.split("=", 1)[0]
            hint = did_you_mean(flag, flags) if flag.startswith("--") else ""
            if hint:
                message += f"; {flag}: {hint}"
        command.error(message)
    return args


def _interruption_note(parsed: List[argparse.Namespace]) -> Optional[str]:
    """What the interrupted command kept and how to go on: its ``interrupted_note(args)`` (a
    parser default a command sets: ``parser.set_defaults(interrupted_note=...)``), or ``None``
    for the general note."""
    if not parsed or getattr(parsed[0], "interrupted_note", None) is None:
        return None
    return parsed[0].interrupted_note(parsed[0])


def _run(argv: Optional[Sequence[str]], parsed: List[argparse.Namespace]) -> int:
    args = parse_command_line(build_parser(), argv)
    parsed.append(args)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    return args.func(args)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return its exit status
    (SPEC §9): bad input is ``error: ...`` and 2, Ctrl-C one ``interrupted: ...`` line and 130,
    a closed stdout 141 without a word (``commands._exit``)."""
    from .commands._exit import DEFAULT_INTERRUPTED_NOTE, exit_code_of

    parsed: List[argparse.Namespace] = []  # the command line, once parsed: its command's note
    return exit_code_of(_run, argv, parsed,
                        interrupted=lambda: _interruption_note(parsed) or DEFAULT_INTERRUPTED_NOTE)


if __name__ == "__main__":
    sys.exit(main())
