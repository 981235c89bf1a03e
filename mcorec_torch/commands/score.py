"""``mcorec-torch score SPLIT_DIR [--hyp DIR]``: the official MCoRec metrics of hypothesis folders (SPEC §11)."""
from __future__ import annotations

import argparse

from ..corpus.layout import DEFAULT_HYPOTHESIS_DIR, DEFAULT_LABEL_DIR


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "score", help="official WER, conversation F1 and joint error of a split's hypotheses",
        description="Score the hypotheses spk_N.vtt and speaker_to_cluster.json of every session of "
                    "SPLIT_DIR against SESSION/<label-dir>/ as the official MCoRec script does. Hypotheses are "
                    "read from HYP/SESSION/<hyp-dir-name>/ with --hyp HYP (what mcorec-torch decode --out "
                    "writes; the data may be read-only), else from SPLIT_DIR/SESSION/<hyp-dir-name>/ (the "
                    "official layout).")
    parser.add_argument("split_dir", metavar="SPLIT_DIR", help="split directory holding session folders (and labels)")
    parser.add_argument("--hyp", metavar="DIR", default=None,
                        help="folder holding the hypotheses as DIR/SESSION/<hyp-dir-name>/ (default: inside "
                             "SPLIT_DIR's sessions)")
    parser.add_argument("--hyp-dir-name", default=DEFAULT_HYPOTHESIS_DIR,
                        help=f"hypothesis folder in each session (default: {DEFAULT_HYPOTHESIS_DIR})")
    parser.add_argument("--label-dir", "--label-dir-name", dest="label_dir_name", default=DEFAULT_LABEL_DIR,
                        help=f"reference folder in each session, the label_dir option (default: {DEFAULT_LABEL_DIR}; "
                             "--label-dir-name, the official script's name, works too)")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write per-session figures and averages here")
    parser.add_argument("--per-speaker", action="store_true", help="print a row per speaker too")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score, print the table and averages. Bad input raises :class:`MCoRecDataError`, which
    the command line prints without a traceback, exiting 2."""
    from ..text.scoring import format_score_report, score_split, write_json

    result = score_split(args.split_dir, hyp_dir_name=args.hyp_dir_name, label_dir_name=args.label_dir_name,
                         hyp_root=getattr(args, "hyp", None))
    print(format_score_report(result, per_speaker=getattr(args, "per_speaker", False)))
    if args.json:
        write_json(result, args.json)
        print(f"wrote {args.json}")
    return 0
