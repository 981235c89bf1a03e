"""Exit codes of the command line (SPEC §9): bad input is a one-line ``error:`` and exit 2."""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional

from ..checks import OptionError
from ..config.schema import ConfigError
from ..errors import MCoRecDataError

#: Exit status of a command-line run that bad input ended (SPEC §9): a data or config error.
EXIT_BAD_INPUT = 2


def bad_input_exit(exc: BaseException) -> Optional[int]:
    """When ``exc`` is a :class:`~mcorec_torch.errors.MCoRecDataError`, a
    :class:`~mcorec_torch.config.ConfigError` or an :class:`~mcorec_torch.checks.OptionError` (a
    value the user gave that is not allowed), print ``error: <message>`` (file, key or line,
    what is wrong) to stderr without a traceback and return :data:`EXIT_BAD_INPUT`; else
    ``None`` (the caller re-raises it)."""
    if not isinstance(exc, (MCoRecDataError, ConfigError, OptionError)):
        return None
    print(f"error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT


def exit_code_of(run: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """``run(*args, **kwargs)`` as an exit status: its return value (None is 0), or
    :data:`EXIT_BAD_INPUT` with the message when it raised bad input; other errors propagate."""
    try:
        return int(run(*args, **kwargs) or 0)
    except Exception as exc:  # noqa: BLE001 - re-raised unless it is bad input
        code = bad_input_exit(exc)
        if code is None:
            raise
        return code
