"""Active-speaker scores of synthetic face tracks (``track_XX_asd.json``, SPEC §1, §12): one
score per frame of the track, keyed by central frame number, whose active regions follow the
speaker's cues (the labels, the ASD files and the central mixture agree on who talks when).

Two styles (:data:`.spec.ASD_STYLES`, ``SessionSpec.asd``):

* ``"clean"``: ``+1.5`` on frames the speaker talks (the frames of its cues), ``-1.5``
  elsewhere, plus independent Gaussian noise (sigma 0.5). The baseline's chunks then follow
  the cues: onsets on the first spoken frame, offsets within a frame or two.
* ``"noisy"``: what a real detector gives. Per stretch of speech: an onset 2 frames early to
  6 late and an offset 4 early to 8 late, a level of 1.05-1.8 (some turns barely above the
  onset threshold 1.0), ramps of 2-5 frames through the thresholds; a dropout of 6-30 frames
  (score -0.8..0.6: the face turned away) in a third of the stretches longer than 40 frames;
  in silence, false activations of 5-35 frames at 1.05-1.5 (about one per 8 s) and levels of
  -1.8..-0.4; smooth (AR(1), 0.35) plus white (0.15) noise throughout.

Deterministic from the session seed, the speaker and the track.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from .. import timeline
from .spec import SessionSpec, SpeakerSpec, TrackSpec, _seed_words, check_asd_style

__all__ = ["speaking_frames", "asd_scores"]


def speaking_frames(session: SessionSpec, spk: SpeakerSpec) -> np.ndarray:
    """Bool ``[num_frames]``: the central frames of ``spk``'s cues (SPEC §2's cue frames)."""
    speaking = np.zeros(session.num_frames, dtype=bool)
    for cue in spk.cues:
        f0, f1 = timeline.cue_frames(cue.start_ms, cue.end_ms)
        speaking[max(f0, 0): max(min(f1, session.num_frames), 0)] = True
    return speaking


def _runs(mask: np.ndarray) -> List[Tuple[int, int]]:
    """``[a, b)`` of the runs of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _clean(rng: np.random.Generator, speaking: np.ndarray) -> np.ndarray:
    return np.where(speaking, 1.5, -1.5) + rng.normal(0.0, 0.5, size=len(speaking))


def _ramp(levels: np.ndarray, at: int, before: float, after: float, width: int) -> None:
    """Replace ``levels`` around frame ``at`` by a linear ramp from ``before`` to ``after``."""
    a, b = max(at - width // 2, 0), min(at + (width + 1) // 2, len(levels))
    if b > a:
        levels[a:b] = np.linspace(before, after, b - a + 2)[1:-1]


def _noisy_levels(rng: np.random.Generator, speaking: np.ndarray) -> np.ndarray:
    """The detector's level per frame (before frame noise): shifted onsets and offsets,
    per-stretch levels, ramps, dropouts and false activations (see the module docstring)."""
    n = len(speaking)
    levels = np.full(n, float(rng.uniform(-1.8, -0.4)))
    for a, b in _runs(speaking):
        a2 = int(np.clip(a + rng.integers(-2, 7), 0, n))
        b2 = int(np.clip(b + rng.integers(-4, 9), a2, n))
        if b2 <= a2:
            continue
        level = float(rng.uniform(1.05, 1.8))
        silence = float(rng.uniform(-1.8, -0.4))
        levels[a2:b2] = level
        _ramp(levels, a2, silence, level, int(rng.integers(2, 6)))
        _ramp(levels, b2, level, silence, int(rng.integers(2, 6)))
        if b2 - a2 > 40 and rng.random() < 1 / 3:
            length = int(rng.integers(6, 31))
            start = int(rng.integers(a2, max(a2 + 1, b2 - length)))
            levels[start:start + length] = float(rng.uniform(-0.8, 0.6))
    for _ in range(int(rng.poisson(n / (8.0 * timeline.FPS)))):
        length = int(rng.integers(5, 36))
        start = int(rng.integers(0, max(1, n - length)))
        if not speaking[max(start - 10, 0): start + length + 10].any():
            levels[start:start + length] = float(rng.uniform(1.05, 1.5))
    return levels


def _smooth_noise(rng: np.random.Generator, n: int, sigma: float, rho: float = 0.8) -> np.ndarray:
    """AR(1) noise of standard deviation ``sigma`` and lag-one correlation ``rho``."""
    white = rng.normal(0.0, sigma * np.sqrt(1 - rho * rho), size=n)
    out = np.empty(n)
    value = float(rng.normal(0.0, sigma))
    for k in range(n):
        value = rho * value + white[k]
        out[k] = value
    return out


def asd_scores(session: SessionSpec, spk: SpeakerSpec, track: TrackSpec) -> Dict[str, float]:
    """``{"<central frame>": score}`` for the frames of ``track`` (central crops), rounded to
    4 decimals, in the style ``session.asd``."""
    rng = np.random.default_rng(np.random.SeedSequence(
        list(_seed_words(session.seed, "asd", spk.name, track.index))))
    speaking = np.zeros(track.num_frames, dtype=bool)
    whole = speaking_frames(session, spk)
    inside = slice(max(track.frame_start, 0), min(track.frame_stop, session.num_frames))
    speaking[inside.start - track.frame_start: inside.stop - track.frame_start] = whole[inside]
    if check_asd_style(session.asd) == "clean":
        scores = _clean(rng, speaking)
    else:
        scores = (_noisy_levels(rng, speaking) + _smooth_noise(rng, len(speaking), 0.35)
                  + rng.normal(0.0, 0.15, size=len(speaking)))
    return {str(track.frame_start + j): round(float(v), 4) for j, v in enumerate(scores)}
