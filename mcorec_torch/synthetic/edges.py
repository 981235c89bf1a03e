"""The edge cases of the SPEC §4 rules, placed on a speaker's turns (:mod:`.conversation` plans
the turns first): the UEM and the face tracks are laid so that the speaker's own cues cross
them, instead of cues being put where the speaker's conversation partner holds the floor.

* the UEM start (1.7-4.5 s in) falls inside one of the speaker's cues (at least 0.3 s after its
  start and 0.4 s before its end); the UEM end (1-6 s before the session end) is where one of
  its cues ends (even speakers: the cue is cut there) or inside one (odd speakers);
* a track gap (20-37 frames) lies inside a cue, at least 0.6 s from either end (the cue crosses
  the gap); the first gap of an odd speaker instead surrounds a short cue (a backchannel,
  added when there is none: the face lost while the speaker says "yeah");
* a boundary of two contiguous tracks lies inside a cue, 0.3 s from either end;
* tiny cues: a one-frame 20 ms cue (speaker 0) and a 2 ms cue straddling a frame boundary
  (speaker 2), inside the UEM on covered frames where the speaker is silent, 1.2 s from its
  turns where there is room.

Gaps and boundaries are searched within ``min(62, n // 10)`` frames of their usual places
(35% and 68% of the session, or 50% for a single gap); where no cue fits, a gap goes where
the speaker is silent (else, like a boundary, to a random place near its usual one) and that
speaker goes without the case. Deterministic from the
generator passed in.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..timeline import MS_PER_FRAME
from .conversation import BACKCHANNEL_CLEARANCE, CuePlanner, Interval, add_backchannel
from .spec import TrackSpec

__all__ = ["plan_uem", "plan_tracks", "add_tiny_cue"]

#: where the UEM may start, and how far before the session end it may end (ms)
UEM_START_MS = (1700, 4500)
UEM_END_BEFORE_MS = (1000, 6000)


def _point_in_cue(rng: np.random.Generator, cues: Sequence[Interval], lo: int, hi: int, before: int,
                  after: int) -> Optional[int]:
    """A random time ``t`` in ``[lo, hi]`` ms with ``s + before <= t <= e - after`` for a cue
    ``(s, e)``, or None."""
    ranges = [(max(lo, s + before), min(hi, e - after)) for s, e in cues]
    ranges = [(a, b) for a, b in ranges if a <= b]
    if not ranges:
        return None
    a, b = ranges[int(rng.integers(len(ranges)))]
    return int(rng.integers(a, b + 1))


def _cut_a_cue(rng: np.random.Generator, planner: CuePlanner, lo: int, hi: int) -> Optional[int]:
    """End one of the speaker's cues at a time in ``[lo, hi]`` ms, at least 0.8 s after its
    start (the speaker stops there); returns that time, or None when no cue reaches the range."""
    ranges = [(k, max(lo, s + 800), min(hi, e)) for k, (s, e) in enumerate(planner.intervals)]
    ranges = [(k, a, b) for k, a, b in ranges if a <= b]
    if not ranges:
        return None
    k, a, b = ranges[int(rng.integers(len(ranges)))]
    end = int(rng.integers(a, b + 1))
    planner.intervals[k] = (planner.intervals[k][0], end)
    return end


def plan_uem(rng: np.random.Generator, planner: CuePlanner, speaker_index: int, duration_ms: int) -> Tuple[int, int]:
    """``(start_ms, end_ms)`` of a speaker's central UEM, placed on its cues (module
    docstring); an even speaker's cue is cut to end at the UEM end."""
    start = _point_in_cue(rng, planner.intervals, UEM_START_MS[0], UEM_START_MS[1], 300, 400)
    if start is None:
        start = int(rng.integers(UEM_START_MS[0], 3001))
    lo, hi = duration_ms - UEM_END_BEFORE_MS[1], duration_ms - UEM_END_BEFORE_MS[0]
    if speaker_index % 2 == 0:
        end = _cut_a_cue(rng, planner, lo, hi)
    else:
        end = _point_in_cue(rng, planner.intervals, lo, hi, 500, 200)
    if end is None:
        end = duration_ms - int(rng.integers(1000, 2501))
    return start, end


def _window(centre: int, reach: int) -> Tuple[int, int]:
    return centre - reach, centre + reach


def _crossing_gap(rng: np.random.Generator, cues: Sequence[Interval], window: Tuple[int, int],
                  length: int) -> Optional[int]:
    """First missing frame of a gap of ``length`` frames inside a cue, 0.6 s from either end
    (the cue keeps a second of frames with scores: the ASD rule's shortest region), with its
    start in ``window`` (frames), or None."""
    options = []
    for s, e in cues:
        lo = max(window[0], -(-(s + 600) // MS_PER_FRAME))
        hi = min(window[1], (e - 600) // MS_PER_FRAME - length)
        if lo <= hi:
            options.append((lo, hi))
    if not options:
        return None
    lo, hi = options[int(rng.integers(len(options)))]
    return int(rng.integers(lo, hi + 1))


def _surrounding_gap(rng: np.random.Generator, cues: Sequence[Interval], window: Tuple[int, int],
                     length: int) -> Optional[int]:
    """First missing frame of a gap of ``length`` frames that holds a whole cue (30 ms
    margins) with its start in ``window`` (frames), or None."""
    options = []
    for s, e in cues:
        lo = max(window[0], -(-(e + 30) // MS_PER_FRAME) - length)
        hi = min(window[1], (s - 30) // MS_PER_FRAME)
        if lo <= hi:
            options.append((lo, hi))
    if not options:
        return None
    lo, hi = options[int(rng.integers(len(options)))]
    return int(rng.integers(lo, hi + 1))


def _silent_gap(rng: np.random.Generator, cues: Sequence[Interval], window: Tuple[int, int],
                length: int) -> Optional[int]:
    """First missing frame of a gap of ``length`` frames, starting in ``window`` (frames), at
    least 0.2 s from every cue (the face lost while the speaker is silent), or None."""
    starts = [g for g in range(window[0], window[1] + 1)
              if all((g + length) * MS_PER_FRAME + 200 <= s or e + 200 <= g * MS_PER_FRAME for s, e in cues)]
    return int(starts[int(rng.integers(len(starts)))]) if starts else None


def _gap_around_a_short_cue(rng: np.random.Generator, planner: CuePlanner, listening: Sequence[Interval],
                            window: Tuple[int, int], length: int) -> Optional[int]:
    """A gap holding one of the speaker's cues; a backchannel is added in a round the speaker
    listens to when none fits (0.6 s from its turns: the gap does not reach them)."""
    start = _surrounding_gap(rng, planner.intervals, window, length)
    if start is not None:
        return start
    near = [r for r in listening if window[0] * MS_PER_FRAME <= (r[0] + r[1]) // 2 <= window[1] * MS_PER_FRAME]
    for k in rng.permutation(len(near)):
        added = add_backchannel(rng, planner, near[int(k)], clearance=600)
        if added is None:
            continue
        start = _surrounding_gap(rng, [added], window, length)
        if start is not None:
            return start
        planner.intervals.remove(added)  # no gap fits around it: not said
    return None


def _boundary(rng: np.random.Generator, cues: Sequence[Interval], window: Tuple[int, int]) -> Optional[int]:
    """A frame boundary inside a cue, 0.3 s from either end, in ``window`` (frames), or None."""
    options = []
    for s, e in cues:
        lo = max(window[0], -(-(s + 300) // MS_PER_FRAME))
        hi = min(window[1], (e - 300) // MS_PER_FRAME)
        if lo <= hi:
            options.append((lo, hi))
    if not options:
        return None
    lo, hi = options[int(rng.integers(len(options)))]
    return int(rng.integers(lo, hi + 1))


def _track_kinds(rng: np.random.Generator, n: int, speaker_index: int) -> List[Tuple[str, int]]:
    """``(kind, usual frame)`` of each track boundary: speaker 0 a gap then a contiguous
    boundary; others one or two gaps, or a gap then a contiguous boundary."""
    if speaker_index == 0:
        kinds = ["gap", "contiguous"]
    elif rng.random() < 0.5:
        kinds = ["gap", str(rng.choice(["gap", "contiguous"]))]
    else:
        kinds = ["gap"]
    places = [0.35, 0.68] if len(kinds) == 2 else [0.5]
    return [(kind, int(round(n * place))) for kind, place in zip(kinds, places)]


def plan_tracks(rng: np.random.Generator, n: int, speaker_index: int, planner: CuePlanner,
                listening: Sequence[Interval]) -> Tuple[List[TrackSpec], List[Tuple[int, int]], List[int]]:
    """Tracks of one speaker over ``n`` central frames, laid on its cues (module docstring);
    returns (tracks, gaps, contiguous boundaries) with gaps as ``(first missing frame, first
    frame of the next track)``."""
    cov_start = int(rng.integers(0, 25))
    cov_end = n - int(rng.integers(0, 20))
    reach = min(62, n // 10)
    tracks, gaps, contiguous = [], [], []
    start = cov_start
    for kind, centre in _track_kinds(rng, n, speaker_index):
        window = _window(centre, reach)
        if kind == "gap":
            length = int(rng.integers(20, 38))
            if not gaps and speaker_index % 2 == 1:
                bound = _gap_around_a_short_cue(rng, planner, listening, window, length)
            else:
                bound = _crossing_gap(rng, planner.intervals, window, length)
        else:
            length, bound = 0, _boundary(rng, planner.intervals, window)
        if bound is None and kind == "gap":
            bound = _silent_gap(rng, planner.intervals, window, length)
        if bound is None:
            bound = centre + int(rng.integers(-15, 16))
        tracks.append(TrackSpec(index=len(tracks), frame_start=start, num_frames=bound - start))
        if kind == "gap":
            gaps.append((bound, bound + length))
        else:
            contiguous.append(bound)
        start = bound + length
    tracks.append(TrackSpec(index=len(tracks), frame_start=start, num_frames=cov_end - start))
    return tracks, gaps, contiguous


def add_tiny_cue(rng: np.random.Generator, planner: CuePlanner, speaker_index: int, uem: Tuple[int, int],
                 tracks: Sequence[TrackSpec]) -> None:
    """Speaker 0: a one-frame cue (20 ms inside one frame); speaker 2: a 2 ms cue straddling a
    frame boundary; inside the UEM, on frames a track covers, where the speaker is silent
    (preferably :data:`.conversation.BACKCHANNEL_CLEARANCE` from its cues: the ASD rule's
    merge gap would join its active frames to a turn)."""
    if speaker_index not in (0, 2):
        return
    covered = set()
    for t in tracks:
        covered.update(range(t.frame_start, t.frame_stop))
    candidates = [f for f in range(uem[0] // MS_PER_FRAME + 2, uem[1] // MS_PER_FRAME - 3)
                  if f in covered and f + 1 in covered]
    if not candidates:
        return
    for attempt in range(400):
        f = candidates[int(rng.integers(len(candidates)))]
        if speaker_index == 0:
            start = f * MS_PER_FRAME + int(rng.integers(0, 16))
            end = start + 20
        else:
            start, end = f * MS_PER_FRAME + 39, f * MS_PER_FRAME + 41
        near = any(s < end + BACKCHANNEL_CLEARANCE and start < e + BACKCHANNEL_CLEARANCE for s, e in planner.intervals)
        if (attempt >= 200 or not near) and planner.add(start, end):
            return
