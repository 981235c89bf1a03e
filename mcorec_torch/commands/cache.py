"""``mcorec-torch cache ROOT... --workers N``: decode every crop track the segments use once
into the decoded-frame cache (``<cache-dir>/frames``), with a disk-size estimate first."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

from ..errors import MCoRecDataError
from ._options import add_dataset_options, dataset_options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("cache", help="build the decoded-frame cache of the tracks the segments use")
    parser.add_argument("roots", nargs="+", metavar="SPLIT_DIR")
    add_dataset_options(parser)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes decoding tracks in parallel (default: CPU count)")
    parser.set_defaults(func=run, interrupted_note=interrupted_note)


def interrupted_note(args: argparse.Namespace) -> str:
    """What Ctrl-C keeps of a ``cache`` run (said after it, SPEC §9)."""
    return "every track built so far is kept whole in the frame cache; the same command again builds the rest"


def _build_one(folder: str, path: str, color: str, frames: Optional[int]) -> int:
    """Build one entry (in a worker process); returns the bytes written (0: already there)."""
    from ..media.frame_cache import FrameCache
    return FrameCache(folder).build(path, color, frames)


def run(args: argparse.Namespace) -> int:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    from ..index.build import build_index, default_cache_dir
    from ..media.frame_cache import FrameCache, estimate_bytes

    try:
        options = dataset_options(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cache_dir = Path(args.cache_dir) if args.cache_dir is not None else default_cache_dir()
    try:
        index = build_index(args.roots, options, cache_dir)
    except MCoRecDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    used = sorted({int(t) for t in index.piece_track})  # the tracks some segment reads
    tracks: List[Tuple[str, int]] = [(index.tracks[t].path, index.tracks[t].num_frames) for t in used]
    cache = FrameCache(cache_dir / "frames")
    todo = [(path, frames) for path, frames in tracks if not cache.is_cached(path, options.color)]
    total = estimate_bytes(tracks, options.color)
    missing = estimate_bytes(todo, options.color)
    print(f"{len(tracks)} tracks ({options.crops}, {options.color}) in {cache.folder}: "
          f"{total / 1e9:.2f} GB in all, {len(tracks) - len(todo)} already cached; "
          f"building {len(todo)} ({missing / 1e9:.2f} GB) with {args.workers} workers")
    started = time.perf_counter()
    written, failed = 0, 0
    if todo:
        with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
            futures = {pool.submit(_build_one, str(cache.folder), path, options.color, frames): path
                       for path, frames in todo}
            for future in tqdm(as_completed(futures), total=len(futures), unit="track", file=sys.stderr):
                try:
                    written += future.result()
                except MCoRecDataError as exc:
                    failed += 1
                    print(f"error: {exc}", file=sys.stderr)
    print(f"built {len(todo) - failed} entries, {written / 1e9:.2f} GB, in {time.perf_counter() - started:.1f} s"
          + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0
