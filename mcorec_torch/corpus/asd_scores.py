"""Active-speaker scores of a face track, ``track_XX_asd.json`` (SPEC §1, §12).

The file maps a frame number (a JSON string of a whole number) to the active-speaker
detector's score for that frame, ``{"<frame>": score}``; higher means more likely speaking.
The official baseline treats the smallest key as the track's first frame (it subtracts it
and places the track by its json's ``start_time``), so keys may be track-relative (from 0)
or on the central timeline; both read the same here. Parsing only: no media is opened.
"""
from __future__ import annotations

import math
from typing import Tuple

import numpy as np

from .._io import read_json
from ..errors import MCoRecDataError, PathLike


#: Frame keys longer than this are refused (10^9 frames at 25 fps is 1.3 years).
MAX_FRAME_DIGITS = 9


def _finite(value: object) -> "float | None":
    """``value`` as a finite float, or ``None`` (not a number, a bool, NaN, infinite, or an
    integer too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def read_asd_scores(path: PathLike) -> Tuple[np.ndarray, np.ndarray]:
    """``(frames, scores)`` of an ASD json, sorted by frame: int64 key frame numbers and
    float64 scores. Raises :class:`MCoRecDataError` naming the file and the key when the
    document is not an object, a key is not a non-negative whole number written canonically
    (``"12"``, not ``"012"`` or ``"1.0"``), or a score is not a finite number."""
    document = read_json(path)
    if not isinstance(document, dict):
        raise MCoRecDataError(path, f"expected an object {{\"<frame>\": score}}, got {type(document).__name__}")
    frames = np.empty(len(document), dtype=np.int64)
    scores = np.empty(len(document), dtype=np.float64)
    for k, (key, value) in enumerate(document.items()):
        # ASCII digits only (str.isdigit accepts "²"), canonical, and within MAX_FRAME_DIGITS
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= MAX_FRAME_DIGITS
                and str(int(key)) == key):
            raise MCoRecDataError(path, f"expected a whole frame number (at most {MAX_FRAME_DIGITS} digits) as key",
                                  key=str(key)[:40])
        score = _finite(value)
        if score is None:
            text = repr(value)
            raise MCoRecDataError(path, f"expected a finite number as score, got {text[:40]}"
                                        f"{'...' if len(text) > 40 else ''}", key=key)
        frames[k] = int(key)
        scores[k] = score
    order = np.argsort(frames, kind="stable")
    return frames[order], scores[order]
