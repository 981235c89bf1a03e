"""One measurement of a bench row, and the arithmetic of rounds: medians of per-round figures
and ratios taken *within* a round (both sides measured minutes apart at most), then their median."""
from __future__ import annotations

import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterator, List, Mapping, Optional, Sequence
from contextlib import contextmanager

__all__ = ["Measurement", "Stopwatch", "stopwatch", "summarize_rounds", "median_or_none"]


@dataclass
class Measurement:
    """What one pass of a row delivered: ``frames`` (video frames), ``segments`` (samples),
    ``wall_s`` (wall seconds), ``cpu_s`` (CPU core-seconds: this process plus reaped children)."""

    frames: int
    segments: int
    wall_s: float
    cpu_s: float
    #: further figures of a row (e.g. the GPU rows' batch latency and memory)
    extra: Dict[str, float] = field(default_factory=dict)

    @property
    def frames_per_s(self) -> float:
        """Frames delivered per wall second."""
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def segments_per_s(self) -> float:
        """Segments delivered per wall second."""
        return self.segments / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_s_per_1000_frames(self) -> float:
        """CPU core-seconds spent per 1,000 frames delivered."""
        return 1000.0 * self.cpu_s / self.frames if self.frames else 0.0

    def to_dict(self) -> Dict[str, float]:
        out = asdict(self)
        out.update(out.pop("extra"))
        out.update(frames_per_s=self.frames_per_s, segments_per_s=self.segments_per_s,
                   cpu_s_per_1000_frames=self.cpu_s_per_1000_frames)
        return out


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Stopwatch:
    """Wall seconds (``perf_counter``) and CPU seconds (``process_time`` of this process plus
    ``RUSAGE_CHILDREN``: DataLoader workers once they are joined) since it started."""

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._children = _children_cpu_s()
        self.wall_s = 0.0
        self.cpu_s = 0.0

    def stop(self) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = (time.process_time() - self._cpu) + (_children_cpu_s() - self._children)

    def measurement(self, frames: int, segments: int) -> Measurement:
        return Measurement(int(frames), int(segments), self.wall_s, self.cpu_s)


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """``with stopwatch() as watch: ...`` then ``watch.measurement(frames, segments)``."""
    watch = Stopwatch()
    try:
        yield watch
    finally:
        watch.stop()


def median_or_none(values: Sequence[Optional[float]]) -> Optional[float]:
    """Median of the values that are not ``None`` (``None`` when there are none)."""
    kept = [v for v in values if v is not None]
    return float(statistics.median(kept)) if kept else None


def _ratio(a: Optional[Measurement], b: Optional[Measurement]) -> Optional[float]:
    if a is None or b is None or b.frames_per_s <= 0:
        return None
    return a.frames_per_s / b.frames_per_s


def summarize_rounds(rounds: Sequence[Mapping[str, Measurement]],
                     references: Mapping[str, Mapping[str, Optional[str]]]) -> Dict[str, Dict[str, object]]:
    """Medians over rounds and within-round ratios of frames/s.

    ``rounds``: per round, row name -> :class:`Measurement` (a row missing from a round, or
    skipped, is absent). ``references``: row name -> ``{ratio name: reference row or None}``,
    e.g. ``{"dataset lip/gray": {"limit": "limit lip/gray", "baseline": None}}``. For each row
    and ratio the ratio is computed in every round where both rows were measured, and the
    median of those is reported (``None`` when no round had both).
    Returns row -> ``{"median": {figure: median}, "ratios": {name: median}, "ratio_rounds":
    {name: [per-round ratio]}}``.
    """
    names: List[str] = []
    for r in rounds:
        names.extend(n for n in r if n not in names)
    out: Dict[str, Dict[str, object]] = {}
    for name in names:
        measured = [r[name] for r in rounds if name in r]
        figures = [m.to_dict() for m in measured]
        median = {key: median_or_none([f[key] for f in figures]) for key in figures[0]}
        ratios: Dict[str, Optional[float]] = {}
        per_round: Dict[str, List[Optional[float]]] = {}
        for label, ref in references.get(name, {}).items():
            values = [_ratio(r.get(name), r.get(ref)) if ref else None for r in rounds]
            per_round[label] = values
            ratios[label] = median_or_none(values)
        out[name] = {"median": median, "ratios": ratios, "ratio_rounds": per_round}
    return out
