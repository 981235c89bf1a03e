"""Realistic random plans of synthetic sessions (:func:`plan_session`): UEMs, face tracks with
gaps and contiguous boundaries, cues at millisecond resolution placed on the edge cases the
SPEC §4 rules have to decide, phone recordings, and the real-world encodings of a few files.
Deterministic from ``(name, seed)``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from ..timeline import MS_PER_FRAME
from .spec import (DEFAULT_NUM_FRAMES, CueSpec, EgoSpec, SessionSpec, SpeakerSpec, TrackSpec, check_content,
                   _seed_words)
from .texts import _cue_text, assign_speech_texts

__all__ = ["plan_session"]

class _CuePlanner:
    """Places non-overlapping cues (at least ``margin`` ms apart) on one speaker."""

    def __init__(self, duration_ms: int, margin: int = 60) -> None:
        self.duration_ms = duration_ms
        self.margin = margin
        self.intervals: List[Tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        if start < 0 or end > self.duration_ms or end <= start:
            return False
        return all(end + self.margin <= s or start >= e + self.margin for s, e in self.intervals)

    def add(self, start: int, end: int) -> bool:
        if not self.free(start, end):
            return False
        self.intervals.append((start, end))
        return True

    def next_start_after(self, t: int) -> Optional[int]:
        starts = [s for s, _ in self.intervals if s >= t]
        return min(starts) if starts else None

    def end_of_covering(self, t: int) -> Optional[int]:
        for s, e in self.intervals:
            if s - self.margin <= t <= e + self.margin:
                return e
        return None


def _plan_tracks(rng: np.random.Generator, n: int, speaker_index: int
                 ) -> Tuple[List[TrackSpec], List[Tuple[int, int]], List[int]]:
    """Tracks of one speaker over ``n`` central frames; returns (tracks, gaps, contiguous
    boundaries) with gaps as ``(first missing frame, first frame of the next track)``."""
    cov_start = int(rng.integers(0, 25))
    cov_end = n - int(rng.integers(0, 20))
    if speaker_index == 0:
        kinds = ["gap", "contiguous"]
    elif rng.random() < 0.5:
        kinds = ["gap", str(rng.choice(["gap", "contiguous"]))]
    else:
        kinds = ["gap"]
    if len(kinds) == 2:
        bounds = [int(round(n * 0.35)) + int(rng.integers(-15, 16)),
                  int(round(n * 0.68)) + int(rng.integers(-15, 16))]
    else:
        bounds = [int(round(n * 0.5)) + int(rng.integers(-20, 21))]
    tracks, gaps, contiguous = [], [], []
    start = cov_start
    for bound, kind in zip(bounds, kinds):
        tracks.append(TrackSpec(index=len(tracks), frame_start=start, num_frames=bound - start))
        if kind == "gap":
            gap = int(rng.integers(20, 38))
            gaps.append((bound, bound + gap))
            start = bound + gap
        else:
            contiguous.append(bound)
            start = bound
    tracks.append(TrackSpec(index=len(tracks), frame_start=start, num_frames=cov_end - start))
    return tracks, gaps, contiguous


def _plan_cues(rng: np.random.Generator, n: int, speaker_index: int, uem_start_ms: int,
               uem_end_ms: int, tracks: List[TrackSpec], gaps: List[Tuple[int, int]],
               contiguous: List[int]) -> List[CueSpec]:
    duration_ms = n * MS_PER_FRAME
    planner = _CuePlanner(duration_ms)
    r = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731  inclusive ints

    def try_add(make, attempts: int = 30) -> None:
        for _ in range(attempts):
            start, end = make()
            if planner.add(start, end):
                return

    # Crossing the UEM start (dropped by the UEM rule).
    try_add(lambda: (uem_start_ms - r(300, 900), uem_start_ms + r(400, 1500)))
    # Ending exactly at the UEM end (kept: boundary equality) or crossing it (dropped).
    if speaker_index % 2 == 0:
        try_add(lambda: (uem_end_ms - r(800, 2500), uem_end_ms))
    else:
        try_add(lambda: (uem_end_ms - r(500, 1500), min(uem_end_ms + r(200, 800), duration_ms)))
    # Around track gaps: one wholly inside the first gap (odd speakers), others crossing.
    for g, (g0, g1) in enumerate(gaps):
        gap_ms = (g1 - g0) * MS_PER_FRAME
        if g == 0 and speaker_index % 2 == 1:
            def inside(g0=g0, gap_ms=gap_ms):
                start = g0 * MS_PER_FRAME + r(30, 150)
                return start, start + r(400, max(400, g0 * MS_PER_FRAME + gap_ms - 30 - start))
            try_add(inside)
        else:
            try_add(lambda g0=g0, g1=g1: (g0 * MS_PER_FRAME - r(700, 1800),
                                          g1 * MS_PER_FRAME + r(700, 1800)))
    # Across a boundary of two contiguous tracks (frames come from two tracks).
    for b in contiguous:
        try_add(lambda b=b: (b * MS_PER_FRAME - r(300, 1500), b * MS_PER_FRAME + r(300, 1500)))
    # Tiny cues inside the UEM, on covered frames.
    covered = set()
    for t in tracks:
        covered.update(range(t.frame_start, t.frame_stop))
    lo_f = uem_start_ms // MS_PER_FRAME + 2
    hi_f = uem_end_ms // MS_PER_FRAME - 3
    candidates = [f for f in range(lo_f, hi_f) if f in covered and f + 1 in covered]
    if candidates and speaker_index == 0:  # a one-frame cue: 20 ms inside one frame
        def one_frame():
            f = candidates[r(0, len(candidates) - 1)]
            start = f * MS_PER_FRAME + r(0, 15)
            return start, start + 20
        try_add(one_frame, attempts=200)
    if candidates and speaker_index == 2:  # a 2 ms cue straddling a frame boundary
        def straddle():
            f = candidates[r(0, len(candidates) - 1)]
            return f * MS_PER_FRAME + 39, f * MS_PER_FRAME + 41
        try_add(straddle, attempts=200)

    # Fill the rest with ordinary cues, 0.4-4 s, mostly not frame aligned.
    t = r(100, 600)
    while True:
        start = t + r(80, 1200)
        if start % MS_PER_FRAME == 0:
            start += 7
        if start >= duration_ms - 600:
            break
        blocker = planner.end_of_covering(start)
        if blocker is not None:
            t = blocker + planner.margin
            continue
        end = start + r(400, 4000)
        if rng.random() < 0.15:  # some ends on a frame boundary
            end = -(-end // MS_PER_FRAME) * MS_PER_FRAME
        end = min(end, duration_ms - 100)
        nxt = planner.next_start_after(start)
        if nxt is not None and end + planner.margin > nxt:
            end = nxt - planner.margin - r(0, 200)
        if end - start < 400:
            if nxt is None:
                break
            t = planner.end_of_covering(nxt) + planner.margin
            continue
        planner.add(start, end)
        t = end

    cues = [CueSpec(start_ms=s, end_ms=e, text=_cue_text(rng, e - s))
            for s, e in sorted(planner.intervals)]
    return cues


def _plan_ego(rng: np.random.Generator, n: int, speaker_index: int, uem_start_ms: int,
              uem_end_ms: int) -> EgoSpec:
    if speaker_index == 0:
        offset_ms = 1316
    else:
        offset_ms = int(rng.integers(900, min(1600, uem_start_ms - 100) + 1))
    if offset_ms % MS_PER_FRAME == 0:
        offset_ms += 1  # D = 16 * offset_ms samples, never a multiple of 640
    duration_ms = n * MS_PER_FRAME
    if speaker_index % 2 == 0:  # recording ends after the central UEM, before the session end
        end_central_ms = duration_ms - int(rng.integers(300, 901))
    else:  # recording ends inside the central UEM: some ego requests fall outside it
        end_central_ms = uem_end_ms - int(rng.integers(300, 701))
    ego_frames = (end_central_ms - offset_ms) // MS_PER_FRAME
    ego_uem_start_ms = uem_start_ms - offset_ms
    ego_uem_end_ms = min(uem_end_ms - offset_ms, ego_frames * MS_PER_FRAME)
    s0 = int(rng.integers(0, 16))
    bound = ego_frames // 2 + int(rng.integers(-20, 21))
    gap = int(rng.integers(10, 31))
    stop = ego_frames - int(rng.integers(0, 16))
    tracks = [TrackSpec(index=0, frame_start=s0, num_frames=bound - s0),
              TrackSpec(index=1, frame_start=bound + gap, num_frames=stop - bound - gap)]
    return EgoSpec(uem_start=ego_uem_start_ms / 1000.0, uem_end=ego_uem_end_ms / 1000.0,
                   num_frames=ego_frames, tracks=tracks)


def plan_session(name: str, seed: int, *, num_frames: int = DEFAULT_NUM_FRAMES,
                 num_speakers: int = 4, num_conversations: int = 2,
                 ego: bool = False, content: str = "index") -> SessionSpec:
    """A realistic random plan for one session, deterministic from ``(name, seed)``.

    Every speaker gets a central UEM that does not cover the whole session (starts 1.7-3 s
    in, ends 1-2.5 s before the end), 2-3 face tracks separated by gaps of 20-37 frames
    (speaker 0: a gap, then two contiguous tracks), and cues of 0.4-4 s at millisecond
    resolution including: one crossing the UEM start; one ending exactly at the UEM end
    (even speakers) or crossing it (odd speakers); one wholly inside a track gap (odd
    speakers), ones crossing a gap, one across a contiguous track boundary; a one-frame
    20 ms cue (speaker 0) and a 2 ms cue straddling a frame boundary (speaker 2); some
    two-line cues, vocal events, contractions, curly quotes and numbers.

    ``ego=True`` adds a phone recording per speaker (train split): it starts
    ``uem_central.start - uem_ego.start`` seconds (1.316 s for speaker 0, never a whole
    number of frames) after the central one and stops before the session end (odd
    speakers: before their central UEM end, so some ego requests fall outside it).

    Files as real recordings have them: the last speaker's first track is open-GOP
    (``encoding="open_gop"``); speaker 0's first track, and with ``ego`` its phone video, have
    48 kHz stereo audio with different channels (``audio_format="stereo48k"``).

    ``content="speech"``: the same plan (timings, tracks, ego), with cue texts that fit
    their durations (:func:`.texts.assign_speech_texts`).
    """
    check_content(content)
    if num_frames < 375:
        raise ValueError(f"num_frames={num_frames}: synthetic sessions need >= 375 frames (15 s)")
    if not 1 <= num_speakers <= 8:
        raise ValueError("num_speakers must be 1..8")
    if not 1 <= num_conversations <= min(4, num_speakers):
        raise ValueError("num_conversations must be 1..min(4, num_speakers)")
    rng = np.random.default_rng(np.random.SeedSequence(list(_seed_words(seed, "plan", name))))
    duration_ms = num_frames * MS_PER_FRAME
    speakers = []
    for i in range(num_speakers):
        uem_start_ms = int(rng.integers(1700, 3001))
        uem_end_ms = duration_ms - int(rng.integers(1000, 2501))
        tracks, gaps, contiguous = _plan_tracks(rng, num_frames, i)
        cues = _plan_cues(rng, num_frames, i, uem_start_ms, uem_end_ms, tracks, gaps, contiguous)
        ego_spec = _plan_ego(rng, num_frames, i, uem_start_ms, uem_end_ms) if ego else None
        speakers.append(SpeakerSpec(
            name=f"spk_{i}", conversation=i * num_conversations // num_speakers,
            uem_start=uem_start_ms / 1000.0, uem_end=uem_end_ms / 1000.0,
            tracks=tracks, cues=cues, ego=ego_spec))
    # Real-world encodings (SPEC §2): one open-GOP track, one stereo 48 kHz track (the speaker's
    # own, so it is the one read for audio without central_video.mp4) and a stereo phone.
    speakers[-1].tracks[0].encoding = "open_gop"
    speakers[0].tracks[0].audio_format = "stereo48k"
    if speakers[0].ego is not None:
        speakers[0].ego.audio_format = "stereo48k"
    spec = SessionSpec(name=name, num_frames=num_frames, speakers=speakers, seed=int(seed))
    if content == "speech":
        spec.content = content
        assign_speech_texts(spec)
    return spec
