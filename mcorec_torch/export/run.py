"""Running an export: claim the folder, drop what a killed run left half-written, write the
sessions of this shard (in-process or with a process pool; one session at a time per worker,
so each track is opened once and read front to back), show a ``tqdm`` bar in segments/s,
and, unless this is one shard of several, merge the parts into the final files."""
from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ..errors import PathLike
from ..timeline import FPS
from .merge import merge_export
from .plan import ExportPlan, ExportSettings, claim_folder
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


def _init_worker(plan: ExportPlan, out: Path) -> None:
    import torch

    torch.set_num_threads(1)
    _WORKER["plan"], _WORKER["out"] = plan, out


def _run_session(session: str) -> Dict[str, Any]:
    return export_session(_WORKER["plan"], _WORKER["out"], session)


def export_split(dataset: Any, split: str, out: PathLike, settings: ExportSettings, *, workers: int = 1,
                 shard: Tuple[int, int] = (0, 1), progress: bool = True) -> ExportResult:
    """Export the segments of ``dataset`` (an :class:`~mcorec_torch.MCoRecDataset`; named
    ``split`` in the output paths) into ``out`` as ``settings`` says; ``shard=(i, n)``: only
    the sessions of shard ``i`` of ``n`` (then run :func:`~mcorec_torch.export.merge_export`
    after the last). Re-running continues an interrupted export; an ``out`` holding another
    configuration's export raises ``MCoRecDataError``."""
    from tqdm import tqdm

    out = Path(out)
    plan = ExportPlan(dataset, split, settings, shard)
    claim_folder(out, plan.fingerprint())
    result = ExportResult(sessions=len(plan.sessions), removed_partials=remove_partials(out, plan))
    result.segments = sum(len(rows) for rows in plan.sessions.values())
    started = time.perf_counter()
    bar = tqdm(total=result.segments, unit="seg", file=sys.stderr, disable=not progress, desc=f"export {settings.format}")
    try:
        if workers <= 1:
            outcomes = (export_session(plan, out, s, progress=bar.update) for s in plan.sessions)
            for outcome in outcomes:
                _account(result, outcome, bar, counted=not outcome["done"])
        else:
            with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(plan, out)) as pool:
                futures = [pool.submit(_run_session, s) for s in plan.sessions]
                for future in as_completed(futures):
                    _account(result, future.result(), bar, counted=False)
    finally:
        bar.close()
    result.seconds = time.perf_counter() - started
    if shard[1] == 1:
        merge_export(out)
        result.merged = True
    return result


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
