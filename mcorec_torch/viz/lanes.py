"""What the timeline of one session shows, gathered without drawing: per speaker (a lane) the
central UEM, the central face tracks, every transcript cue with its outcome, the hypotheses, the
ASD scores and the ASD chunks; and what is missing.

A cue's outcome comes from the rules that decide it, not from a second copy of them: the
usable-cue rule (:func:`~mcorec_torch.corpus.cues.cue_fault`: ``bad_cue``, ``outside_uem``,
``beyond_video``), then the index and dataset built with the given options (a cue starting a
segment is ``kept``, one inside a longer segment ``merged``, one whose segment had no text left
``empty_text``). The index counts the other reasons per speaker without saying which cue had which;
a cue the rule passed but no segment holds gets that speaker's segment-stage reason, or the
reasons joined with ``/`` when the counts name more than one. The ASD chunks are those of
``segments="asd"`` with the same options (:func:`~mcorec_torch.index.chunks.plan_chunks`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..checks import OptionError
from ..corpus.asd_scores import read_asd_scores
from ..corpus.cues import CUE_FAULTS, cue_fault
from ..corpus.layout import (DEFAULT_HYPOTHESIS_DIR, METADATA_FILE, cluster_path, labels_dir_exists, vtt_path)
from ..corpus.metadata import SessionMetadata, load_metadata, read_speaker_to_cluster
from ..corpus.vtt import Cue, read_vtt
from ..errors import MCoRecDataError, PathLike
from ..index.asd_chunks import chunking_parameters
from ..index.chunks import plan_chunks
from ..index.options import DatasetOptions
from ..index.report import DROP_REASONS, KEPT, MERGED
from ..media.headers import HeaderCache
from ..timeline import FPS

EMPTY_TEXT = "empty_text"
#: Reasons the index decides after the cue rule, per segment (counted per speaker only).
SEGMENT_REASONS = tuple(r for r in DROP_REASONS if r not in CUE_FAULTS and r not in (EMPTY_TEXT, "duplicate"))


@dataclass(frozen=True)
class CueMark:
    """One transcript or hypothesis cue: ``start``/``end`` in seconds on the central timeline,
    its ``outcome`` (``kept``, ``merged``, a reason of :data:`~mcorec_torch.index.report.DROP_REASONS`,
    several joined by ``/``, or ``hypothesis``), its text and VTT line."""

    start: float
    end: float
    outcome: str
    text: str
    line: int


@dataclass
class Lane:
    """One speaker of the session (seconds on the central timeline; frames are central frames)."""

    speaker: str
    conversation: int
    uem: Optional[Tuple[float, float]]
    tracks: List[Tuple[float, float]]
    cues: Optional[List[CueMark]]          # None: no transcript
    hypotheses: Optional[List[CueMark]]    # None: no hypothesis file
    hyp_conversation: Optional[int]
    asd: List[Tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # per track: (frames, scores)
    asd_chunks: List[Tuple[float, float]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


@dataclass
class SessionLanes:
    """Everything the timeline of a session shows: ``duration`` (seconds, the central video's
    when it exists), ``session_frames`` (its frames, ``None`` without one), the lanes, what is
    missing (``notes``), the hypothesis folder read (``None``: none) and the ASD onset threshold."""

    session_dir: Path
    duration: float
    session_frames: Optional[int]
    lanes: List[Lane]
    notes: List[str]
    hyp_dir: Optional[Path]
    onset: float


def _session_frames(meta: SessionMetadata, cache_dir: Path) -> Optional[int]:
    """Frames of the session's central video (the first listed one that exists; the one the index
    reads), or ``None`` when there is none."""
    videos = sorted({s.central.video for s in meta.speakers.values() if s.central and s.central.video})
    headers = HeaderCache(cache_dir / "headers.json")
    for video in videos:
        path = meta.path(video)
        if path.is_file():
            return headers.header(path).span_frames or headers.frame_count(path) or None
    return None


def _dataset(session_dir: Path, options: DatasetOptions, cache_dir: Optional[PathLike]) -> Any:
    from ..data.dataset import MCoRecDataset

    if options.view != "central":
        raise OptionError("view", f"view must be 'central' for a timeline (it draws the central timeline), "
                                  f"got {options.view!r}")
    if options.segments != "labels":
        raise OptionError("segments", f"segments must be 'labels' for a timeline (it draws the transcript cues "
                                      f"and the ASD chunks both), got {options.segments!r}")
    if "allow_empty" in {f.name for f in dataclasses.fields(options)}:
        options = dataclasses.replace(options, allow_empty=True)  # a split without cues: the picture says so
    return MCoRecDataset(session_dir.parent, cache_dir=cache_dir, **dataclasses.asdict(options))


def _segments(dataset: Any, session: int) -> Tuple[Dict[str, List[Tuple[int, int]]], Dict[str, List[Tuple[int, int]]]]:
    """``(kept, empty)``: per speaker of ``session`` the ``(start_ms, end_ms)`` of its dataset
    segments and of its index segments whose text normalized to nothing."""
    index = dataset.index
    rows = {dataset.index_row(i) for i in range(len(dataset))}
    kept: Dict[str, List[Tuple[int, int]]] = {}
    empty: Dict[str, List[Tuple[int, int]]] = {}
    for row in range(len(index)):
        speaker = index.speakers[int(index.speaker[row])]
        if speaker.session == session:
            target = kept if row in rows else empty
            target.setdefault(speaker.name, []).append((int(index.start_ms[row]), int(index.end_ms[row])))
    return kept, empty


def _outcome(cue: Cue, kept: Sequence[Tuple[int, int]], empty: Sequence[Tuple[int, int]],
             counts: Mapping[str, int]) -> str:
    """The outcome of a cue the usable-cue rule passed (module docstring)."""
    if any(start == cue.start_ms and cue.end_ms <= end for start, end in kept):
        return KEPT
    if any(start <= cue.start_ms and cue.end_ms <= end for start, end in kept):
        return MERGED
    if any(start <= cue.start_ms and cue.end_ms <= end for start, end in empty):
        return EMPTY_TEXT
    return "/".join(r for r in SEGMENT_REASONS if counts.get(r)) or "dropped"


def _hypotheses(hyp_dir: Optional[Path], speaker: str) -> Optional[List[CueMark]]:
    if hyp_dir is None:
        return None
    path = vtt_path(hyp_dir.parent, speaker, hyp_dir.name)
    if not path.is_file():
        return None
    return [CueMark(c.start, c.end, "hypothesis", c.text, c.line) for c in read_vtt(path)]


def _asd(lane: Lane, options: DatasetOptions, meta: SessionMetadata, tracks: Sequence[Any],
         session_frames: Optional[int]) -> None:
    """The lane's ASD scores (per track, keys moved to central frames as the baseline places them:
    the smallest key is the track's first frame) and the chunks ``segments="asd"`` makes of them."""
    view = meta.speakers[lane.speaker].central
    if view is None:
        return
    by_path = {Path(t.path).resolve(): t for t in tracks}
    usable = []
    for crop in view.crops:
        name = Path(crop.video).stem
        track = by_path.get(meta.path(crop.media(options.crops) or crop.video).resolve())
        if track is None:
            lane.notes.append(f"{name}: not usable (mcorec-torch check says why)")
        elif crop.asd is None:
            lane.notes.append(f"{name}: no ASD file listed")
        elif not meta.path(crop.asd).is_file():
            lane.notes.append(f"{name}: no ASD file ({crop.asd} is missing)")
        else:
            frames, scores = read_asd_scores(meta.path(crop.asd))
            if len(frames):
                lane.asd.append((track.start + frames - frames[0], scores))
            usable.append((crop, track))
    if not view.crops:
        lane.notes.append("no face track")
    if usable:
        asd_view = dataclasses.replace(view, crops=tuple(c for c, _ in usable))
        chunks, _ = plan_chunks(dataclasses.replace(options, segments="asd"), meta, lane.speaker, asd_view,
                                [t for _, t in usable], session_frames)
        lane.asd_chunks = [(f0 / FPS, f1 / FPS) for f0, f1, _, _ in chunks]


def _hyp_dir(session_dir: Path, hyp_dir: Optional[PathLike]) -> Optional[Path]:
    if hyp_dir is None:
        default = session_dir / DEFAULT_HYPOTHESIS_DIR
        return default if default.is_dir() else None
    hyp_dir = Path(hyp_dir)
    if not hyp_dir.is_dir():
        raise MCoRecDataError(hyp_dir, "hypothesis folder does not exist (it holds spk_N.vtt files)")
    return hyp_dir


def session_lanes(session_dir: PathLike, options: Optional[DatasetOptions] = None,
                  cache_dir: Optional[PathLike] = None, hyp_dir: Optional[PathLike] = None) -> SessionLanes:
    """Gather the timeline of the session folder ``session_dir`` (module docstring). The index is
    built (or read from ``cache_dir``) for the split that holds it, with ``options`` (default
    :class:`~mcorec_torch.index.DatasetOptions`; ``view`` must be central and ``segments`` labels).
    ``hyp_dir``: a folder of ``spk_N.vtt`` hypotheses (default ``SESSION/output`` when it exists)."""
    session_dir = Path(session_dir)
    if not (session_dir / METADATA_FILE).is_file():
        raise MCoRecDataError(session_dir / METADATA_FILE, "not a session folder: it has no metadata.json")
    options = options or DatasetOptions()
    dataset = _dataset(session_dir, options, cache_dir)
    index = dataset.index
    session = next((k for k, s in enumerate(index.sessions) if s.name == session_dir.name), None)
    if session is None:
        raise MCoRecDataError(session_dir, "the index of the split holding this folder lists no such session")
    meta = load_metadata(session_dir)
    session_frames = _session_frames(meta, dataset.cache_dir)
    hyp_dir = _hyp_dir(session_dir, hyp_dir)
    hyp_clusters = (read_speaker_to_cluster(cluster_path(hyp_dir.parent, hyp_dir.name))
                    if hyp_dir is not None and cluster_path(hyp_dir.parent, hyp_dir.name).is_file() else {})
    kept, empty = _segments(dataset, session)
    labels = labels_dir_exists(session_dir, options.label_dir)
    split = index.sessions[session].split
    lanes = []
    for entry in (s for s in index.speakers if s.session == session):
        central = meta.speakers[entry.name].central
        uem = (central.uem_start, central.uem_end) if central is not None else None
        tracks = [index.tracks[t] for t in entry.tracks]
        cues = None
        path = vtt_path(session_dir, entry.name, options.label_dir)
        if labels and path.is_file():
            counts = index.report.counts.get((split, session_dir.name, entry.name), {})
            uem_ms = central.uem_ms if central is not None else None
            cues = [CueMark(c.start, c.end, cue_fault(c, uem_ms, session_frames)
                            or _outcome(c, kept.get(entry.name, ()), empty.get(entry.name, ()), counts), c.text, c.line)
                    for c in read_vtt(path)]
        lane = Lane(entry.name, int(entry.conversation), uem,
                    [(t.start / FPS, (t.start + t.num_frames) / FPS) for t in tracks], cues,
                    _hypotheses(hyp_dir, entry.name), hyp_clusters.get(entry.name))
        _asd(lane, options, meta, tracks, session_frames)
        lanes.append(lane)
    notes = _notes(session_dir, options, session_frames, labels, hyp_dir)
    duration = session_frames / FPS if session_frames else _extent(lanes)
    onset = _onset(options)
    return SessionLanes(session_dir, duration, session_frames, lanes, notes, hyp_dir, onset)


def _onset(options: DatasetOptions) -> float:
    """The ASD score above which a frame starts a region (the chunking rule's, for these options)."""
    return chunking_parameters(options.asd_exact_baseline, options.chunk_size).onset


def _notes(session_dir: Path, options: DatasetOptions, session_frames: Optional[int], labels: bool,
           hyp_dir: Optional[Path]) -> List[str]:
    """What is missing, said in the picture."""
    notes = []
    if session_frames is None:
        notes.append("no central video: cues are not checked against its length; the axis ends at the last "
                     "track, UEM or cue")
    if not labels:
        notes.append(f"no {options.label_dir}/ folder: no reference cues")
    elif not cluster_path(session_dir, options.label_dir).is_file():
        notes.append("no speaker_to_cluster.json: conversations unknown (grey)")
    if hyp_dir is None:
        notes.append(f"no hypotheses: no {DEFAULT_HYPOTHESIS_DIR}/ folder (--hyp DIR names one)")
    return notes


def _extent(lanes: Sequence[Lane]) -> float:
    """The last second any lane shows (a session without a central video)."""
    ends = [0.0]
    for lane in lanes:
        ends += [end for _, end in lane.tracks] + ([lane.uem[1]] if lane.uem else [])
        ends += [c.end for c in (lane.cues or []) + (lane.hypotheses or [])]
    return max(ends) or 1.0
