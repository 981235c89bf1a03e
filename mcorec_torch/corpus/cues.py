"""Which transcript cues can become segments: the one rule (SPEC §3) the index, the tokenizer
trainer and ``check`` share.

A cue is usable when ``end > start`` (else ``bad_cue``), it lies inside the speaker's central
UEM, ``start >= uem.start and end <= uem.end`` in integer milliseconds (else
``outside_uem``; the official scorer's rule), and, when the session video's length is known,
its last frame is inside the video (else ``beyond_video``).
"""
from __future__ import annotations

from typing import Optional, Tuple

from ..timeline import cue_frames, in_uem
from .vtt import Cue

BAD_CUE = "bad_cue"
OUTSIDE_UEM = "outside_uem"
BEYOND_VIDEO = "beyond_video"
#: The reasons of :func:`cue_fault`, in the order they are checked.
CUE_FAULTS = (BAD_CUE, OUTSIDE_UEM, BEYOND_VIDEO)


def cue_fault(cue: Cue, uem_ms: Optional[Tuple[int, int]], session_frames: Optional[int] = None) -> Optional[str]:
    """Why ``cue`` cannot become a segment, or ``None`` when it can.

    ``uem_ms``: the speaker's central UEM ``(start_ms, end_ms)``; ``session_frames``: frames
    of the session's central video. ``None`` for either: not checked."""
    if cue.end_ms <= cue.start_ms:
        return BAD_CUE
    if uem_ms is not None and not in_uem(cue.start_ms, cue.end_ms, *uem_ms):
        return OUTSIDE_UEM
    if session_frames is not None and cue_frames(cue.start_ms, cue.end_ms)[1] > session_frames:
        return BEYOND_VIDEO
    return None
