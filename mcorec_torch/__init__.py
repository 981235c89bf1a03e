"""mcorec_torch: frame-exact MCoRec (CHiME-9 Task 1) audio-visual segments for PyTorch.

The public names below are imported on first use, so that ``mcorec_torch.corpus`` and
``mcorec_torch.index`` (and the ``check`` and ``index`` commands) start without importing
torch. See ``docs/architecture.md`` for the layers.
"""
from __future__ import annotations

import importlib
from typing import Any

from .checks import OptionError
from .errors import MCoRecDataError
from .commands._version import package_version
from .timeline import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME

#: The installed version (pyproject.toml's, through the package metadata; "unknown" uninstalled).
__version__ = package_version()

#: Public name -> the module that defines it.
_PUBLIC = {
    "MCoRecDataset": "mcorec_torch.data.dataset",
    "collate": "mcorec_torch.data.collate",
    "Collator": "mcorec_torch.data.collate",
    "BucketBatchSampler": "mcorec_torch.data.samplers",
    "SegmentReader": "mcorec_torch.data.reader",
    "DatasetOptions": "mcorec_torch.index.options",
    "Tokenizer": "mcorec_torch.text.tokenizer",
}

__all__ = ["MCoRecDataset", "collate", "Collator", "BucketBatchSampler", "SegmentReader", "DatasetOptions",
           "MCoRecDataError", "OptionError", "FPS", "SAMPLE_RATE", "SAMPLES_PER_FRAME", "Tokenizer"]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mcorec_torch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_PUBLIC))
