"""The ``hf`` format: Hugging Face ``datasets`` Arrow with a declared schema.

Columns: ``id``, ``split``, ``session``, ``speaker``, ``text`` (strings), ``conversation``,
``frame_start``, ``frame_end``, ``frames`` (int32; central frames), ``start``, ``end``,
``seconds`` (float64 seconds), ``video_mask`` (bool per frame), ``video`` (the segment's mp4
as bytes, frames and 16 kHz audio; or with ``video="npy"`` an ``Array4D`` uint8 ``[T, C, H,
W]``), ``audio`` (an ``Audio(sampling_rate=16000)`` of FLAC or, lossless, float WAV bytes)
and ``tokens`` (int64 ids) when a tokenizer is configured. Each session is written as one
Arrow part (``hf/parts``); the merge joins them into ``hf/dataset`` for
``datasets.load_from_disk``. ``datasets`` is imported inside the functions.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from ..timeline import frame_to_sample
from .plan import PARTIAL, ExportSettings, mask_from_padding

_STRINGS = ("id", "split", "session", "speaker", "text")
_INTS = ("conversation", "frame_start", "frame_end", "frames")
_FLOATS = ("start", "end", "seconds")


# The Arrow storage of ``datasets.Audio`` ({bytes, path}). Parts are written with it and the
# merge casts the column to ``Audio``: datasets >= 4 encodes an ``Audio`` value only through
# torchcodec (which needs the system FFmpeg libraries); the cast is Arrow-only.
def _audio_storage() -> Dict[str, Any]:
    from datasets import Value

    return {"bytes": Value("binary"), "path": Value("string")}


def _audio_feature() -> Any:
    from datasets import Audio

    return Audio(sampling_rate=16000)


def features(settings: ExportSettings, channels: int, height: int, width: int, tokens: bool,
             audio_storage: bool = False) -> Any:
    """The ``datasets.Features`` of an ``hf`` export (frame size from the crops); with
    ``audio_storage`` the audio column is Audio's plain storage struct (what parts hold)."""
    from datasets import Array4D, Features, List as HFList, Value

    columns: Dict[str, Any] = {name: Value("string") for name in _STRINGS}
    columns.update({name: Value("int32") for name in _INTS})
    columns.update({name: Value("float64") for name in _FLOATS})
    columns["video_mask"] = HFList(Value("bool"))
    columns["video"] = (Array4D(shape=(None, channels, height, width), dtype="uint8") if settings.video == "npy"
                        else Value("binary"))
    columns["audio"] = _audio_storage() if audio_storage else _audio_feature()
    if tokens:
        columns["tokens"] = HFList(Value("int64"))
    return Features(columns)


def _frame_shape(dataset: Any) -> tuple:
    index = dataset.index
    track = index.tracks[0] if index.tracks else None
    channels = 3 if dataset.options.color == "rgb" else 1
    return (channels, track.height, track.width) if track is not None else (channels, 96, 96)


class PartWriter:
    """Rows of one session into an Arrow file at ``path``."""

    def __init__(self, path: Path, settings: ExportSettings, dataset: Any) -> None:
        from datasets.arrow_writer import ArrowWriter

        path.parent.mkdir(parents=True, exist_ok=True)
        self.features = features(settings, *_frame_shape(dataset), tokens=dataset.tokenizer is not None,
                                 audio_storage=True)
        self.writer = ArrowWriter(features=self.features, path=os.fspath(path))

    def add(self, record: Dict[str, Any], video: Any, audio: bytes, tokens: Optional[Any]) -> None:
        row: Dict[str, Any] = {name: record[name] for name in _STRINGS + _INTS + _FLOATS}
        row["video_mask"] = mask_from_padding(record["padding"], record["frames"]).tolist()
        row["video"] = video
        row["audio"] = {"bytes": audio, "path": None}
        if "tokens" in self.features:
            row["tokens"] = [int(t) for t in tokens]
        self.writer.write(self.features.encode_example(row))

    def close(self) -> None:
        self.writer.finalize()
        self.writer.close()


def join_parts(parts: List[Path], target: Path) -> None:
    """``datasets.concatenate_datasets`` of the session parts, saved to ``target``
    (``save_to_disk`` under a ``.partial`` name, then renamed)."""
    from datasets import Dataset, concatenate_datasets
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    joined = concatenate_datasets([Dataset.from_file(os.fspath(p)) for p in parts])
    joined = joined.cast_column("audio", _audio_feature())
    tmp = target.with_name(target.name + PARTIAL)
    shutil.rmtree(tmp, ignore_errors=True)
    joined.save_to_disk(os.fspath(tmp))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def row_sample(row: Dict[str, Any], color: str) -> Dict[str, Any]:
    """A row of the saved dataset (``Audio(decode=False)``, python format) as the SPEC §4
    sample dict of numpy arrays."""
    from . import codec

    frames = int(row["frames"])
    if isinstance(row["video"], (bytes, bytearray)):
        video, _ = codec.read_segment_mp4(bytes(row["video"]), color, frames, name=row["id"])
    else:
        video = np.asarray(row["video"], dtype=np.uint8)
    sample = {key: row[key] for key in _STRINGS + _INTS + _FLOATS}
    sample["video"] = video
    sample["video_mask"] = np.asarray(row["video_mask"], dtype=bool)
    sample["audio"] = codec.read_audio_file(row["audio"]["bytes"], frame_to_sample(frames))
    if "tokens" in row:
        sample["tokens"] = np.asarray(row["tokens"], dtype=np.int64)
    return sample
