"""WebVTT transcripts (``labels/spk_N.vtt``) read into integer-millisecond cues.

Parsing is done by ``webvtt-py``; because it drops malformed cue timings silently, every
line that looks like a cue timing (one holding ``-->``, or two times joined by any other
arrow such as ``->``, ``=>``, ``→``, or by spaces) is checked here first so that a bad
timing is an error naming its line (SPEC §10). Times are taken with ``in_milliseconds()``, never the truncated
``*_in_seconds`` properties.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import webvtt

from .._io import atomic_write_text, read_text
from ..errors import MCoRecDataError, PathLike

_TIMESTAMP = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
_TIMING_LINE = re.compile(rf"^\s*({_TIMESTAMP})\s+-->\s+({_TIMESTAMP})(?:\s+.*)?$")
# Lines a person meant as a cue timing: two times joined by an arrow of any kind, or by spaces
# or a dash when both have a fraction of a second ("00:01.000 00:02.000", "00:01.000 - 00:02.000").
_TIME_LIKE = r"\d+(?::\d+)+(?:[.,]\d+)?|\d+[.,]\d+"
_FINE_TIME = r"\d+(?::\d+)+[.,]\d+"
_ARROW = r"[-=~\u2010-\u2015_]*>|[\u2190-\u21ff\u27f0-\u27ff\u2900-\u297f\u2794-\u27bf]|-{2,}"
_LOOKS_LIKE_TIMING = re.compile(rf"^\s*(?:(?:{_TIME_LIKE})\s*(?:{_ARROW})\s*(?:{_TIME_LIKE})|"
                                rf"(?:{_FINE_TIME})(?:\s+|\s*[-~\u2010-\u2015]\s*)(?:{_FINE_TIME}))")


def looks_like_timing(line: str) -> bool:
    """Whether ``line`` was meant as a cue timing line (well formed or not)."""
    return "-->" in line or _LOOKS_LIKE_TIMING.match(line) is not None


@dataclass(frozen=True)
class Cue:
    """One VTT cue on the central timeline.

    ``start_ms`` / ``end_ms``: integer milliseconds; ``text``: the cue text as written
    (lines joined with ``"\\n"``, voice tags stripped); ``line``: 1-based line number of the
    cue's timing line in the file.
    """

    start_ms: int
    end_ms: int
    text: str
    line: int

    @property
    def start(self) -> float:
        """Start in seconds."""
        return self.start_ms / 1000.0

    @property
    def end(self) -> float:
        """End in seconds."""
        return self.end_ms / 1000.0


def _timestamp_ms(stamp: str) -> int:
    parts = stamp.split(":")
    seconds, millis = parts[-1].split(".")
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    return ((hours * 60 + minutes) * 60 + int(seconds)) * 1000 + int(millis)


def read_vtt(path: PathLike, errors: Optional[List[MCoRecDataError]] = None) -> List[Cue]:
    """Read every cue of a WebVTT file, in file order.

    Raises :class:`MCoRecDataError` naming the file (and line) when the file is missing,
    unreadable, lacks the ``WEBVTT`` header, or has a line that looks like a cue timing but
    does not parse. Cues with ``end <= start`` are returned as written; callers decide (the
    index counts them as ``bad_cue``, ``check`` reports them). With an ``errors`` list
    (``check``), every malformed timing line is appended there and the other cues returned.
    """
    path = os.fspath(path)
    lines = read_text(path, "transcript file", encoding="utf-8-sig").splitlines()

    timing_lines: List[int] = []
    for number, text in enumerate(lines, start=1):
        if not looks_like_timing(text):
            continue
        match = _TIMING_LINE.match(text)
        if match is None:
            error = MCoRecDataError(path, f"malformed cue timing {text.strip()!r} (expected 'HH:MM:SS.mmm --> "
                                          "HH:MM:SS.mmm'; webvtt-py would drop this cue silently)", line=number)
            if errors is None:
                raise error
            errors.append(error)
            continue
        timing_lines.append(number)

    try:
        captions = webvtt.read(path).captions
    except webvtt.errors.MalformedFileError as exc:
        raise MCoRecDataError(path, f"not a WebVTT file: {exc}") from None
    except Exception as exc:  # webvtt-py raises a few unrelated types on odd input
        raise MCoRecDataError(path, f"WebVTT does not parse: {exc}") from None
    if len(captions) != len(timing_lines):
        raise MCoRecDataError(
            path, f"{len(timing_lines)} cue timing lines but webvtt-py parsed {len(captions)} cues")

    cues = []
    for caption, number in zip(captions, timing_lines):
        match = _TIMING_LINE.match(lines[number - 1])
        start_ms, end_ms = _timestamp_ms(match.group(1)), _timestamp_ms(match.group(2))
        if (start_ms, end_ms) != (caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()):
            raise MCoRecDataError(path, "cue timing parsed differently by webvtt-py", line=number)
        cues.append(Cue(start_ms=start_ms, end_ms=end_ms, text=caption.text, line=number))
    return cues


def format_timestamp(ms: int) -> str:
    """A WebVTT timestamp ``HH:MM:SS.mmm`` of a time in integer milliseconds."""
    ms = int(ms)
    if ms < 0:
        raise ValueError(f"a WebVTT time cannot be negative, got {ms} ms")
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def write_vtt(path: PathLike, cues: Iterable[Tuple[int, int, str]]) -> Path:
    """Write ``(start_ms, end_ms, text)`` cues as a WebVTT file (``HH:MM:SS.mmm -->
    HH:MM:SS.mmm``; multi-line text kept, blank lines inside a cue dropped), atomically.
    Raises ``ValueError`` for a text containing ``-->`` (it would end the cue)."""
    lines = ["WEBVTT", ""]
    for start_ms, end_ms, text in cues:
        body = "\n".join(line for line in str(text).split("\n") if line.strip())
        if "-->" in body:
            raise ValueError(f"cue text may not contain '-->': {text!r}")
        lines += [f"{format_timestamp(start_ms)} --> {format_timestamp(end_ms)}", body, ""]
    return atomic_write_text(path, "\n".join(lines))
