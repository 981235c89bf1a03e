"""Reading small text files with errors that name them (SPEC §10)."""
from __future__ import annotations

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
