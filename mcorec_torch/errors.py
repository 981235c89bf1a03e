"""The one error type the library raises for malformed input (SPEC §10)."""
from __future__ import annotations

import os
import re
from typing import Any, Optional, Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]

# "[segment ID: ]PATH[:LINE][: key 'KEY']: MESSAGE", the form of ``str(MCoRecDataError)``
_FORMAT = re.compile(r"^(?:segment (?P<segment>\S+): )?(?P<path>[^\n]+?)(?::(?P<line>\d+))?"
                     r"(?:: key '(?P<key>[^'\n]*)')?: (?P<message>.+)$", re.S)
_CLASS_LINE = "MCoRecDataError: "


class MCoRecDataError(ValueError):
    """Malformed or missing MCoRec input.

    Every instance names the file, and where it can, the JSON key or the line number,
    so that ``str(err)`` reads like ``"session_1/metadata.json: key 'spk_0.central.uem':
    expected an object with 'start' and 'end'"``. ``segment``: the segment id (SPEC §3)
    whose loading failed, when the error comes from ``dataset[i]``.

    Instances pickle with all their fields. A DataLoader worker's error reaches the main
    process as ``MCoRecDataError`` too: torch rebuilds it by calling the class with one
    message (its own report holding the worker's traceback), and the path, line, key and
    segment are then read back from the traceback's last line.
    """

    def __init__(self, path: Optional[PathLike], message: Optional[str] = None, *, key: Optional[str] = None,
                 line: Optional[int] = None, segment: Optional[str] = None) -> None:
        if message is None:  # one argument: a whole message, e.g. torch re-raising a worker's error
            text = os.fspath(path) if path is not None else ""
            self.path, self.key, self.line, self.segment, self.message = _parse(text)
            super().__init__(text)
            return
        self.path = os.fspath(path) if path is not None else None
        self.key = key
        self.line = line
        self.segment = segment
        self.message = message
        super().__init__(_format(self.path, message, key, line, segment))

    def with_segment(self, segment: str) -> "MCoRecDataError":
        """This error naming ``segment`` too (a new instance; ``self`` unchanged)."""
        return MCoRecDataError(self.path, self.message, key=self.key, line=self.line, segment=segment)

    def __reduce__(self) -> Tuple[Any, ...]:
        return _rebuild, (self.path, self.message, self.key, self.line, self.segment, str(self))


def _format(path: Optional[str], message: str, key: Optional[str], line: Optional[int],
            segment: Optional[str]) -> str:
    where = path or "<unknown file>"
    if line is not None:
        where += f":{line}"
    if key is not None:
        where += f": key '{key}'"
    return f"segment {segment}: {where}: {message}" if segment else f"{where}: {message}"


def _parse(text: str) -> Tuple[Optional[str], Optional[str], Optional[int], Optional[str], str]:
    """``(path, key, line, segment, message)`` of a formatted error, or of the last
    ``...MCoRecDataError: ...`` line of a traceback report; the whole text as the message
    (path ``None``) when neither is found."""
    tail = text
    marker = text.rfind(_CLASS_LINE)
    if marker >= 0:
        tail = text[marker + len(_CLASS_LINE):].strip()
    match = _FORMAT.match(tail)
    if match is None or match.group("path") == "<unknown file>":
        return None, None, None, match.group("segment") if match else None, text
    line = match.group("line")
    return (match.group("path"), match.group("key"), int(line) if line else None, match.group("segment"),
            match.group("message"))


def _rebuild(path: Optional[str], message: str, key: Optional[str], line: Optional[int],
             segment: Optional[str], text: str) -> MCoRecDataError:
    error = MCoRecDataError(path, message, key=key, line=line, segment=segment)
    error.args = (text,)
    return error
