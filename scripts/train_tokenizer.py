#!/usr/bin/env python
"""Train a SentencePiece tokenizer on the transcripts of MCoRec split directories.

    python scripts/train_tokenizer.py data/train --vocab-size 5000 --out-dir tokenizer/

Reads every ``SESSION/labels/spk_N.vtt``, keeps the cues inside the speaker's central UEM,
normalizes them with ``--style`` (the dataset's default, ``train``, unless you train on
another style) and writes ``<name>.model``, ``<name>.vocab`` and the ESPnet-style
``<name>_units.txt`` (``<name>`` defaults to ``unigram<vocab-size>``). Deterministic.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.text import STYLES
from mcorec_torch.tokenizer import Tokenizer, collect_transcripts, train_tokenizer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("split_dirs", nargs="+", metavar="SPLIT_DIR",
                        help="split directories (e.g. data/train) holding session folders")
    parser.add_argument("--vocab-size", type=int, default=5000,
                        help="target vocabulary size (smaller if the corpus is too small)")
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for the output files")
    parser.add_argument("--name", default=None, help="file name stem (default: <model-type><vocab-size>)")
    parser.add_argument("--style", choices=STYLES + ("none",), default="train",
                        help="text normalization applied to every cue (none: as written)")
    parser.add_argument("--model-type", default="unigram", choices=("unigram", "bpe", "char", "word"))
    parser.add_argument("--label-dir-name", default="labels", help="transcript folder in each session")
    parser.add_argument("--character-coverage", type=float, default=1.0)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    style = None if args.style == "none" else args.style
    try:
        texts = collect_transcripts(args.split_dirs, style=style, label_dir_name=args.label_dir_name)
    except MCoRecDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not texts:
        print("error: no transcript cues found inside the speakers' UEMs", file=sys.stderr)
        return 1
    name = args.name or f"{args.model_type}{args.vocab_size}"
    prefix = args.out_dir / name
    model_path = train_tokenizer(texts, prefix, args.vocab_size, model_type=args.model_type,
                                 character_coverage=args.character_coverage)
    units_path = prefix.with_name(name + "_units.txt")
    tokenizer = Tokenizer(model_path, units_path)
    words = sum(len(t.split()) for t in texts)
    print(f"trained on {len(texts)} cues ({words} words, style {args.style})")
    print(f"model: {model_path} ({tokenizer.vocab_size - 2} pieces + blank + eos with units)")
    print(f"vocab: {prefix.with_name(name + '.vocab')}")
    print(f"units: {units_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
