"""``mcorec-torch tokenizer SPLIT_DIR...``: train a SentencePiece tokenizer on the transcripts of
MCoRec split directories (SPEC §6).

Reads every ``SESSION/<label-dir>/spk_N.vtt``, keeps the cues inside the speaker's central UEM,
normalizes them with ``--style`` (the dataset's default, ``train``, unless you train on another
style) and writes ``<name>.model``, ``<name>.vocab`` and the ESPnet-style ``<name>_units.txt``
(``<name>`` defaults to ``<model-type><pieces>``, the vocabulary the model really has: when the
text supports fewer pieces than ``--vocab-size``, that smaller number, the largest that works,
names the files and a line says so). Deterministic. Bad input (a missing split, a malformed
file, no cue to train on, a vocabulary below the characters the text needs) is an ``error:``
line and exit 2 (SPEC §9).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..checks import check_int, check_number
from ..corpus.layout import DEFAULT_LABEL_DIR
from ..errors import MCoRecDataError
from ..text.choices import MODEL_TYPES, STYLES


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "tokenizer", help="train a SentencePiece tokenizer on a split's transcripts",
        description="Train a SentencePiece tokenizer (model, vocab and ESPnet units file) on the "
                    "transcript cues inside the speakers' UEMs.")
    parser.add_argument("split_dirs", nargs="+", metavar="SPLIT_DIR",
                        help="split directories (e.g. data/train) holding session folders")
    parser.add_argument("--vocab-size", type=int, default=5000,
                        help="target vocabulary size (the largest the text supports when it supports fewer; "
                             "default: 5000)")
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for the output files")
    parser.add_argument("--name", default=None, help="file name stem (default: <model-type><pieces>, the "
                        "vocabulary the model really has, e.g. unigram5000)")
    parser.add_argument("--style", choices=STYLES + ("none",), default="train",
                        help="text normalization applied to every cue (none: as written; default: train)")
    parser.add_argument("--model-type", default=MODEL_TYPES[0], choices=MODEL_TYPES,
                        help=f"SentencePiece model type (default: {MODEL_TYPES[0]})")
    parser.add_argument("--label-dir", default=DEFAULT_LABEL_DIR,
                        help=f"transcript folder inside each session (default: {DEFAULT_LABEL_DIR})")
    parser.add_argument("--character-coverage", type=float, default=1.0,
                        help="fraction of characters the model covers (default: 1.0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train and print what was written. A split without usable cues raises
    :class:`MCoRecDataError` naming the split (the command line exits 2)."""
    from ..text.tokenizer import Tokenizer, collect_transcripts, train_named_tokenizer

    check_int("--vocab-size", args.vocab_size, minimum=1)
    check_number("--character-coverage", args.character_coverage, above=0.0, maximum=1.0)
    style = None if args.style == "none" else args.style
    texts = collect_transcripts(args.split_dirs, style=style, label_dir_name=args.label_dir)
    if not texts:
        raise MCoRecDataError(", ".join(str(d) for d in args.split_dirs),
                              f"no transcript cues inside the speakers' UEMs in {args.label_dir}/")
    model_path, pieces = train_named_tokenizer(texts, args.out_dir, args.vocab_size, name=args.name,
                                               model_type=args.model_type, character_coverage=args.character_coverage,
                                               option="--vocab-size")
    name = model_path.stem
    prefix = args.out_dir / name
    units_path = prefix.with_name(name + "_units.txt")
    tokenizer = Tokenizer(model_path, units_path)
    words = sum(len(t.split()) for t in texts)
    print(f"trained on {len(texts)} cues ({words} words, style {args.style})")
    if pieces < args.vocab_size:
        print(f"the text supports {pieces} pieces, fewer than --vocab-size {args.vocab_size}: the model has {pieces}"
              + ("" if args.name else f", named {name}"))
    print(f"model: {model_path} ({tokenizer.vocab_size - 2} pieces + blank + eos with units)")
    print(f"vocab: {prefix.with_name(name + '.vocab')}")
    print(f"units: {units_path}")
    return 0
