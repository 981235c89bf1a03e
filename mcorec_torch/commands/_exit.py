"""Exit codes of the command line (SPEC §9), decided in one place for every command: bad input
is a one-line ``error:`` and exit 2; Ctrl-C is a one-line ``interrupted:`` (what was kept, how
to go on) and exit 130; a reader of stdout that went away (``| head``) ends the run quietly
with exit 141. None of them prints a traceback."""
from __future__ import annotations

import os
import sys
from typing import Any, Callable, Optional

from ..checks import OptionError
from ..config.schema import ConfigError
from ..errors import MCoRecDataError
from ..lips.backend import LipsExtraMissing

#: Exit status of a command-line run that bad input ended (SPEC §9): a data or config error.
EXIT_BAD_INPUT = 2
#: Exit status of a run that Ctrl-C (SIGINT) ended: 128 + 2, what a shell reports for it.
EXIT_INTERRUPTED = 130
#: Exit status of a run whose stdout was closed by its reader (``... | head``): 128 + 13
#: (SIGPIPE), what a shell reports for a program that the closed pipe ended.
EXIT_BROKEN_PIPE = 141

#: What Ctrl-C leaves, for a command that says nothing more specific (every file the library
#: writes is written whole or not at all: ``mcorec_torch._io``).
DEFAULT_INTERRUPTED_NOTE = "no file is left half-written; run the same command again"

#: ``() -> str``: what an interrupted command kept and how to go on (one line).
InterruptNote = Callable[[], str]


def bad_input_exit(exc: BaseException) -> Optional[int]:
    """When ``exc`` is a :class:`~mcorec_torch.errors.MCoRecDataError`, a
    :class:`~mcorec_torch.config.ConfigError`, an :class:`~mcorec_torch.checks.OptionError` (a
    value the user gave that is not allowed) or a :class:`~mcorec_torch.lips.LipsExtraMissing`
    (options that need the ``lips`` extra, which is not installed), print ``error: <message>`` (file, key or line,
    what is wrong) to stderr without a traceback and return :data:`EXIT_BAD_INPUT`; else
    ``None`` (the caller re-raises it)."""
    if not isinstance(exc, (MCoRecDataError, ConfigError, OptionError, LipsExtraMissing)):
        return None
    print(f"error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT


def interrupted_exit(note: Optional[InterruptNote] = None, interrupt: Optional[KeyboardInterrupt] = None) -> int:
    """Print one line on stderr saying what was kept and how to go on, and return
    :data:`EXIT_INTERRUPTED`. The line is the message of ``interrupt`` when it has one (code
    that handled the interrupt, e.g. :class:`~mcorec_torch.export.ExportInterrupted`, raises it
    again with that line), else ``interrupted: <note()>`` (the :data:`DEFAULT_INTERRUPTED_NOTE`
    when ``note`` is None or fails)."""
    line = " ".join(str(interrupt or "").split())
    if not line:
        text = DEFAULT_INTERRUPTED_NOTE
        if note is not None:
            try:
                text = " ".join(str(note()).split()) or text
            except Exception:  # noqa: BLE001 - a note that cannot be made must not hide the interruption
                pass
        line = f"interrupted: {text}"
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:  # stderr is gone too: the exit status says it
        pass
    return EXIT_INTERRUPTED


def stdout_is_closed() -> bool:
    """Whether the reader of this process's stdout has gone away (a pipe whose other end is
    closed): a ``BrokenPipeError`` that is not about stdout (a pipe to a child process) is a
    real error and must not be silenced."""
    try:
        fd = sys.__stdout__.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    try:
        import select

        poller = select.poll()
    except (ImportError, AttributeError):  # no poll (Windows): stdout is the pipe a command writes
        return True
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def broken_pipe_exit() -> int:
    """Point stdout at ``os.devnull`` (so the interpreter's last flush of what is still buffered
    finds nowhere to fail) and return :data:`EXIT_BROKEN_PIPE`, printing nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _flush_stdout() -> None:
    """Write out what stdout still buffers, inside the handlers of :func:`exit_code_of` (a
    closed stdout would otherwise fail in the interpreter's exit, after them)."""
    if sys.stdout is not None:
        sys.stdout.flush()


def exit_code_of(run: Callable[..., Any], *args: Any, interrupted: Optional[InterruptNote] = None,
                 **kwargs: Any) -> int:
    """``run(*args, **kwargs)`` as an exit status: its return value (None is 0);
    :data:`EXIT_BAD_INPUT` with the message when it raised bad input; :data:`EXIT_INTERRUPTED`
    with one line after Ctrl-C (the ``KeyboardInterrupt``'s message, else ``interrupted:`` and
    what ``interrupted()`` says was kept and how to go on, :func:`interrupted_exit`); :data:`EXIT_BROKEN_PIPE`, silently, when the reader of stdout went away.
    ``SystemExit`` (argparse's ``--help`` and usage errors) passes with stdout flushed (or
    ends as a closed stdout does); other errors propagate."""
    try:
        code = int(run(*args, **kwargs) or 0)
        _flush_stdout()
        return code
    except KeyboardInterrupt as interrupt:
        return interrupted_exit(interrupted, interrupt)
    except BrokenPipeError:
        if not stdout_is_closed():
            raise
        return broken_pipe_exit()
    except SystemExit:
        try:
            _flush_stdout()
        except BrokenPipeError:  # what argparse printed (--help, --version) found no reader
            return broken_pipe_exit()
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised unless it is bad input
        code = bad_input_exit(exc)
        if code is None:
            raise
        return code
