"""Small file helpers every layer uses: reading text and JSON with errors that name the file
(SPEC §10), atomic writes, and file stamps for caches."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Tuple

from .errors import MCoRecDataError, PathLike


def read_text(path: PathLike, what: str, encoding: str = "utf-8") -> str:
    """The whole text of ``path``; :class:`MCoRecDataError` naming it (and ``what`` it is)
    when it is missing, unreadable or not valid ``encoding``."""
    try:
        with open(path, "r", encoding=encoding) as handle:
            return handle.read()
    except FileNotFoundError:
        raise MCoRecDataError(path, f"{what} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MCoRecDataError(path, f"cannot read {what}: {exc}") from None


def read_json(path: PathLike) -> Any:
    """Parse a JSON file, raising :class:`MCoRecDataError` naming it (and the line) when it is
    absent or invalid."""
    text = read_text(path, "file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MCoRecDataError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise MCoRecDataError(path, "invalid JSON: nested too deeply") from None


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename, so that readers (other
    processes included) see the old file or the whole new one, never a part. Creates the
    parent folders; raises ``OSError`` when the location is not writable."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write_bytes` of ``text`` encoded as ``encoding``."""
    return atomic_write_bytes(path, text.encode(encoding))


def file_stamp(path: PathLike) -> Tuple[int, int]:
    """``(size in bytes, modification time in ns)`` of ``path``: what caches key on to notice
    that a file changed. Raises ``FileNotFoundError`` when it does not exist."""
    stat = os.stat(path)
    return int(stat.st_size), int(stat.st_mtime_ns)
