"""``--verify``: re-read a sample of what an export wrote and compare it with the dataset.

Each format verifies through its :meth:`~mcorec_torch.export.formats.base.ExportFormat.verify`:
the formats holding media read the records back and compare them sample by sample
(:mod:`.compare`: lossless exports exactly, lossy ones within the codecs' tolerances: frame
indices, padding, audio lag and level). ``kaldi`` exports write no media: their ``segments``
cut (seconds) must be the segment's sample range and their texts the dataset's.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict

from ..errors import PathLike
from .formats import get_format
from .merge import read_manifest
from .plan import read_fingerprint


def verify_export(out: PathLike, dataset: Any, count: int = 20, seed: int = 0) -> Dict[str, Any]:
    """Compare ``count`` records of the finished export in ``out`` (drawn with ``seed``) with
    ``dataset`` (the same configuration). Returns ``{"checked", "problems", "lossless",
    "frame_indices", "frames"}`` (``frame_indices``: frames whose index was read from the
    pixels and matched) and, for formats checked another way, a ``"note"`` saying how."""
    out = Path(out)
    fingerprint = read_fingerprint(out)
    records = read_manifest(out)
    chosen = random.Random(seed).sample(records, min(count, len(records)))
    return get_format(fingerprint["settings"]["format"]).verify(out, dataset, chosen, fingerprint)


def format_verify_report(result: Dict[str, Any]) -> str:
    """One paragraph for the command line: what :func:`verify_export` found."""
    head = f"verify: {result['checked']} segments re-read, {len(result['problems'])} problem(s); "
    if "note" in result:
        head += result["note"]
    elif result["lossless"] and not result["problems"]:
        head += "lossless: frames and audio equal the dataset's"
    else:
        head += (f"{result['frame_indices']} of {result['frames']} frame indices read from the pixels match, "
                 "audio at lag 0 (±2 samples) and level (±1 dB)")
    return "\n".join([head] + [f"  MISMATCH {p}" for p in result["problems"][:20]])
