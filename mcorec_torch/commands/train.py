"""``mcorec-torch train --config CONFIG``: train the example AVSR model of a YAML experiment
(:mod:`mcorec_torch.train.loop`); ``scripts/train_avsr.py`` is the same command as a script
(also under torchrun)."""
from __future__ import annotations

import argparse
from typing import Optional, Sequence


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``mcorec-torch train`` and ``scripts/train_avsr.py``."""
    parser.add_argument("--config", required=True, help="YAML experiment file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. train.epochs=3 (repeatable)")
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                        help="continue from a checkpoint (default: <out_dir>/last.pt)")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over in an existing run folder (its last.pt and log.jsonl are replaced)")


DESCRIPTION = ("Train the small audio-visual CTC model of mcorec_torch.train from a YAML config: logs to "
               "<train.out_dir>/log.jsonl, checkpoints to <train.out_dir>/last.pt (--resume continues it "
               "exactly). Works under torchrun (scripts/train_avsr.py).")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train the example AVSR model from a YAML config",
                                   description=DESCRIPTION)
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train; a data or config error prints its message and gives exit 2 (SPEC §9), also as
    ``scripts/train_avsr.py``, which does not pass through the cli."""
    from ..train.loop import run_training
    from ._exit import exit_code_of

    return exit_code_of(run_training, args.config, args.overrides, resume=args.resume, overwrite=args.overwrite)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``scripts/train_avsr.py``: the same arguments without the ``mcorec-torch`` prefix."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
