"""``mcorec-torch train --config CONFIG``: train the example AVSR model of a YAML experiment
(:mod:`mcorec_torch.train.loop`); ``scripts/train_avsr.py`` is the same command as a script
(also under torchrun)."""
from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train the example AVSR model from a YAML config",
        description="Train the small audio-visual CTC model of mcorec_torch.train from a YAML config: logs to "
                    "<train.out_dir>/log.jsonl, checkpoints to <train.out_dir>/last.pt (--resume continues it "
                    "exactly; with another number of processes at an epoch boundary). Works under torchrun "
                    "(scripts/train_avsr.py).")
    parser.add_argument("--config", required=True, help="YAML experiment file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. train.epochs=3 (repeatable)")
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                        help="continue from a checkpoint (default: <out_dir>/last.pt)")
    parser.add_argument("--next-epoch", action="store_true",
                        help="with --resume: continue at the start of the epoch after the checkpoint's (the rest "
                             "of its epoch skipped); needed to resume a mid-epoch checkpoint with another number "
                             "of processes (one saved at an epoch boundary continues without it)")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over in an existing run folder (its last.pt and log.jsonl are replaced)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train (:func:`~mcorec_torch.train.loop.run_training`)."""
    from ..train.loop import run_training

    return run_training(args.config, args.overrides, resume=args.resume, overwrite=args.overwrite,
                        next_epoch=args.next_epoch)
