"""Articulation of ``content="speech"`` sessions: which :data:`CHARSET` symbol each speaker's
mouth shows, and sounds, on every central frame (:func:`articulation`), from the characters
of the cues' normalized texts spread over the cues' frames (:func:`character_spans`; the
rule in full: :mod:`.speech`). :mod:`.mouths` draws the symbols, :mod:`.speech` sounds them.
"""
from __future__ import annotations

import functools
from typing import List, Tuple

import numpy as np

from .. import timeline
from ..text import normalize
from .spec import SessionSpec, SpeakerSpec

__all__ = ["CHARSET", "NEUTRAL", "symbol_of", "normalized_text", "character_spans", "articulation",
           "central_frame_of_ego"]

#: The symbols a mouth can show, in id order: ``CHARSET[i]`` is symbol ``i``.
CHARSET: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ' "
#: Symbol id of a closed mouth (no character): frames outside cues, and the first frame of
#: each character span of two frames or more.
NEUTRAL: int = -1

_SYMBOL = {c: i for i, c in enumerate(CHARSET)}


def symbol_of(char: str) -> int:
    """The symbol id of one :data:`CHARSET` character (``ValueError`` for any other)."""
    try:
        return _SYMBOL[char]
    except KeyError:
        raise ValueError(f"character {char!r} is not in the speech charset {CHARSET!r}") from None


def normalized_text(text: str) -> str:
    """``text.normalize(text, "train")``, checked to use :data:`CHARSET` characters only."""
    norm = normalize(text, "train")
    bad = sorted(set(norm) - set(CHARSET))
    if bad:
        raise ValueError(f"cue text {text!r} normalizes to {norm!r}, which has characters "
                         f"{bad} outside the speech charset (A-Z, apostrophe, space)")
    return norm


def _cues_key(spk: SpeakerSpec) -> Tuple[Tuple[int, int, str], ...]:
    return tuple((int(c.start_ms), int(c.end_ms), str(c.text)) for c in spk.cues)


@functools.lru_cache(maxsize=256)
def _spans(cues: Tuple[Tuple[int, int, str], ...]) -> Tuple[Tuple[int, int, int], ...]:
    spans = []
    for start_ms, end_ms, text in cues:
        f0, f1 = timeline.cue_frames(start_ms, end_ms)
        chars = normalized_text(text)
        n, frames = len(chars), f1 - f0
        for i, char in enumerate(chars):
            a = f0 + (i * frames) // n
            b = f0 + ((i + 1) * frames) // n
            if b > a:
                spans.append((a, b, symbol_of(char)))
    return tuple(spans)


def character_spans(session: SessionSpec, speaker_name: str) -> List[Tuple[int, int, int]]:
    """``(first, stop, symbol)`` per character of the speaker's cues, in cue order:
    central frames ``[first, stop)``; the symbol shows on ``[first + 1, stop)`` when the
    span has two frames or more (``first`` is then :data:`NEUTRAL`), on ``first`` alone
    otherwise. Characters of a cue with more characters than frames may get no frame
    (and no span)."""
    return list(_spans(_cues_key(session.speaker(speaker_name))))


def _voiced(first: int, stop: int) -> int:
    """First frame of a span that shows (and sounds) its symbol."""
    return first + 1 if stop - first >= 2 else first


def articulation(session: SessionSpec, speaker_name: str) -> np.ndarray:
    """The symbol the speaker's mouth shows on every central frame: int64
    ``[session.num_frames]``, :data:`CHARSET` ids, :data:`NEUTRAL` (-1) for a closed mouth.
    What ``content="speech"`` renders; ``ValueError`` when a cue's normalized text has
    characters outside :data:`CHARSET` (e.g. the digits of index-mode texts)."""
    out = np.full(session.num_frames, NEUTRAL, dtype=np.int64)
    for first, stop, symbol in character_spans(session, speaker_name):
        lo, hi = max(_voiced(first, stop), 0), min(stop, session.num_frames)
        if hi > lo:
            out[lo:hi] = symbol
    return out


def central_frame_of_ego(speaker: SpeakerSpec, ego_frame: int) -> int:
    """The central frame ego frame ``ego_frame`` of ``speaker`` shows: the inverse of the
    dataset's ``E0 = round(F0 - 25 * (uem_central.start - uem_ego.start))`` (SPEC §4)."""
    if speaker.ego is None:
        raise ValueError(f"{speaker.name} has no ego recording")
    return int(ego_frame) - timeline.ego_start_frame(0, speaker.uem_start, speaker.ego.uem_start)
