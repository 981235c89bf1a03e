"""``mcorec-torch export SPLIT OUT --format F``: write the segments of a split for other toolkits
(SPEC §7): mp4, wds, lhotse, hf or kaldi; parallel, resumable, shardable, verifiable."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..export.formats import FORMATS, VIDEO_CHOICES
from ..text.choices import NORMALIZERS
from ._options import add_dataset_options, dataset_kwargs


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("export", help="write a split's segments as mp4, WebDataset, lhotse, HF datasets "
                                                  "or Kaldi/ESPnet files")
    parser.add_argument("split", metavar="SPLIT", help="a split directory, or with --config the config's split name")
    parser.add_argument("out", metavar="OUT", help="output folder (created; re-running continues an export)")
    parser.add_argument("--format", choices=FORMATS, default="mp4", help="what to write (default: mp4)")
    parser.add_argument("--lossless", action="store_true",
                        help="x264 qp 0 in the frames' own pixel format + float PCM/WAV (default: H.264 + AAC/FLAC)")
    parser.add_argument("--video", choices=VIDEO_CHOICES, default="mp4",
                        help="wds and hf: frames as an mp4 (with the audio) or raw uint8 .npy arrays")
    parser.add_argument("--shard-size", default="1000", metavar="N|NMB",
                        help="wds: samples per tar (1000) or megabytes (100MB)")
    parser.add_argument("--seed", type=int, default=0,
                        help="wds: the seed of the order of the segments across the shards (each shard mixes sessions)")
    parser.add_argument("--workers", type=int, default=1, help="processes writing sessions in parallel (default 1)")
    parser.add_argument("--shard", default=None, metavar="I/N",
                        help="only shard I of N (sessions dealt round-robin); then run export-merge OUT")
    parser.add_argument("--verify", nargs="?", const=20, type=int, default=0, metavar="COUNT",
                        help="re-read COUNT (default 20) written segments and compare them with the dataset")
    parser.add_argument("--config", default=None, metavar="YAML",
                        help="take the segment options, text and tokenizer from this experiment config")
    parser.add_argument("--tokenizer", default=None, metavar="MODEL", help="SentencePiece .model: token ids in the "
                                                                        "manifest, CSV, wds json and hf rows")
    parser.add_argument("--normalizer", default="default", choices=(*NORMALIZERS, "none"),
                        help="text normalization (SPEC §6; none keeps the cue text)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_dataset_options(parser)
    parser.set_defaults(func=run)


def _dataset(args: argparse.Namespace):
    """``(dataset, split name)`` from the flags or the config."""
    if args.config:
        from ..config import build_dataset, load_config

        config = load_config(args.config)
        dataset = build_dataset(config, args.split)
        dataset.transform = None  # exports hold the segments as read, not augmented
        return dataset, args.split
    from ..data.dataset import MCoRecDataset

    normalizer = None if args.normalizer == "none" else args.normalizer
    return MCoRecDataset(args.split, normalizer=normalizer, tokenizer=args.tokenizer, **dataset_kwargs(args)), \
        Path(os.path.abspath(args.split)).name


def run(args: argparse.Namespace) -> int:
    from ..export import ExportSettings, export_split, format_verify_report, parse_shard, verify_export

    settings = ExportSettings(format=args.format, lossless=args.lossless, video=args.video,
                              shard_size=args.shard_size, seed=args.seed)
    shard = parse_shard(args.shard)
    dataset, split = _dataset(args)
    result = export_split(dataset, split, args.out, settings, workers=args.workers, shard=shard,
                          progress=not args.no_progress)
    print(result.summary())
    if not result.merged:
        print(f"shard {shard[0]}/{shard[1]} done; when every shard is, run: mcorec-torch export-merge {args.out}")
    if args.verify and result.merged:
        report = verify_export(args.out, dataset, count=args.verify)
        print(format_verify_report(report))
        if report["problems"]:
            return 1
    return 1 if result.skipped else 0
