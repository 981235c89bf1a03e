"""Reading an export back into SPEC §4 sample dicts: :func:`read_export` (any format that holds
media, through its :meth:`~mcorec_torch.export.formats.base.ExportFormat.read`) and
:func:`to_sample`, what every format's reader returns. Video is uint8 ``[T, C, H, W]``, audio
float32 ``[SAMPLES_PER_FRAME * T]`` at 16 kHz; padding frames (``video_mask`` False) are zero;
with the ``activity`` option the sample's ``ACTIVITY_KEYS`` arrays and ``activity_speakers``.
The formats' own readers: ``formats.mp4.read_files_record`` (``mp4``, ``lhotse``),
``formats.wds`` (``iter_wds``, ``WdsDataset``, ...), ``formats.hf.row_sample``."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch

from ..data.sample import ACTIVITY_SPEAKERS
from ..errors import PathLike
from .formats import get_format
from .merge import read_manifest
from .plan import mask_from_padding, read_fingerprint

_KEYS = ("id", "session", "speaker", "conversation", "text", "start", "end", "frame_start", "frame_end")


def to_sample(record: Dict[str, Any], video: np.ndarray, audio: np.ndarray,
              activity: Optional[Dict[str, np.ndarray]] = None) -> Dict[str, Any]:
    """The SPEC §4 sample dict (torch tensors) of a manifest record and its decoded media, with
    the who-speaks-when arrays ``activity`` (``{key: array}`` of ``ACTIVITY_KEYS``) and the
    record's ``activity_speakers`` when it has them."""
    mask = mask_from_padding(record["padding"], record["frames"])
    video = np.array(video, dtype=np.uint8)
    video[~mask] = 0
    sample: Dict[str, Any] = {key: record[key] for key in _KEYS}
    sample["video"] = torch.from_numpy(video)
    sample["video_mask"] = torch.from_numpy(mask)
    sample["audio"] = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    if "tokens" in record:
        sample["tokens"] = torch.as_tensor(record["tokens"], dtype=torch.int64)
    for key, array in (activity or {}).items():
        sample[key] = torch.from_numpy(np.ascontiguousarray(array))
    if ACTIVITY_SPEAKERS in record:
        sample[ACTIVITY_SPEAKERS] = list(record[ACTIVITY_SPEAKERS])
    return sample


def read_export(out: PathLike, records: Optional[List[Dict[str, Any]]] = None,
                color: Optional[str] = None) -> Iterator[Dict[str, Any]]:
    """The samples of the finished export in ``out`` (every record of its manifest, or
    ``records``), read back from its files by its format, in ``color`` (default: as exported).
    ``MCoRecDataError`` for a format without media (``kaldi``) or an unfinished export."""
    out = Path(out)
    fingerprint = read_fingerprint(out)
    records = read_manifest(out) if records is None else records
    fmt = get_format(fingerprint["settings"]["format"])
    return fmt.read(out, records, color or fingerprint["options"]["color"])
