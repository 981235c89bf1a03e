"""Collecting findings while ``check`` walks a split: every failure is recorded and the walk
goes on, so one run reports every problem. Each finding is of a :class:`~.findings.Kind`,
which decides whether it is a problem or a note."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, TypeVar

import av

from ...errors import MCoRecDataError, PathLike
from .findings import Kind
from .result import NOTE, Problem

T = TypeVar("T")


class Collector:
    """Problems and notes of a split; ``session``: the session folder being checked."""

    def __init__(self) -> None:
        self.problems: List[Problem] = []
        self.notes: List[Problem] = []
        self.files = 0
        self.session: Optional[str] = None

    def add(self, kind: Kind, path: PathLike, message: str, session: Optional[str] = None) -> None:
        """Record ``message`` about ``path`` (prefixed with the path unless it starts with it)
        as a finding of ``kind``: a problem or a note as the kind declares."""
        path = str(path)
        text = message if message.startswith(path) else f"{path}: {message}"
        finding = Problem(path, text, session if session is not None else self.session, kind.level, kind.name)
        (self.notes if kind.level == NOTE else self.problems).append(finding)

    def error(self, kind: Kind, exc: MCoRecDataError, path: PathLike) -> None:
        self.add(kind, exc.path or path, str(exc))

    def attempt(self, kind: Kind, path: PathLike, action: Callable[[], T]) -> Optional[T]:
        """``action()``; its failure is recorded as a finding of ``kind`` about ``path`` and
        ``None`` returned. Besides :class:`MCoRecDataError` and media errors, any other
        exception is recorded too (naming its type), so that one odd file cannot end the run."""
        try:
            return action()
        except MCoRecDataError as exc:
            self.error(kind, exc, path)
        except (av.error.FFmpegError, OSError) as exc:
            self.add(kind, path, f"cannot read: {exc}")
        except Exception as exc:  # noqa: BLE001 - check must go on; the type is reported
            self.add(kind, path, f"unexpected {type(exc).__name__} while reading: {exc}")
        return None

    def errors(self, kind: Kind, errors: List[MCoRecDataError], path: Path) -> None:
        """Record the errors a collecting reader returned, as findings of ``kind``."""
        for exc in errors:
            self.error(kind, exc, path)
