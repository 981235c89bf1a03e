"""``mcorec-torch timeline SESSION_DIR``: one session on the central timeline as a PNG (per speaker
the UEM, face tracks, cues with their outcomes, hypotheses, ASD scores and chunks; the ``viz``
extra)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ._options import add_dataset_options, dataset_options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("timeline", help="draw a session on the central timeline as a PNG")
    parser.add_argument("session", metavar="SESSION_DIR", help="a session folder (holding metadata.json)")
    parser.add_argument("--out", metavar="PNG", default=None,
                        help="the picture (default: SESSION_timeline.png in the current folder)")
    parser.add_argument("--hyp", metavar="DIR", default=None,
                        help="a folder of hypotheses spk_N.vtt to draw beside the references (default: "
                             "SESSION_DIR/output when it exists)")
    add_dataset_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..viz.session import session_timeline

    session = Path(args.session)
    out = Path(args.out) if args.out else Path(f"{session.resolve().name}_timeline.png")
    picture = session_timeline(session, out, hyp_dir=args.hyp, options=dataset_options(args),
                               cache_dir=args.cache_dir)  # errors: exit 2 (cli)
    cues = sum(len(lane.cues or ()) for lane in picture.data.lanes)
    print(f"wrote {picture.path}: {len(picture.data.lanes)} speakers, {cues} reference cues, "
          f"{picture.size[0]}x{picture.size[1]} pixels, in {picture.seconds:.2f} s")
    for note in picture.data.notes:
        print(f"note: {note}")
    return 0
