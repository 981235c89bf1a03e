"""``check``: validate a split directory and report every problem of it in one run, grouped
by session, plus notes on what is loadable but unusual (SPEC §10).

Modules: :mod:`.findings` (every kind of finding and its class, declared once),
:mod:`.result` (findings and their report), :mod:`.collector` (recording and going on),
:mod:`.media` (one media file; full decoding for ``deep``), :mod:`.session` (one session
folder)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from ...corpus.layout import session_folders, split_level_fault
from ...errors import PathLike
from ...index.options import DatasetOptions
from ...lips.store import LandmarkStore
from .collector import Collector
from .findings import KINDS, MIXED_CROP_SIZES, NO_SESSIONS, SPLIT_LEVEL, SPLIT_MISSING, Kind
from .media import DeepJob, run_deep
from .result import NOTE, PROBLEM, CheckResult, Problem
from .session import SessionChecker

__all__ = ["CheckResult", "KINDS", "Kind", "NOTE", "PROBLEM", "Problem", "check_split"]


def check_split(root: PathLike, decode: bool = True, options: Optional[DatasetOptions] = None, *,
                deep: bool = False, progress: bool = True, landmarks: Optional[LandmarkStore] = None) -> CheckResult:
    """Validate every session of a split directory: the folder level (a session folder or the
    folder of the splits passed by mistake), metadata shape (all problems of the file), every
    listed file, media containers (opened and demuxed; 25 fps; audio where needed; with
    ``decode`` the first and last frames decoded, with ``deep`` every video and audio frame,
    with a progress bar unless ``progress`` is false), track, bbox and ASD json, crop sizes
    and overlaps per speaker, labels (in ``options.label_dir``) and cues; with ``landmarks``
    (a landmark cache, SPEC §13), the face tracks whose cached landmarks found no face on most
    frames. Returns every problem and note found."""
    root = Path(root)
    options = options if options is not None else DatasetOptions()
    out = Collector()
    sessions: List[Path] = []
    if not root.is_dir():
        out.add(SPLIT_MISSING, root, "split directory does not exist")
    elif (fault := split_level_fault(root)) is not None:
        out.add(SPLIT_LEVEL, root, fault)
    else:
        sessions = session_folders(root)
        if not sessions:
            out.add(NO_SESSIONS, root, "no session folders found")
    jobs: Optional[List[DeepJob]] = [] if deep else None
    checker = SessionChecker(out, options, decode, jobs, landmarks)
    for session_dir in sessions:
        checker.check(session_dir)
    out.session = None
    if len(checker.sizes) > 1:
        sizes = ", ".join(f"{w}x{h} ({n} tracks, e.g. {path.relative_to(root)})"
                          for (w, h), (path, n) in sorted(checker.sizes.items(), key=lambda item: -item[1][1]))
        out.add(MIXED_CROP_SIZES, root, f"crops={options.crops!r} of view={options.view!r} come in more than one "
                                        f"size: {sizes}; a batch needs one size (resize in a transform)")
    frames = run_deep(out, jobs, show_progress=progress) if jobs else 0
    return CheckResult(root=str(root), sessions=len(sessions), files=out.files, problems=out.problems,
                       notes=out.notes, frames_decoded=frames, session_names=[s.name for s in sessions])
