"""Writing one session of an export (in a worker process) through its format's
:class:`~mcorec_torch.export.formats.base.SessionWriter`: its segments read through the dataset
(``MCoRecDataset.load``, i.e. :class:`~mcorec_torch.data.SegmentReader`) in file order, every
file written under a temporary name and renamed when complete, and the session's records
(``OUT/parts/<split>-<session>.jsonl``, written last: its presence means the session is
complete). A killed run's temporary files are removed by the next (:func:`remove_partials`)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from .._io import atomic_write_text
from ..errors import MCoRecDataError
from .formats import FORMATS, get_format
from .formats.base import leftover_target, scratch_pattern, segment_written
from .plan import PARTS_DIR, ExportPlan


def part_path(out: Path, split: str, session: str) -> Path:
    """``OUT/parts/<split>-<session>.jsonl``: the records of a finished session."""
    return out / PARTS_DIR / f"{split}-{session}.jsonl"


def _session_patterns(split: str, session: str) -> "re.Pattern[str]":
    """The final paths (relative to the output folder, ``/``-separated) of the files the writers
    of every format write for ``session``, and of no other session's (also not of one whose name
    starts with ``session``'s)."""
    patterns = [scratch_pattern(split, session)]
    for name in FORMATS:
        patterns += get_format(name).session_files(split, session)
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def remove_partials(out: Path, plan: ExportPlan) -> int:
    """Delete the files a killed run left half-written (under temporary or ``.partial`` names)
    for the sessions of ``plan`` (other shards' sessions are left alone, also those whose names
    start with one of ``plan``'s); returns how many."""
    removed = 0
    patterns = [_session_patterns(plan.split, s) for s in plan.sessions]
    leftovers = sorted(path for path in out.rglob("*") if leftover_target(path.name) is not None)
    for path in leftovers:
        target = leftover_target(path.name)
        if not path.exists() and not path.is_symlink():
            continue  # a complete file, or inside a leftover folder removed before
        text = path.with_name(target).relative_to(out).as_posix()
        if any(pattern.fullmatch(text) for pattern in patterns):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
    return removed


def _write_all(plan: ExportPlan, writer: Any, rows: List[int], lines: List[str], skipped: List[List[str]],
               progress: Optional[Callable[[int], None]], stop: Optional[Callable[[], bool]]) -> None:
    """Write segments ``rows`` (their record lines into ``lines``; skipped ones into ``skipped``);
    ``KeyboardInterrupt`` before a segment when ``stop()`` is true."""
    for i in rows:
        if stop is not None and stop():
            raise KeyboardInterrupt
        record = plan.record(i)
        try:
            lines.append(json.dumps(writer.write(i, record), sort_keys=True))
            segment_written()
        except Exception as exc:  # noqa: BLE001 - counted, or raised with the segment named
            if plan.dataset.options.on_error != "skip":
                if isinstance(exc, MCoRecDataError):
                    raise
                raise MCoRecDataError(record["id"], f"export failed: {type(exc).__name__}: {exc}") from exc
            skipped.append([record["id"], f"{type(exc).__name__}: {exc}"])
        if progress is not None:
            progress(1)


def export_session(plan: ExportPlan, out: Path, session: str, progress: Optional[Callable[[int], None]] = None,
                   stop: Optional[Callable[[], bool]] = None) -> Dict[str, Any]:
    """Write session ``session`` of ``plan`` into ``out`` unless its part file exists; returns
    ``{"session", "segments", "reused", "skipped": [[id, reason], ...], "done": bool}``
    (``done``: complete from an earlier run). With ``on_error="raise"`` a segment that fails
    raises ``MCoRecDataError`` naming it; with ``"skip"`` it is listed in ``skipped``.
    ``stop()``: checked before each segment; when true the session ends with
    ``KeyboardInterrupt``. Whatever ends a session early (an error, an interrupt) leaves its
    files complete or absent: the writer's unfinished ones are removed."""
    part = part_path(out, plan.split, session)
    rows = plan.sessions[session]
    if part.exists():
        return {"session": session, "segments": len(rows), "reused": len(rows), "skipped": [], "done": True}
    lines: List[str] = []
    skipped: List[List[str]] = []
    try:
        writer = get_format(plan.settings.format).open_writer(plan, out, session)
        try:
            _write_all(plan, writer, rows, lines, skipped, progress, stop)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    finally:
        plan.dataset.close()
    lines += [json.dumps({"skipped": seg, "reason": why}) for seg, why in skipped]
    atomic_write_text(part, "".join(line + "\n" for line in lines))
    return {"session": session, "segments": len(rows), "reused": writer.reused, "skipped": skipped, "done": False}


def read_part(path: Path) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """``(records, skipped)`` of a session's part file."""
    records, skipped = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        (skipped if "skipped" in entry else records).append(entry)
    return records, skipped


def count_frames(records: List[Dict[str, Any]]) -> int:
    """Video frames (at 25 fps) of ``records`` together."""
    return int(np.sum([r["frames"] for r in records])) if records else 0
