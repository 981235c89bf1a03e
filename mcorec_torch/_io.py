"""Small file helpers every layer uses: reading text and JSON with errors that name the file
(SPEC §10), atomic writes, and file stamps for caches."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Tuple

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


def temporary_name(path: PathLike) -> Path:
    """The temporary name :func:`atomic_path` writes ``path`` under before the rename: a hidden
    sibling holding this process's id and this thread's (so two writers never share one)."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_native_id()}")


def temporary_target(name: str) -> Optional[str]:
    """The file name a :func:`temporary_name` (of any process) stands for, or ``None`` when
    ``name`` is not one: ``".b.mp4.tmp4242-4243"`` -> ``"b.mp4"`` (to find what a killed process
    left; names without the thread part, of earlier versions, too)."""
    match = re.fullmatch(r"\.(.+)\.tmp\d+(?:-\d+)?", name)
    return match.group(1) if match else None


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for the caller (or a library it calls) to write a
    file or a folder at; when the block ends normally it is renamed to ``path`` (replacing what
    was there), when it raises it is removed. Readers (other processes included) see the old
    ``path`` or the whole new one, never a part. Creates the parent folders."""
    tmp = start_temporary(path)
    try:
        yield tmp
        commit_temporary(tmp, path)
    except BaseException:
        remove_temporary(tmp)
        raise


def start_temporary(path: PathLike) -> Path:
    """The :func:`temporary_name` of ``path``, cleared of anything a killed writer left there, its
    parent folders created: the first step of :func:`atomic_path`, for a writer whose file stays
    open over several calls (then :func:`commit_temporary` or :func:`remove_temporary`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    remove_temporary(tmp)
    return tmp


def commit_temporary(tmp: Path, path: PathLike) -> None:
    """Rename the finished temporary ``tmp`` (a file or a folder) to ``path``, replacing it."""
    path = Path(path)
    if path.is_dir() and tmp.is_dir():
        shutil.rmtree(path)
    os.replace(tmp, path)


def remove_temporary(path: Path) -> None:
    """Remove the temporary file or folder ``path`` if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename (:func:`atomic_path`):
    readers see the old file or the whole new one, never a part; the temporary file is removed
    when writing fails. Creates the parent folders; raises ``OSError`` when the location is not
    writable."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write_bytes` of ``text`` encoded as ``encoding``."""
    return atomic_write_bytes(path, text.encode(encoding))


def jsonl_text(entries: Iterable[Any]) -> str:
    """``entries`` as JSON lines: one object a line (keys sorted), each ending in a newline."""
    return "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries)


def file_stamp(path: PathLike) -> Tuple[int, int]:
    """``(size in bytes, modification time in ns)`` of ``path``: what caches key on to notice
    that a file changed. Raises ``FileNotFoundError`` when it does not exist."""
    stat = os.stat(path)
    return int(stat.st_size), int(stat.st_mtime_ns)
