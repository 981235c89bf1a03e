"""Command-line options shared by subcommands that build a dataset."""
from __future__ import annotations

import argparse

from ..index import AUDIO_SOURCES, CROPS, MISSING_VIDEO, VIEWS


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    """The SPEC §4 segment options as ``--crops``, ``--view``, ... flags."""
    parser.add_argument("--crops", choices=CROPS, default="lip")
    parser.add_argument("--view", choices=VIEWS, default="central")
    parser.add_argument("--audio", choices=AUDIO_SOURCES, default="central")
    parser.add_argument("--missing-video", choices=MISSING_VIDEO, default="pad")
    parser.add_argument("--min-video-coverage", type=float, default=0.5, metavar="FRACTION")
    parser.add_argument("--min-duration", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--max-duration", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--merge-gap", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--cache-dir", default=None, help="index and audio cache (default ~/.cache/mcorec_torch)")


def dataset_kwargs(args: argparse.Namespace) -> dict:
    """``MCoRecDataset`` keyword arguments from parsed :func:`add_dataset_options` flags."""
    return dict(crops=args.crops, view=args.view, audio=args.audio, missing_video=args.missing_video,
                min_video_coverage=args.min_video_coverage, min_duration=args.min_duration,
                max_duration=args.max_duration, merge_gap=args.merge_gap, cache_dir=args.cache_dir)
