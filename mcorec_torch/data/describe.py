"""``MCoRecDataset.describe()``: figures of a dataset (or a view of one) from its index and the
sessions' labels; nothing is decoded.

Definitions (docs/research.md, "Selecting and describing"):

- a segment's duration is its frames over 25 (``T / 25`` seconds, what a sample holds); hours
  are the sum of them;
- speakers and sessions are those with at least one segment; conversations are the distinct
  (session, conversation id of ``speaker_to_cluster.json``) of those speakers (a speaker without
  an id counts in no conversation);
- percentiles are numpy's (linear interpolation) of the durations;
- a session's speech overlap comes from its labels, every cue of every speaker of its
  ``metadata.json`` (not only the dataset's segments; :func:`~mcorec_torch.index.activity.session_activity`
  with the ``"labels"`` source: each cue's frames by the SPEC §2 rule, inside the speaker's UEM
  frames): *speech* is the frames where at least one speaker speaks, *overlap* those where two
  or more do, and the ratio is overlap / speech (``None`` for a session without labels or
  speech). The dataset's ratio is the sum of the sessions' overlap over the sum of their speech.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..corpus.layout import labels_dir_exists, speaker_sort_key
from ..index.activity import session_activity
from ..timeline import FPS

#: An :class:`~mcorec_torch.MCoRecDataset` (not imported: the dataset imports this module).
Dataset = Any

__all__ = ["DatasetDescription", "SessionFigures", "SpeakerFigures", "PERCENTILES", "describe_dataset", "session_overlap",
           "duration_histogram"]

#: The duration percentiles reported, by name: ``(name, percent)``.
PERCENTILES: Tuple[Tuple[str, float], ...] = (("p5", 5.0), ("p25", 25.0), ("p50", 50.0), ("p75", 75.0),
                                              ("p95", 95.0), ("max", 100.0))
#: Widths (seconds) a histogram bin may take: the smallest that needs at most :data:`MAX_BINS` bins.
BIN_WIDTHS = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)
MAX_BINS = 12
#: The longest bar of the printed histogram, in characters.
BAR_WIDTH = 40


@dataclass
class SessionFigures:
    """One session: its segments and seconds (frames / 25) in the dataset, speakers and
    conversations with segments, and its speech and overlap from its labels (seconds; ``None``
    without labels)."""

    split: str
    session: str
    segments: int
    seconds: float
    speakers: int
    conversations: int
    speech_seconds: Optional[float]
    overlap_seconds: Optional[float]
    overlap_ratio: Optional[float]


@dataclass
class SpeakerFigures:
    """One speaker (``SESSION/SPEAKER``): conversation id (-1 unknown), segments, seconds."""

    split: str
    session: str
    speaker: str
    conversation: int
    segments: int
    seconds: float


@dataclass
class DatasetDescription:
    """Figures of a dataset (see the module docstring for each definition). ``durations``:
    percentile name -> seconds (``None`` without segments); ``histogram``: ``(from, to,
    segments)`` bins of durations in seconds (a bin holds ``from <= d < to``)."""

    roots: List[str]
    segments: int
    frames: int
    hours: float
    speakers: int
    sessions: int
    conversations: int
    durations: Dict[str, Optional[float]]
    histogram: List[Tuple[float, float, int]]
    speech_seconds: Optional[float]
    overlap_seconds: Optional[float]
    overlap_ratio: Optional[float]
    per_session: List[SessionFigures] = field(default_factory=list)
    per_speaker: List[SpeakerFigures] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly: every figure, the histogram as ``{"from", "to", "segments"}`` rows and
        the tables as lists of dicts."""
        data = asdict(self)
        data["histogram"] = [{"from": lo, "to": hi, "segments": n} for lo, hi, n in self.histogram]
        return data

    def __str__(self) -> str:
        return "\n\n".join([self._summary(), self._histogram_text(), self._session_table(), self._speaker_table()])

    def _summary(self) -> str:
        lines = [f"{', '.join(self.roots)}: {self.segments} segments, {self.hours:.3f} h ({self.frames} frames), "
                 f"{self.speakers} speakers, {self.sessions} sessions, {self.conversations} conversations"]
        if self.overlap_ratio is not None:
            lines.append(f"speech overlap (labels): {_percent(self.overlap_ratio)} of {self.speech_seconds:.1f} s of "
                         f"speech ({self.overlap_seconds:.1f} s with two or more speakers)")
        else:
            lines.append("speech overlap (labels): - (no labelled speech)")
        lines.append("segment duration (s): " + "  ".join(f"{name} {_number(value)}"
                                                          for name, value in self.durations.items()))
        return "\n".join(lines)

    def _histogram_text(self) -> str:
        if not self.histogram:
            return "duration (s)  segments\n(no segments)"
        most = max(n for _, _, n in self.histogram)
        places = 0 if all(float(hi).is_integer() for _, hi, _ in self.histogram) else 1
        labels = [f"{lo:.{places}f} - {hi:.{places}f}" for lo, hi, _ in self.histogram]
        width = max(len(label) for label in labels + ["duration (s)"])
        lines = [f"{'duration (s)':>{width}}  segments"]
        for label, (_, _, n) in zip(labels, self.histogram):
            bar = "#" * (round(BAR_WIDTH * n / most) if most else 0)
            lines.append(f"{label:>{width}}  {n:>8}  {bar}".rstrip())
        return "\n".join(lines)

    def _session_table(self) -> str:
        header = ("session", "split", "segments", "seconds", "speakers", "conversations", "speech (s)",
                  "overlap (s)", "overlap")
        rows = [(s.session, s.split, str(s.segments), f"{s.seconds:.1f}", str(s.speakers), str(s.conversations),
                 _number(s.speech_seconds, ".1f"), _number(s.overlap_seconds, ".1f"), _percent(s.overlap_ratio))
                for s in self.per_session]
        return _table(header, rows)

    def _speaker_table(self) -> str:
        header = ("speaker", "conversation", "segments", "seconds", "mean (s)")
        rows = [(f"{s.session}/{s.speaker}", str(s.conversation) if s.conversation >= 0 else "-", str(s.segments),
                 f"{s.seconds:.1f}", f"{s.seconds / s.segments:.2f}" if s.segments else "-")
                for s in self.per_speaker]
        return _table(header, rows)


def _number(value: Optional[float], spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _percent(ratio: Optional[float]) -> str:
    return "-" if ratio is None else f"{100 * ratio:.1f}%"


def _table(header: Tuple[str, ...], rows: List[Tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; the first left-aligned, the others right-aligned."""
    widths = [max(len(row[k]) for row in [header, *rows]) for k in range(len(header))]

    def line(cells: Tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(cells, widths)))

    return "\n".join(line(row) for row in [header, *rows])


def duration_histogram(seconds: np.ndarray) -> List[Tuple[float, float, int]]:
    """``(from, to, count)`` bins from 0 over ``seconds``: the smallest width of
    :data:`BIN_WIDTHS` that needs at most :data:`MAX_BINS` bins (the widest otherwise)."""
    if seconds.size == 0:
        return []
    longest = float(seconds.max())
    width = next((w for w in BIN_WIDTHS if int(longest // w) + 1 <= MAX_BINS), BIN_WIDTHS[-1])
    bins = np.floor(seconds / width).astype(np.int64)
    counts = np.bincount(bins, minlength=int(bins.max()) + 1)
    return [(k * width, (k + 1) * width, int(n)) for k, n in enumerate(counts.tolist())]


def session_overlap(path: str, label_dir: str) -> Tuple[Optional[float], Optional[float]]:
    """``(speech, overlap)`` seconds of a session from its labels (module docstring); ``(None,
    None)`` when it has no labels folder."""
    if not labels_dir_exists(path, label_dir):
        return None, None
    active = session_activity(path, "labels", label_dir).active
    speaking = active.sum(axis=0)
    return int((speaking >= 1).sum()) / FPS, int((speaking >= 2).sum()) / FPS


def describe_dataset(dataset: Dataset) -> DatasetDescription:
    """The :class:`DatasetDescription` of ``dataset`` (an ``MCoRecDataset`` or a view of one)."""
    index = dataset.index
    frames = np.asarray(dataset.lengths, dtype=np.int64)
    seconds = frames / FPS
    speaker_rows = np.asarray(dataset.segment_speaker, dtype=np.int64)
    speakers, segments_of, frames_of = _per_speaker(speaker_rows, frames)

    per_speaker: List[SpeakerFigures] = []
    by_session: Dict[int, List[int]] = {}
    for row in speakers:
        entry = index.speakers[row]
        session = index.sessions[entry.session]
        per_speaker.append(SpeakerFigures(session.split, session.name, entry.name, int(entry.conversation),
                                          segments_of[row], frames_of[row] / FPS))
        by_session.setdefault(entry.session, []).append(row)

    per_session: List[SessionFigures] = []
    options = dataset.options
    for session_row in sorted(by_session, key=lambda r: (index.sessions[r].split, index.sessions[r].name)):
        session = index.sessions[session_row]
        rows = by_session[session_row]
        speech, overlap = session_overlap(session.path, options.label_dir)
        conversations = {index.speakers[r].conversation for r in rows} - {-1}
        per_session.append(SessionFigures(
            session.split, session.name, sum(segments_of[r] for r in rows), sum(frames_of[r] for r in rows) / FPS,
            len(rows), len(conversations), speech, overlap,
            overlap / speech if speech else None))
    per_speaker.sort(key=lambda s: (s.split, s.session, speaker_sort_key(s.speaker)))

    labelled = [s for s in per_session if s.speech_seconds is not None]
    speech_total = sum(s.speech_seconds for s in labelled) if labelled else None
    overlap_total = sum(s.overlap_seconds for s in labelled) if labelled else None
    durations = {name: (float(np.percentile(seconds, percent)) if seconds.size else None)
                 for name, percent in PERCENTILES}
    return DatasetDescription(
        roots=[str(r) for r in dataset.roots], segments=int(frames.size), frames=int(frames.sum()),
        hours=float(frames.sum()) / FPS / 3600, speakers=len(per_speaker), sessions=len(per_session),
        conversations=sum(s.conversations for s in per_session), durations=durations,
        histogram=duration_histogram(seconds), speech_seconds=speech_total, overlap_seconds=overlap_total,
        overlap_ratio=overlap_total / speech_total if speech_total else None,
        per_session=per_session, per_speaker=per_speaker)


def _per_speaker(speaker_rows: np.ndarray, frames: np.ndarray) -> Tuple[List[int], Dict[int, int], Dict[int, int]]:
    """The speaker rows with segments, and per row its segments and frames."""
    rows, inverse, counts = np.unique(speaker_rows, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=frames, minlength=len(rows)) if rows.size else np.zeros(0)
    keys = [int(r) for r in rows]
    return keys, dict(zip(keys, (int(c) for c in counts))), dict(zip(keys, (int(s) for s in sums)))

