"""``mcorec-torch check ROOT``: validate a split and list every problem and note, grouped by
session (exit 1 if there is a problem; notes on what is loadable but unusual do not count);
when there is no problem, also show which segments the given options make of it. ``--json``
and ``--html`` write the same findings as JSON and as a self-contained page."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Tuple

from ._options import add_dataset_options, dataset_options

if TYPE_CHECKING:
    from ..index.options import DatasetOptions
    from ..index.report import IndexReport


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
    parser.add_argument("--html", metavar="FILE",
                        help="also write the findings and the segment report as one self-contained HTML page")
    add_dataset_options(parser)
    parser.set_defaults(func=run)


def _segments(args: argparse.Namespace, options: "DatasetOptions") -> Tuple[int, "IndexReport", str]:
    """(segments, the index's report, what made them) of the split with these options (a data
    error exits 2)."""
    from ..data.dataset import MCoRecDataset

    # 0 segments is a finding here (the table says why), not the dataset's error: allow_empty
    dataset = MCoRecDataset(args.root, cache_dir=args.cache_dir, **{**dataclasses.asdict(options), "allow_empty": True})
    made_by = (f"{len(dataset)} segments with crops={options.crops!r}, view={options.view!r}, "
               f"audio={options.audio!r}")
    return len(dataset), dataset.report(), made_by


def _emit(text: str) -> None:
    """Print ``text`` and a newline, all of it written out here: a reader of stdout that went
    away (``| head``) then raises ``BrokenPipeError`` inside the command, which the command
    line ends quietly (``commands._exit``), never in the interpreter's exit. (A buffered
    stream takes a write that the closing reader cut short as done and drops the rest, so
    the bytes are written in a loop until all are out.)"""
    stream = sys.stdout
    raw = getattr(stream, "buffer", None)
    if raw is None:  # a text-only stream (tests replace stdout)
        stream.write(text + "\n")
        stream.flush()
        return
    stream.flush()
    rest = memoryview((text + "\n").encode(stream.encoding or "utf-8", stream.errors or "strict"))
    while rest:
        rest = rest[raw.write(rest):]
        raw.flush()


def run(args: argparse.Namespace) -> int:
    from .._io import atomic_write_text
    from ..qa.check import check_split
    from ..index.build import default_cache_dir
    from ..lips.store import LandmarkStore, landmark_folder
    from ..qa.check.html import render_html

    options = dataset_options(args)
    cache_dir = Path(args.cache_dir) if args.cache_dir is not None else default_cache_dir()
    result = check_split(args.root, decode=not args.no_decode, options=options, deep=args.deep,
                         landmarks=LandmarkStore(landmark_folder(cache_dir)))
    report = result.to_dict()
    machine = args.json == "-"
    if not machine:
        _emit(result.format())
    segments: Optional[Tuple[int, "IndexReport", str]] = _segments(args, options) if result.ok else None
    if segments is not None:
        count, index_report, made_by = segments
        report["segments"] = {"count": count, "options": dataclasses.asdict(options), "report": index_report.to_dict()}
        if not machine:
            _emit(f"\n{made_by}:\n{index_report.format()}")
    if args.html:
        atomic_write_text(args.html, render_html(result, segments))
    if machine:
        _emit(json.dumps(report, indent=2))
    elif args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2) + "\n")
    return 0 if result.ok else 1
