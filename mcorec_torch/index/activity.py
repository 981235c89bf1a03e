"""Who speaks when in a session (SPEC §4, the ``activity`` option): per speaker, per central
frame, whether they speak, from one of two sources. No torch, no media.

* ``"labels"``: every cue of the speaker's ``<label_dir>/spk_N.vtt`` (all of them, not only
  those that became segments: ``min_duration``, ``max_duration``, ``merge_gap``, missing video
  and ``exclude`` remove segments, never activity), each covering central frames ``[F0, F1)`` by
  the SPEC §2 rule (:func:`~mcorec_torch.timeline.cue_frames`), kept inside the frames of the
  speaker's central UEM (a cue reaching past it counts only inside it). A cue with ``end <=
  start`` covers no frame. The labels are known on the UEM's frames only.
* ``"asd"``: the frames of the regions the baseline's ASD chunking rule finds in each of the
  speaker's central tracks (:func:`.asd_chunks.asd_regions`: hysteresis, short gaps merged,
  short regions dropped; the rule of ``segments="asd"`` with the dataset's ``asd_exact_baseline``,
  before its regions are cut into chunks of at most ``chunk_size``: a region longer than that is
  active throughout, and its chunks' frames are active), read as its chunks are read (frames
  ``[first, last)`` with ``asd_exact_baseline``, else ``[first, last + 1)``), and the scores themselves (``track_XX_asd.json``; key ``k`` of a track is central frame
  ``frame_start + k - smallest key``; where two tracks score one frame, the larger score). The
  scores are known on the frames that have one.

Where a speaker's source says nothing (outside the UEM, no transcript, frames no scored track
covers, beyond the session's last known frame) the speaker counts as **not speaking**;
:attr:`SessionActivity.known` says where that is so, and ``activity_coverage`` in
:mod:`mcorec_torch.data.activity` counts it per speaker.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..corpus.asd_scores import read_asd_scores
from ..corpus.layout import DEFAULT_LABEL_DIR, cluster_path, vtt_path
from ..corpus.metadata import SessionMetadata, ViewInfo, load_metadata, read_speaker_to_cluster, read_track_json
from ..corpus.vtt import read_vtt
from ..errors import MCoRecDataError, PathLike
from ..timeline import cue_frames
from .asd_chunks import chunking_parameters
from .chunks import score_spans
from .options import ACTIVITY_SOURCES, NON_TARGETS

#: The columns of ``stno``, in order.
STNO_CLASSES: Tuple[str, ...] = ("silence", "target", "non-target", "overlap")


@dataclass(frozen=True)
class SessionActivity:
    """Who speaks when in one session, on central frames ``[0, N)``.

    ``speakers``: every speaker of ``metadata.json``, in its order (``spk_2`` before ``spk_10``);
    ``conversations``: each one's conversation id from ``speaker_to_cluster.json`` (-1 where
    unknown); ``active``: bool ``[S, N]``; ``known``: bool ``[S, N]``, where the source says
    anything (False: counted as not speaking); ``scores``: float32 ``[S, N]`` ASD scores (0 where
    none) with the ``"asd"`` source, else ``None``."""

    speakers: Tuple[str, ...]
    conversations: Tuple[int, ...]
    active: np.ndarray
    known: np.ndarray
    scores: Optional[np.ndarray] = None

    @property
    def num_frames(self) -> int:
        """``N``: frames to the last one any speaker's source knows."""
        return int(self.active.shape[1])

    def window(self, name: str, f0: int, f1: int) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        """``(active, known, scores)`` of central frames ``[f0, f1)``, each ``[S, f1 - f0]`` with
        the columns reordered: speaker ``name`` first, then the others in :attr:`speakers` order.
        Frames outside ``[0, N)`` are not active, not known, score 0."""
        order = self.column_order(name)
        count = int(f1) - int(f0)
        lo, hi = max(int(f0), 0), min(int(f1), self.num_frames)
        out = []
        for array, dtype in ((self.active, bool), (self.known, bool), (self.scores, np.float32)):
            if array is None:
                out.append(None)
                continue
            part = np.zeros((len(order), count), dtype=dtype)
            if hi > lo:
                part[:, lo - int(f0): hi - int(f0)] = array[order, lo:hi]
            out.append(part)
        return out[0], out[1], out[2]

    def column_order(self, name: str) -> List[int]:
        """Rows of :attr:`speakers` with ``name`` first and the others after it, in their order."""
        if name not in self.speakers:
            raise KeyError(f"speaker {name!r} is not in this session's metadata.json ({list(self.speakers)})")
        first = self.speakers.index(name)
        return [first] + [k for k in range(len(self.speakers)) if k != first]


def _uem_frames(view: ViewInfo) -> Tuple[int, int]:
    """Central frames ``[U0, U1)`` of a view's UEM (the frames it overlaps, SPEC §2 rule)."""
    return cue_frames(*view.uem_ms)


def _label_spans(meta: SessionMetadata, name: str, label_dir: str) -> Tuple[List[Tuple[int, int]], Tuple[int, int]]:
    """``(spans, (U0, U1))``: the frames of every cue of speaker ``name`` clipped to its central
    UEM's frames ``[U0, U1)`` (``(0, 0)``: no central UEM or no transcript, nothing known)."""
    central = meta.speakers[name].central
    path = vtt_path(meta.session_dir, name, label_dir)
    if central is None or not path.is_file():
        return [], (0, 0)
    u0, u1 = _uem_frames(central)
    spans = []
    for cue in read_vtt(path):
        if cue.end_ms <= cue.start_ms:
            continue
        f0, f1 = cue_frames(cue.start_ms, cue.end_ms)
        if min(f1, u1) > max(f0, u0):
            spans.append((max(f0, u0), min(f1, u1)))
    return spans, (u0, u1)


#: One track's ASD scores: ``(central frame of its smallest key, keys, scores)``.
TrackScores = Tuple[int, np.ndarray, np.ndarray]


def _track_scores(meta: SessionMetadata, name: str) -> List[TrackScores]:
    """The scores of each central crop of ``name`` that lists an ASD file (a listed file that is
    missing is an error naming it)."""
    central = meta.speakers[name].central
    found = []
    for crop in central.crops if central is not None else ():
        if crop.asd is None:
            continue
        path = meta.path(crop.asd)
        if not path.is_file():
            raise MCoRecDataError(path, f"ASD scores listed in metadata.json ({name}) do not exist")
        start = read_track_json(meta.path(crop.crop_metadata)).frame_start
        keys, scores = read_asd_scores(path)
        found.append((start, keys, scores))
    return found


def session_conversations(session_dir: PathLike, label_dir: str) -> Dict[str, int]:
    """Every speaker of the session's ``metadata.json`` and its conversation id from
    ``<label_dir>/speaker_to_cluster.json`` (-1 where the file does not list it or is absent)."""
    meta = load_metadata(session_dir)
    return _conversations(meta, label_dir)


def _conversations(meta: SessionMetadata, label_dir: str) -> Dict[str, int]:
    path = cluster_path(meta.session_dir, label_dir)
    clusters: Dict[str, int] = read_speaker_to_cluster(path) if path.is_file() else {}
    return {name: int(clusters.get(name, -1)) for name in meta.speakers}


def session_activity(session_dir: PathLike, source: str, label_dir: str = DEFAULT_LABEL_DIR,
                     asd_exact_baseline: bool = True) -> SessionActivity:
    """Who speaks when in the session at ``session_dir`` by ``source`` (``"labels"`` or ``"asd"``,
    see the module docstring); ``label_dir``: the transcript folder (also where
    ``speaker_to_cluster.json`` is read); ``asd_exact_baseline``: the parameters and end frame of
    ``"asd"`` (:func:`.asd_chunks.chunking_parameters`). Bad files raise :class:`~mcorec_torch.errors.MCoRecDataError` naming them
    (a listed ASD file that is missing too)."""
    meta = load_metadata(session_dir)
    names = list(meta.speakers)
    spans: Dict[str, List[Tuple[int, int]]] = {}
    known_spans: Dict[str, List[Tuple[int, int]]] = {}
    scored: Dict[str, List[TrackScores]] = {}
    if source == "labels":
        for name in names:
            spans[name], uem = _label_spans(meta, name, label_dir)
            known_spans[name] = [uem] if uem[1] > uem[0] else []
    elif source == "asd":
        params = chunking_parameters(asd_exact_baseline)
        for name in names:
            scored[name] = _track_scores(meta, name)
            spans[name] = [span for start, keys, values in scored[name]
                           for span in score_spans(keys, values, start, params, asd_exact_baseline, split=False)]
            known_spans[name] = []
    else:
        raise ValueError(f"activity source must be one of {ACTIVITY_SOURCES}, got {source!r}")
    ends = [b for name in names for _, b in spans[name] + known_spans[name]]
    ends += [start + int(keys[-1] - keys[0]) + 1 for tracks in scored.values() for start, keys, _ in tracks
             if len(keys)]
    length = max(ends, default=0)
    active = np.zeros((len(names), length), dtype=bool)
    known = np.zeros((len(names), length), dtype=bool)
    scores = np.zeros((len(names), length), dtype=np.float32) if source == "asd" else None
    for k, name in enumerate(names):
        for a, b in spans[name]:
            active[k, max(a, 0):max(b, 0)] = True
        for a, b in known_spans[name]:
            known[k, max(a, 0):max(b, 0)] = True
        for start, keys, values in scored.get(name, []):
            frames = start + keys - (keys[0] if len(keys) else 0)
            inside = frames >= 0
            frames, values = frames[inside], values[inside].astype(np.float32)
            row = np.where(known[k, frames], np.maximum(scores[k, frames], values), values)
            scores[k, frames] = row
            known[k, frames] = True
    conversations = _conversations(meta, label_dir)
    return SessionActivity(tuple(names), tuple(conversations[n] for n in names), active, known, scores)


def non_target_columns(activity: SessionActivity, name: str, rule: str) -> np.ndarray:
    """Bool ``[S]`` over the columns of :meth:`SessionActivity.window` for target ``name`` (itself
    first): which count as non-target in ``stno`` by ``rule`` (``"all"``: every other speaker;
    ``"partners"``: those of the target's conversation; ``"others"``: those of the other
    conversations). ``"partners"``/``"others"`` need every speaker's conversation: ``ValueError``
    naming the first without one."""
    order = activity.column_order(name)
    columns = np.ones(len(order), dtype=bool)
    columns[0] = False
    if rule == "all":
        return columns
    if rule not in NON_TARGETS:
        raise ValueError(f"non_target must be one of {NON_TARGETS}, got {rule!r}")
    conversations = [activity.conversations[k] for k in order]
    missing = [activity.speakers[k] for k, c in zip(order, conversations) if c < 0]
    if missing:
        raise ValueError(f"non_target={rule!r} needs every speaker's conversation (speaker_to_cluster.json); "
                         f"{missing[0]} has none")
    same = np.array([c == conversations[0] for c in conversations], dtype=bool)
    return columns & (same if rule == "partners" else ~same)


def stno_from_activity(active: np.ndarray, non_target: np.ndarray) -> np.ndarray:
    """One-hot float32 ``[T, 4]`` (:data:`STNO_CLASSES`) of ``active`` ``[S, T]`` (column 0 the
    target) and the non-target columns ``non_target`` ``[S]``: silence (neither), target (only
    the target), non-target (only non-target speakers), overlap (both)."""
    target = active[0]
    others = active[non_target].any(axis=0) if non_target.any() else np.zeros_like(target)
    classes = target.astype(np.int64) + 2 * others.astype(np.int64)  # 0 silence, 1 target, 2 non-target, 3 both
    return np.eye(len(STNO_CLASSES), dtype=np.float32)[classes]
