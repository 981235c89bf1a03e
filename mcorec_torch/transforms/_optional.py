"""The optional dependencies (the ``train`` extra), imported on first use by the transforms that
need them."""
from __future__ import annotations

import importlib
from types import ModuleType


def _require(module: str, message: str) -> ModuleType:
    """``import module``; an :class:`ImportError` saying ``message`` (what to install) if it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(message) from exc
