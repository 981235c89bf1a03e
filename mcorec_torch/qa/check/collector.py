"""Collecting findings while ``check`` walks a split: every failure is recorded and the walk
goes on, so one run reports every problem."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, TypeVar

import av

from ...errors import MCoRecDataError, PathLike
from .result import NOTE, PROBLEM, Problem

T = TypeVar("T")


class Collector:
    """Problems and notes of a split; ``session``: the session folder being checked."""

    def __init__(self) -> None:
        self.problems: List[Problem] = []
        self.notes: List[Problem] = []
        self.files = 0
        self.session: Optional[str] = None

    def add(self, path: PathLike, message: str, level: str = PROBLEM, session: Optional[str] = None) -> None:
        """Record ``message`` about ``path`` (prefixed with the path unless it starts with it)."""
        path = str(path)
        text = message if message.startswith(path) else f"{path}: {message}"
        finding = Problem(path, text, session if session is not None else self.session, level)
        (self.notes if level == NOTE else self.problems).append(finding)

    def note(self, path: PathLike, message: str) -> None:
        self.add(path, message, NOTE)

    def error(self, exc: MCoRecDataError, path: PathLike) -> None:
        self.add(exc.path or path, str(exc))

    def attempt(self, path: PathLike, action: Callable[[], T]) -> Optional[T]:
        """``action()``; its failure is recorded as a problem of ``path`` and ``None`` returned.
        Besides :class:`MCoRecDataError` and media errors, any other exception is recorded
        too (naming its type), so that one odd file cannot end the run."""
        try:
            return action()
        except MCoRecDataError as exc:
            self.error(exc, path)
        except (av.error.FFmpegError, OSError) as exc:
            self.add(path, f"cannot read: {exc}")
        except Exception as exc:  # noqa: BLE001 - check must go on; the type is reported
            self.add(path, f"unexpected {type(exc).__name__} while reading: {exc}")
        return None

    def errors(self, errors: List[MCoRecDataError], path: Path) -> None:
        """Record the errors a collecting reader returned."""
        for exc in errors:
            self.error(exc, path)
