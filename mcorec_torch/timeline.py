"""Time, frame and sample arithmetic of SPEC §2 — the only place it lives.

Units: seconds (float) on the *central timeline* unless a name says otherwise, integer
milliseconds (``*_ms``), video frames at :data:`FPS`, audio samples at :data:`SAMPLE_RATE`.
Every other module calls these functions instead of multiplying by 25 or 640 itself.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Tuple

FPS: int = 25
SAMPLE_RATE: int = 16000
SAMPLES_PER_FRAME: int = SAMPLE_RATE // FPS  # 640
MS_PER_FRAME: int = 1000 // FPS  # 40

assert SAMPLES_PER_FRAME * FPS == SAMPLE_RATE and MS_PER_FRAME * FPS == 1000


def seconds_to_ms(seconds: float) -> int:
    """Seconds (as written in VTT/JSON, millisecond resolution) to integer milliseconds.

    Rounds to the nearest millisecond so that ``12.345`` (stored as 12.3449999...) is 12345.
    """
    return int(math.floor(float(seconds) * 1000.0 + 0.5))


def cue_frames(start_ms: int, end_ms: int) -> Tuple[int, int]:
    """Central frames ``[F0, F1)`` covered by a cue ``[start_ms, end_ms]``.

    ``F0 = floor(start_ms / 40)``, ``F1 = ceil(end_ms / 40)``: exactly the frames whose
    display interval ``[f/25, (f+1)/25)`` overlaps the cue. Integer arithmetic only.
    """
    start_ms, end_ms = int(start_ms), int(end_ms)
    return start_ms // MS_PER_FRAME, -((-end_ms) // MS_PER_FRAME)


def frame_to_sample(frame: int) -> int:
    """First audio sample (16 kHz) of video frame ``frame`` (25 fps): ``frame * 640``."""
    return int(frame) * SAMPLES_PER_FRAME


def pts_to_frame(pts: int, time_base: Fraction, origin_pts: int = 0) -> int:
    """Container timestamp to frame index: ``round((pts - origin) * time_base * 25)``, half up.

    Exact integer arithmetic; ``origin_pts`` is the stream's first presentation time.
    """
    time_base = Fraction(time_base)
    numerator = (int(pts) - int(origin_pts)) * time_base.numerator * FPS
    return (2 * numerator + time_base.denominator) // (2 * time_base.denominator)


def frame_to_pts(frame: int, time_base: Fraction, origin_pts: int = 0) -> int:
    """Frame index to the container timestamp of its start (rounded down)."""
    return int(origin_pts) + int(math.floor(Fraction(int(frame), FPS) / Fraction(time_base)))


class FrameClock:
    """:func:`pts_to_frame` and :func:`frame_to_pts` of one stream with the time base taken
    apart once into integers, for the per-frame hot loop of a reader (no ``Fraction`` per
    decoded frame). Same results as the functions, to the last frame."""

    __slots__ = ("numerator", "denominator", "origin")

    def __init__(self, time_base: Fraction, origin_pts: int = 0) -> None:
        time_base = Fraction(time_base)
        self.numerator = time_base.numerator * FPS
        self.denominator = time_base.denominator
        self.origin = int(origin_pts)

    def frame(self, pts: int) -> int:
        """Frame index of timestamp ``pts``: ``round((pts - origin) * time_base * 25)``, half up."""
        return (2 * (pts - self.origin) * self.numerator + self.denominator) // (2 * self.denominator)

    def pts(self, frame: int) -> int:
        """Timestamp of the start of frame ``frame`` (rounded down)."""
        return self.origin + (int(frame) * self.denominator) // self.numerator


def ego_offset_seconds(uem_central_start: float, uem_ego_start: float) -> float:
    """``uem_central.start - uem_ego.start``: how far the ego timeline lags the central one.

    ``t_ego = t_central - ego_offset_seconds(...)``.
    """
    return float(uem_central_start) - float(uem_ego_start)


def central_to_ego_seconds(t_central: float, uem_central_start: float, uem_ego_start: float) -> float:
    """Ego-timeline time of central time ``t_central`` (SPEC §2)."""
    return float(t_central) - ego_offset_seconds(uem_central_start, uem_ego_start)


def ego_start_frame(central_frame: int, uem_central_start: float, uem_ego_start: float) -> int:
    """``E0 = round(F0 - 25 * (uem_central.start - uem_ego.start))`` (half rounds up)."""
    offset = ego_offset_seconds(uem_central_start, uem_ego_start)
    return int(math.floor(int(central_frame) - FPS * offset + 0.5))


def ego_sample_offset(uem_central_start: float, uem_ego_start: float) -> int:
    """``D = round(16000 * (uem_central.start - uem_ego.start))`` samples (half rounds up).

    Ego sample ``s - D`` is recorded at central sample ``s``.
    """
    return int(math.floor(SAMPLE_RATE * ego_offset_seconds(uem_central_start, uem_ego_start) + 0.5))


def in_uem(start_ms: int, end_ms: int, uem_start_ms: int, uem_end_ms: int) -> bool:
    """The official scorer's rule: a cue is kept iff ``start >= uem.start and end <= uem.end``."""
    return start_ms >= uem_start_ms and end_ms <= uem_end_ms


def seconds_to_frames(seconds: float) -> int:
    """A duration in seconds as whole frames the way the MCoRec baseline counts it,
    ``int(seconds * 25)`` (truncated: 0.5 s is 12 frames)."""
    return int(float(seconds) * FPS)


def frame_to_ms(frame: int) -> int:
    """Start of central frame ``frame`` in integer milliseconds (``frame * 40``)."""
    return int(frame) * MS_PER_FRAME
