"""``mcorec-torch decode CONFIG CHECKPOINT SPLIT``: the example model over a split's chunks,
hypotheses in the official layout under ``--out`` (default ``<train.out_dir>/hypotheses/<split
name>``; ``--in-place`` writes into the split), scored when labels exist (SPEC §12)."""
from __future__ import annotations

import argparse

from ..corpus.layout import DEFAULT_HYPOTHESIS_DIR
from ..index.asd_chunks import DEFAULT_CHUNK_SIZE
from ..index.options import SEGMENT_SOURCES

#: The folder of the run folder (``train.out_dir``) under which ``decode`` writes by default.
HYPOTHESES_FOLDER = "hypotheses"

#: ``--segments`` choices: every segment source but the labelled cues (chunks need no labels).
CHUNK_SOURCES = tuple(source for source in SEGMENT_SOURCES if source != "labels")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "decode", help="decode a split's ASD chunks with a trained example model, write and score hypotheses",
        description="Greedy-CTC decoding of SPLIT's chunks (ASD chunks by default) with the model of "
                    "mcorec-torch train; writes OUT/SESSION/output/spk_N.vtt and speaker_to_cluster.json "
                    "(baseline clustering from ASD scores) beside links to each session's metadata.json and "
                    "labels, never into the data (OUT defaults to <train.out_dir>/hypotheses/<split name>), "
                    "and prints the official scores when the split has labels. Works under torchrun "
                    "(scripts/infer_avsr.py).")
    parser.add_argument("config", metavar="CONFIG", help="the YAML experiment the model was trained with")
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint of mcorec-torch train (last.pt)")
    parser.add_argument("split", metavar="SPLIT", help="a split name of the config (e.g. valid) or a split directory")
    parser.add_argument("--segments", default="asd", choices=CHUNK_SOURCES,
                        help="where the chunks come from (SPEC §12; default: asd)")
    parser.add_argument("--chunk-size", type=float, default=DEFAULT_CHUNK_SIZE, metavar="SECONDS",
                        help=f"longest ASD chunk / window length (default: {DEFAULT_CHUNK_SIZE:g}, the baseline's)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", default=None,
                       help="write the hypotheses to DIR/SESSION/<hyp-dir-name>/ (default: "
                            f"<train.out_dir>/{HYPOTHESES_FOLDER}/<split name>; score them with "
                            "`mcorec-torch score DIR` or `mcorec-torch score SPLIT --hyp DIR`)")
    where.add_argument("--in-place", action="store_true",
                       help="write into the split itself, SPLIT/SESSION/<hyp-dir-name>/ (the official layout "
                            "inside the data, as decode wrote before --out existed)")
    parser.add_argument("--hyp-dir-name", default=DEFAULT_HYPOTHESIS_DIR,
                        help=f"hypothesis folder written in each session (default: {DEFAULT_HYPOTHESIS_DIR})")
    parser.add_argument("--no-score", action="store_true", help="do not score, even when labels exist")
    parser.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Decode, write and score (:func:`~mcorec_torch.train.decode.run_decode`; the default
    ``--out`` is ``<train.out_dir>/`` :data:`HYPOTHESES_FOLDER` ``/<split name>``)."""
    from ..train.decode import run_decode

    return run_decode(args, hypotheses_folder=HYPOTHESES_FOLDER)
