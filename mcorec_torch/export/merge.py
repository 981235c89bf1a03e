"""Joining the sessions' part files of an export (one run, or the shards of a job array) into
its final files: ``manifest.jsonl``, ``skipped.jsonl`` and the format's own (its
:meth:`~mcorec_torch.export.formats.base.ExportFormat.finalize`: the auto_avsr CSV, lhotse
manifests, the Kaldi data directory, the HF dataset, the WebDataset shard list)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

from .._io import atomic_write_text, jsonl_text
from ..errors import MCoRecDataError, PathLike
from .formats import get_format
from .plan import read_fingerprint
from .writers import part_path, read_part

MANIFEST = "manifest.jsonl"
SKIPPED = "skipped.jsonl"


def merge_export(out: PathLike) -> Tuple[int, int]:
    """Write the final files of the export in ``out`` from its part files; returns
    ``(segments, skipped)``. ``MCoRecDataError`` naming the sessions whose parts are missing
    (shards not finished) when there are any."""
    out = Path(out)
    fingerprint = read_fingerprint(out)
    split = fingerprint["split"]
    parts = [part_path(out, split, name) for name in fingerprint["sessions"]]
    missing = [p.name for p in parts if not p.exists()]
    if missing:
        raise MCoRecDataError(out / "parts", f"{len(missing)} of {len(parts)} sessions are not exported yet "
                                             f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); "
                                             "run the missing --shard jobs (or export again) first")
    records: List[Dict[str, Any]] = []
    skipped: List[Dict[str, Any]] = []
    for part in parts:
        done, failed = read_part(part)
        records += done
        skipped += failed
    get_format(fingerprint["settings"]["format"]).finalize(out, split, records)
    atomic_write_text(out / SKIPPED, jsonl_text(skipped))
    atomic_write_text(out / MANIFEST, jsonl_text(records))  # last: its presence means the export is complete
    return len(records), len(skipped)


def read_manifest(out: PathLike) -> List[Dict[str, Any]]:
    """The records of a finished export (``OUT/manifest.jsonl``), in session and file order."""
    path = Path(out) / MANIFEST
    if not path.exists():
        raise MCoRecDataError(path, "missing: the export is not finished (run mcorec-torch export-merge "
                                    "after the last --shard job)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
