"""Running an export: claim the folder, drop what a killed run left half-written, write the
sessions of this shard (in-process or with a process pool; one session at a time per worker,
so each track is opened once and read front to back), show a ``tqdm`` bar in segments/s,
and, unless this is one shard of several, merge the parts into the final files."""
from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ..errors import PathLike
from ..timeline import FPS
from .merge import merge_export
from .plan import ExportPlan, ExportSettings, claim_folder, release_folder
from .writers import count_frames, export_session, remove_partials

_WORKER: Dict[str, Any] = {}


@dataclass
class ExportResult:
    """What a run did: segments of this shard, written now, reused from an earlier run, skipped
    (``[id, reason]``), sessions, wall seconds, and whether the final files were merged."""

    segments: int = 0
    written: int = 0
    reused: int = 0
    skipped: List[List[str]] = field(default_factory=list)
    sessions: int = 0
    seconds: float = 0.0
    merged: bool = False
    removed_partials: int = 0

    def summary(self) -> str:
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        text = (f"exported {self.segments} segments of {self.sessions} sessions in {self.seconds:.1f} s: "
                f"{self.written} written ({rate:.1f} segments/s), {self.reused} complete from an earlier run, "
                f"{len(self.skipped)} skipped")
        if self.removed_partials:
            text += f"; removed {self.removed_partials} partial file(s) of an interrupted run"
        for seg, why in self.skipped[:20]:
            text += f"\n  skipped {seg}: {why}"
        return text


class ExportInterrupted(KeyboardInterrupt):
    """A :class:`KeyboardInterrupt` (Ctrl-C) that stopped :func:`export_split`, after every
    file being written was completed or removed (nothing is left half-written). ``str()`` is
    one line saying what was kept and how to resume; :attr:`sessions_done` of
    :attr:`sessions` sessions of this run are complete (``OUT/parts/<split>-<session>.jsonl``),
    :attr:`segments_done` segments in them; :attr:`out` is the output folder."""

    def __init__(self, out: Path, sessions_done: int, sessions: int, segments_done: int) -> None:
        self.out, self.sessions_done, self.sessions, self.segments_done = out, sessions_done, sessions, segments_done
        super().__init__(f"export interrupted: {sessions_done} of {sessions} sessions complete in {out} "
                         f"({segments_done} segments), nothing half-written; the same export run again "
                         "continues there")


def _init_worker(plan: ExportPlan, out: Path, stop: Any) -> None:
    """A pool worker: one torch thread; Ctrl-C is the parent's to handle (it sets ``stop``, and
    the worker ends its session at the next segment, removing what it had half-written)."""
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    _WORKER["plan"], _WORKER["out"], _WORKER["stop"] = plan, out, stop


def _run_session(session: str) -> Dict[str, Any]:
    return export_session(_WORKER["plan"], _WORKER["out"], session, stop=_WORKER["stop"].is_set)


def export_split(dataset: Any, split: str, out: PathLike, settings: ExportSettings, *, workers: int = 1,
                 shard: Tuple[int, int] = (0, 1), progress: bool = True) -> ExportResult:
    """Export the segments of ``dataset`` (an :class:`~mcorec_torch.MCoRecDataset`; named
    ``split`` in the output paths) into ``out`` as ``settings`` says; ``shard=(i, n)``: only
    the sessions of shard ``i`` of ``n`` (then run :func:`~mcorec_torch.export.merge_export`
    after the last). Re-running continues an interrupted export; an ``out`` holding another
    configuration's export raises ``MCoRecDataError`` naming every setting that differs.

    A run that fails before any file but ``export.json`` is written removes its
    ``export.json`` again. A ``KeyboardInterrupt`` (Ctrl-C) is raised as
    :class:`ExportInterrupted` once every file being written is complete or removed."""
    out = Path(out)
    plan = ExportPlan(dataset, split, settings, shard)
    created = claim_folder(out, plan.fingerprint())
    result = ExportResult(sessions=len(plan.sessions))
    done: List[int] = []  # segment counts of the sessions complete
    try:
        result.removed_partials = remove_partials(out, plan)
        result.segments = sum(len(rows) for rows in plan.sessions.values())
        started = time.perf_counter()
        _write_sessions(plan, out, result, done, workers, progress)
        result.seconds = time.perf_counter() - started
        if shard[1] == 1:
            merge_export(out)
            result.merged = True
    except KeyboardInterrupt as exc:
        if created:
            release_folder(out)
        raise ExportInterrupted(out, len(done), len(plan.sessions), sum(done)) from exc
    except BaseException:
        if created:
            release_folder(out)
        raise
    return result


def _write_sessions(plan: ExportPlan, out: Path, result: ExportResult, done: List[int], workers: int,
                    progress: bool) -> None:
    """Write the sessions of ``plan`` not complete yet (in-process, or ``workers`` processes),
    counting into ``result``; the segment count of each session complete is appended to ``done``."""
    from tqdm import tqdm

    bar = tqdm(total=result.segments, unit="seg", file=sys.stderr, disable=not progress,
               desc=f"export {plan.settings.format}")
    try:
        if workers <= 1:
            for session in plan.sessions:
                outcome = export_session(plan, out, session, progress=bar.update)
                _account(result, outcome, bar, counted=not outcome["done"])
                done.append(outcome["segments"])
        else:
            _pool_sessions(plan, out, result, done, workers, bar)
    finally:
        bar.close()


def _pool_sessions(plan: ExportPlan, out: Path, result: ExportResult, done: List[int], workers: int,
                   bar: Any) -> None:
    """The sessions in a process pool. On an interrupt (Ctrl-C here, or raised in a worker) the
    sessions not started are cancelled and those running end at their next segment, dropping
    their unfinished files, before the interrupt goes on."""
    stop = multiprocessing.get_context().Event()
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(plan, out, stop))
    try:
        futures = [pool.submit(_run_session, s) for s in plan.sessions]
        for future in as_completed(futures):
            outcome = future.result()
            _account(result, outcome, bar, counted=False)
            done.append(outcome["segments"])
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _account(result: ExportResult, outcome: Dict[str, Any], bar: Any, counted: bool) -> None:
    if not counted:
        bar.update(outcome["segments"])
    result.reused += outcome["reused"]
    result.skipped += outcome["skipped"]
    result.written += outcome["segments"] - outcome["reused"] - len(outcome["skipped"])


def output_size(out: PathLike) -> int:
    """Bytes of every file under ``out`` (for sizes per hour of speech)."""
    return sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())


def speech_hours(out: PathLike) -> float:
    """Hours of segments in the finished export's manifest (frames / 25 / 3600)."""
    from .merge import read_manifest

    return count_frames(read_manifest(out)) / FPS / 3600
