"""Exporting segments for other toolkits (SPEC §7): per-segment mp4 with transcripts, a manifest
and an auto_avsr CSV; WebDataset tar shards; lhotse manifests; a Hugging Face ``datasets``
dataset; an ESPnet/Kaldi data directory. ``mcorec-torch export`` and ``export-merge`` run it.

Modules, each with one job: :mod:`.plan` (settings, fingerprint, shards, records),
:mod:`.formats` (the registry of formats, one module each: ``mp4``, ``wds``, ``lhotse``,
``hf``, ``kaldi``, on :mod:`.formats.base`), :mod:`.codec` (segment media files),
:mod:`.writers` (one session through its format's writer, resume), :mod:`.merge` (final files
from the parts), :mod:`.run` (the pool, the bar), :mod:`.read` (exports back into sample dicts),
:mod:`.verify` and :mod:`.compare` (``--verify``).

Segments are read through :class:`~mcorec_torch.MCoRecDataset` (its ``SegmentReader``);
``webdataset``, ``lhotse`` and ``datasets`` are needed only to read the exports (``datasets``
also writes ``hf``). Names load on first use (the format list does not import torch).
"""
from __future__ import annotations

import importlib
from typing import Any

from .formats import FORMATS, VIDEO_CHOICES, get_format

_LAZY = {
    "ExportSettings": "plan", "ExportPlan": "plan", "parse_shard": "plan",
    "ExportResult": "run", "ExportInterrupted": "run", "export_split": "run", "output_size": "run", "speech_hours": "run",
    "merge_export": "merge", "read_manifest": "merge",
    "verify_export": "verify", "format_verify_report": "verify",
    "read_export": "read",
    "read_files_record": "formats.mp4",
    "iter_wds": "formats.wds", "WdsDataset": "formats.wds", "sample_from_wds": "formats.wds",
    "shard_paths": "formats.wds",
    "row_sample": "formats.hf",
}

__all__ = ["FORMATS", "VIDEO_CHOICES", "get_format", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcorec_torch.export' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
