"""Constructor argument checks of the transforms, on :mod:`mcorec_torch.checks`: every error is an
:class:`~mcorec_torch.checks.OptionError` naming the transform (``.owner``) and the argument
(``.option``)."""
from __future__ import annotations

import math
import numbers
from typing import Any, Tuple

from ..checks import OptionError, check_int, check_number


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_int(owner: str, name: str, value: Any, minimum: int = 0) -> int:
    return check_int(name, value, owner=owner, minimum=minimum)


def _check_float(owner: str, name: str, value: Any, minimum: float = 0.0,
                 maximum: float = math.inf, strict: bool = False) -> float:
    """A finite number ``>= minimum`` (``> minimum`` when ``strict``) and ``<= maximum``."""
    return check_number(name, value, owner=owner, minimum=None if strict else minimum,
                        above=minimum if strict else None, maximum=None if maximum == math.inf else maximum)


def _check_probability(owner: str, value: Any) -> float:
    return _check_float(owner, "p", value, 0.0, 1.0)


def _check_size(owner: str, value: Any) -> Tuple[int, int]:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                                   for v in value):
            return int(value[0]), int(value[1])
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0:
        return int(value), int(value)
    raise OptionError("size", f"size must be a positive integer or [height, width] of positive integers "
                     f"(pixels), got {value!r}", owner=owner)


def _check_range(owner: str, name: str, value: Any) -> Tuple[float, float]:
    if _is_number(value) and math.isfinite(float(value)):
        return float(value), float(value)
    if (isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value)
            and all(math.isfinite(float(v)) for v in value) and float(value[0]) <= float(value[1])):
        return float(value[0]), float(value[1])
    raise OptionError(name, f"{name} must be a number or [low, high] with low <= high, got {value!r}", owner=owner)


def _check_channels(owner: str, name: str, value: Any, minimum: float, strict: bool) -> Tuple[float, ...]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise OptionError(name, f"{name} must be a number or a list of per-channel numbers, got {value!r}",
                          owner=owner)
    return tuple(_check_float(owner, name, v, minimum=minimum, strict=strict) for v in values)
