"""The one error type the library raises for malformed input (SPEC §10)."""
from __future__ import annotations

import os
from typing import Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


class MCoRecDataError(ValueError):
    """Malformed or missing MCoRec input.

    Every instance names the file, and where it can, the JSON key or the line number,
    so that ``str(err)`` reads like ``"session_1/metadata.json: key 'spk_0.central.uem':
    expected an object with 'start' and 'end'"``.
    """

    def __init__(self, path: Optional[PathLike], message: str, *, key: Optional[str] = None,
                 line: Optional[int] = None) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.key = key
        self.line = line
        self.message = message
        where = self.path or "<unknown file>"
        if line is not None:
            where += f":{line}"
        if key is not None:
            where += f": key '{key}'"
        super().__init__(f"{where}: {message}")
