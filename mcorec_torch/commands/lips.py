"""``mcorec-torch lips SPLIT_DIR [--view central|ego] [--workers N] [--out DIR]``: a 96x96
mouth crop video (``track_XX_lip.av.mp4``) for every face track of a view that has none,
from dlib's landmarks (the ``lips`` extra; SPEC §13), beside the face tracks or into the
mirror ``DIR/<split>/<session>/...`` that ``lip_dir=DIR`` points the index to. Parallel,
resumable (a killed run's files are whole; the same command writes the rest), with a
progress bar and a report per track: frames without a face (interpolated), tracks refused."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List

from ..corpus.layout import VIEWS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("lips", help="write mouth crop videos (track_XX_lip.av.mp4) from face tracks")
    parser.add_argument("split", metavar="SPLIT_DIR")
    parser.add_argument("--view", choices=VIEWS, default="central",
                        help="whose face tracks: the central camera's or the speakers' phones ('ego', train only) "
                             "(default: central)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="write into the mirror DIR/<split>/<session>/speakers/... (read it with "
                             "lip_dir=DIR, --lip-dir DIR) instead of beside the face tracks")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes cropping tracks in parallel (default: CPU count)")
    parser.add_argument("--landmarks-only", action="store_true",
                        help="cache the landmarks of every track (for crops='lip' on the fly) and write no video")
    parser.add_argument("--cache-dir", default=None,
                        help="landmark and header cache (default: $MCOREC_TORCH_CACHE or ~/.cache/mcorec_torch)")
    parser.set_defaults(func=run, interrupted_note=interrupted_note)


def interrupted_note(args: argparse.Namespace) -> str:
    """What Ctrl-C keeps of a ``lips`` run (said after it, SPEC §9)."""
    return "every mouth crop written so far is whole; the same command again writes the rest"


def _track_line(outcome) -> str:
    share = f"{100 * outcome.no_face / outcome.frames:.1f}%" if outcome.frames else "-"
    if outcome.status == "refused":
        return f"  refused {outcome.name}: {outcome.reason}"
    what = {"written": f"-> {outcome.target}", "kept": "(written before)", "landmarks": "(landmarks cached)"}
    return (f"  {outcome.name}: {outcome.frames} frames, {outcome.no_face} without a face ({share}, interpolated) "
            f"{what[outcome.status]}")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..index.build import default_cache_dir
    from ..lips.write import plan_lip_jobs, write_lip_videos
    from ..lips.store import LandmarkStore, landmark_folder
    from ..media.headers import HeaderCache

    cache_dir = Path(args.cache_dir) if args.cache_dir is not None else default_cache_dir()
    headers = HeaderCache(cache_dir / "headers.json")
    plan = plan_lip_jobs(args.split, args.view, args.out, headers)  # bad input: exit 2 (cli)
    headers.save()
    store = LandmarkStore(landmark_folder(cache_dir))
    store.require_ready(job.face for job in plan.jobs)  # without the lips extra: error, exit 2 (cli)
    total = len(plan.jobs) + len(plan.refused) + plan.released
    print(f"{total} face tracks of the {args.view} view in {args.split}: {plan.released} with a released mouth crop "
          f"(left alone), {len(plan.jobs)} to crop with {args.workers} workers into "
          f"{args.out or 'the session folders'} (landmarks cached in {store.folder})")
    bar = tqdm(total=sum(job.frames for job in plan.jobs), unit="frame", file=sys.stderr, desc="lips")
    try:
        outcomes = write_lip_videos(plan.jobs, store, max(1, args.workers), args.landmarks_only,
                                    progress=lambda outcome: bar.update(outcome.frames))
    finally:
        bar.close()
    return _report(plan.refused + outcomes, args)


def _report(outcomes: List, args: argparse.Namespace) -> int:
    """Print a line per track and the totals; 1 when a track was refused because its files do
    not read, else 0 (a track without any face is refused and said, not a failure)."""
    for outcome in outcomes:
        print(_track_line(outcome))
    done = [o for o in outcomes if o.status != "refused"]
    refused = [o for o in outcomes if o.status == "refused"]
    looked = [o for o in outcomes if o.readable and o.status != "kept"]  # landmarks found this run
    frames, no_face = sum(o.frames for o in looked), sum(o.no_face for o in looked)
    written = [o for o in done if o.status == "written"]
    share = f" ({100 * no_face / frames:.1f}%)" if frames else ""
    print(f"{len(written)} written ({sum(o.bytes for o in written) / 1e6:.1f} MB), "
          f"{sum(o.status == 'kept' for o in done)} written before, {len(refused)} refused; "
          f"no face on {no_face} of the {frames} frames looked at{share}")
    if args.out and done:
        print(f"read them with lip_dir={args.out!r} (--lip-dir {args.out})")
    return 1 if any(not o.readable for o in refused) else 0
