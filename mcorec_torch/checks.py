"""Checking user-set values: the one error and the one set of checks for every option, argument
and setting of the library (dataset options, transforms, configs, synthetic specs, export
settings).

Every message has one form, ``"[OWNER: ]NAME must be <what is allowed>, got <value>"``, and the
error carries the option's name (``.option``) and owner (``.owner``, e.g. a transform's class
name), so a config loader can name the key without parsing the text. Numbers must be finite:
NaN and infinity are refused wherever a number is asked for.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence, TypeVar

__all__ = ["OptionError", "check_number", "check_int", "check_choice", "check_flag", "check_text"]

T = TypeVar("T")


class OptionError(ValueError):
    """A value not allowed for an option or argument.

    ``option``: the name of the option (``"min_duration"``, ``"p"``); ``owner``: what it belongs
    to (a transform's class name, ``"ExportSettings"``) or None for a dataset option. ``str(err)``
    reads ``"[OWNER: ]OPTION must be ..., got VALUE"``."""

    def __init__(self, option: str, message: str, *, owner: Optional[str] = None) -> None:
        self.option, self.owner = option, owner
        super().__init__(f"{owner}: {message}" if owner else message)


def _fail(name: str, allowed: str, value: Any, owner: Optional[str]) -> OptionError:
    return OptionError(name, f"{name} must be {allowed}, got {value!r}", owner=owner)


def _bound_text(minimum: Optional[float], maximum: Optional[float], above: Optional[float],
                unit: Optional[str]) -> str:
    suffix = f" {unit}" if unit else ""
    if minimum is not None and maximum is not None:
        return f"in [{minimum:g}, {maximum:g}]{suffix}"
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    if minimum is not None:
        parts.append(f">= {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return " and ".join(parts) + suffix if parts else ""


def check_number(name: str, value: Any, *, owner: Optional[str] = None, minimum: Optional[float] = None,
                 maximum: Optional[float] = None, above: Optional[float] = None, unit: Optional[str] = None,
                 optional: bool = False) -> Optional[float]:
    """``value`` as a float when it is a finite real number (not a bool) inside the bounds
    (``minimum``/``maximum`` inclusive, ``above`` exclusive); ``None`` passes when ``optional``.
    ``unit`` (e.g. ``"seconds"``) is named in the message. Raises :class:`OptionError`."""
    if value is None and optional:
        return None
    bounds = _bound_text(minimum, maximum, above, unit)
    tail = " or None" if optional else ""
    allowed = f"a finite number {bounds}{tail}" if bounds else f"a finite number{f' of {unit}' if unit else ''}{tail}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise _fail(name, allowed, value, owner)
    number = float(value)
    if ((minimum is not None and number < minimum) or (maximum is not None and number > maximum)
            or (above is not None and number <= above)):
        raise _fail(name, bounds + tail, value, owner)
    return number


def check_int(name: str, value: Any, *, owner: Optional[str] = None, minimum: Optional[int] = None,
              maximum: Optional[int] = None, optional: bool = False) -> Optional[int]:
    """``value`` as an int when it is an integer (not a bool) in ``[minimum, maximum]``; ``None``
    passes when ``optional``. Raises :class:`OptionError`."""
    if value is None and optional:
        return None
    bounds = _bound_text(minimum, maximum, None, None)
    tail = " or None" if optional else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(name, f"an integer {bounds}{tail}" if bounds else f"an integer{tail}", value, owner)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _fail(name, bounds + tail, value, owner)
    return int(value)


def check_choice(name: str, value: T, choices: Sequence[Any], *, owner: Optional[str] = None,
                 optional: bool = False) -> T:
    """``value`` when it is one of ``choices`` (or ``None`` and ``optional``); raises
    :class:`OptionError` listing the choices."""
    if value is None and optional:
        return value
    if value not in tuple(choices):
        raise _fail(name, f"one of {tuple(choices)}" + (" or None" if optional else ""), value, owner)
    return value


def check_flag(name: str, value: Any, *, owner: Optional[str] = None) -> bool:
    """``value`` when it is a bool; raises :class:`OptionError`."""
    if not isinstance(value, bool):
        raise _fail(name, "true or false", value, owner)
    return value


def check_text(name: str, value: Any, *, owner: Optional[str] = None) -> str:
    """``value`` when it is a non-empty string; raises :class:`OptionError`."""
    if not isinstance(value, str) or not value:
        raise _fail(name, "a non-empty string", value, owner)
    return value
