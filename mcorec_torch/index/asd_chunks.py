"""Chunks from active-speaker scores: the official MCoRec baseline's ``segment_by_asd`` rule
(``src/talking_detector/segmentation.py``), reimplemented on arrays (SPEC §12).

The rule, on the track's frames in key order (units: frames at 25 fps; durations are
converted with :func:`~mcorec_torch.timeline.seconds_to_frames`, ``int(seconds * 25)``):

1. **Hysteresis.** Inactive, a frame whose score is ``> onset`` starts a region (and is in
   it); active, a frame whose score is ``< offset`` ends it (and is not in it), every other
   frame joins it. A region still open at the last frame is kept.
2. **Merging.** A region whose first frame follows the previous region's last frame by a gap
   of at most ``min_duration_off`` frames is appended to it. The gap frames are *not* added:
   a region is a list of active frames.
3. **Dropping.** Regions of fewer than ``min_duration_on`` (``int(1.0 * 25)``) active frames go.
4. **Splitting.** A region of more than ``max_chunk_size`` active frames is cut into
   ``ceil(n / max)`` parts of ``ceil(n / parts)`` active frames (the last one shorter);
   parts of fewer than ``min_chunk_size`` (``int(1 * 25)``) frames go.

:func:`asd_chunks` gives the chunks (steps 1-4), :func:`asd_regions` the regions of steps 1-3
(where the speaker is active: the ``activity="asd"`` option, SPEC §4).

A chunk spans its first to its last active frame (gaps inside it included). The baseline's
inference turns it into times ``((first - k0) / 25, (last - k0) / 25)`` (``k0`` the
smallest key) plus the track's start, and reads the frames played in that interval: the
last frame is dropped. :func:`chunk_frames` reproduces that with ``exact_baseline=True``
(frames ``[first, last)``) and offers the corrected ``[first, last + 1)``.

**Two parameter sets** (:func:`chunking_parameters`). The baseline's inference script calls
``segment_by_asd(asd, {"max_chunk_size": max_length})`` (``--max_length`` 15 s), and the
function reads every other parameter with a default; the default of ``min_duration_off`` is,
by a slip upstream, ``CENTRAL_ASD_CHUNKING_PARAMETERS["min_duration_on"]`` (1.0 s). So the
chunks the baseline produces merge gaps of up to ``int(1.0 * 25) = 25`` frames:
:data:`CENTRAL_ASD`, the default (``asd_exact_baseline=True``). The parameter table itself
says 0.5 s (``int(0.5 * 25) = 12`` frames): :data:`CENTRAL_ASD_TABLE`, used with the corrected
end frame when ``asd_exact_baseline=False``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from ..timeline import seconds_to_frames


#: The longest ASD chunk (seconds): the official inference's ``max_length`` (its ``max_chunk_size``);
#: also the default window length of ``segments="windows"`` (the ``chunk_size`` option).
DEFAULT_CHUNK_SIZE = 15.0
#: The longest chunk (seconds) of the baseline's parameter table (``CENTRAL_ASD_CHUNKING_PARAMETERS``):
#: what a call of ``segment_by_asd`` without parameters uses (its conversation clustering).
TABLE_MAX_CHUNK_SIZE = 10.0


@dataclass(frozen=True)
class AsdParameters:
    """Thresholds (ASD score units) and durations (seconds) of the chunking rule; the defaults
    are what the baseline's inference effectively runs (:data:`CENTRAL_ASD`)."""

    #: hysteresis: a region starts at a score above ``onset`` and ends below ``offset``
    onset: float = 1.0
    offset: float = 0.8
    #: regions of fewer active frames than this (seconds) are dropped
    min_duration_on: float = 1.0
    #: gaps of at most this (seconds) between regions are merged: 1.0 (25 frames) by the
    #: baseline's fallback to ``min_duration_on``; its parameter table says 0.5 (12 frames)
    min_duration_off: float = 1.0
    #: longer regions are split into equal parts; parts shorter than the minimum are dropped
    max_chunk_size: float = DEFAULT_CHUNK_SIZE
    min_chunk_size: float = 1.0


#: What the baseline's inference effectively runs on central-camera scores: its parameter
#: table's thresholds and durations, ``max_chunk_size`` its ``--max_length`` (15 s), and
#: ``min_duration_off`` by the fallback to ``min_duration_on`` (1.0 s: gaps of 25 frames merged).
CENTRAL_ASD = AsdParameters()
#: The baseline's parameter table for central-camera scores as documented (gaps of 12 frames merged).
CENTRAL_ASD_TABLE = AsdParameters(min_duration_off=0.5)
#: The baseline's parameter table for ego-camera scores.
EGO_ASD = AsdParameters(onset=2.4, offset=1.6, min_duration_off=0.5)


def chunking_parameters(exact_baseline: bool = True, chunk_size: float = DEFAULT_CHUNK_SIZE) -> AsdParameters:
    """The parameters of ``segments="asd"`` (the ``asd_exact_baseline`` option): with
    ``exact_baseline`` what the baseline's inference runs (:data:`CENTRAL_ASD`), else the
    documented table (:data:`CENTRAL_ASD_TABLE`); ``chunk_size`` (seconds) is ``max_chunk_size``."""
    base = CENTRAL_ASD if exact_baseline else CENTRAL_ASD_TABLE
    return dataclasses.replace(base, max_chunk_size=float(chunk_size))


@dataclass(frozen=True)
class AsdChunk:
    """One chunk in key frame numbers: ``first`` and ``last`` active frame, ``active`` frames."""

    first: int
    last: int
    active: int


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def hysteresis_runs(scores: np.ndarray, onset: float, offset: float) -> List[Tuple[int, int]]:
    """Step 1: ``[i0, i1)`` positions (into ``scores``) of every region of consecutive active frames."""
    scores = np.asarray(scores, dtype=np.float64)
    starts = np.flatnonzero(scores > onset)
    stops = np.flatnonzero(scores < offset)
    runs: List[Tuple[int, int]] = []
    position = 0
    while True:
        k = int(np.searchsorted(starts, position))
        if k == len(starts):
            return runs
        start = int(starts[k])
        m = int(np.searchsorted(stops, start + 1))  # the onset frame itself is never checked for offset
        stop = int(stops[m]) if m < len(stops) else len(scores)
        runs.append((start, stop))
        position = stop + 1  # the offset frame is not checked for onset


def _regions(frames: np.ndarray, scores: np.ndarray, params: AsdParameters) -> List[List[Tuple[int, int]]]:
    """Steps 1-3: each region kept, as its runs ``[i0, i1)`` of positions into ``frames``."""
    runs = hysteresis_runs(scores, params.onset, params.offset)
    if not runs:
        return []
    max_gap = seconds_to_frames(params.min_duration_off)
    regions: List[List[Tuple[int, int]]] = [[runs[0]]]
    for run in runs[1:]:
        previous_last = int(frames[regions[-1][-1][1] - 1])
        if int(frames[run[0]]) - previous_last - 1 <= max_gap:
            regions[-1].append(run)
        else:
            regions.append([run])
    min_on = seconds_to_frames(params.min_duration_on)
    return [region for region in regions if sum(b - a for a, b in region) >= min_on]


def asd_regions(frames: Sequence[int], scores: Sequence[float],
                params: AsdParameters = CENTRAL_ASD) -> List[AsdChunk]:
    """The regions of steps 1-3 (hysteresis, merging, dropping), not split into chunks: where
    the rule finds the speaker active, whatever ``max_chunk_size``. ``frames`` and ``scores`` as
    for :func:`asd_chunks`."""
    frames = np.asarray(frames, dtype=np.int64)
    return [AsdChunk(int(frames[region[0][0]]), int(frames[region[-1][1] - 1]), sum(b - a for a, b in region))
            for region in _regions(frames, np.asarray(scores, dtype=np.float64), params)]


def asd_chunks(frames: Sequence[int], scores: Sequence[float],
               params: AsdParameters = CENTRAL_ASD) -> List[AsdChunk]:
    """The chunks of one track's scores (``frames`` sorted ascending, as
    :func:`~mcorec_torch.corpus.asd_scores.read_asd_scores` returns them), in order."""
    frames = np.asarray(frames, dtype=np.int64)
    max_frames = seconds_to_frames(params.max_chunk_size)
    min_chunk = seconds_to_frames(params.min_chunk_size)
    chunks: List[AsdChunk] = []
    for region in _regions(frames, np.asarray(scores, dtype=np.float64), params):
        active = sum(b - a for a, b in region)
        if active <= max_frames:
            chunks.append(AsdChunk(int(frames[region[0][0]]), int(frames[region[-1][1] - 1]), active))
            continue
        positions = np.concatenate([np.arange(a, b) for a, b in region])
        size = _ceil_div(active, _ceil_div(active, max_frames))
        for p in range(0, active, size):
            part = positions[p: p + size]
            if len(part) >= min_chunk:
                chunks.append(AsdChunk(int(frames[part[0]]), int(frames[part[-1]]), len(part)))
    return chunks


def chunk_frames(chunk: AsdChunk, first_key: int, track_start: int, exact_baseline: bool = True) -> Tuple[int, int]:
    """Frames ``[F0, F1)`` of ``chunk`` on the track's view timeline: key ``k`` is frame
    ``track_start + k - first_key``; ``F1`` excludes the last frame with ``exact_baseline``
    (what the baseline's inference reads) and includes it otherwise."""
    f0 = int(track_start) + chunk.first - int(first_key)
    f1 = int(track_start) + chunk.last - int(first_key) + (0 if exact_baseline else 1)
    return f0, f1

