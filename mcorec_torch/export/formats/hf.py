"""The ``hf`` format: Hugging Face ``datasets`` Arrow with a declared schema, which
``datasets.load_from_disk(OUT/hf/dataset)[0]`` reads in the library's own install: no column
needs a decoder ``datasets`` lacks (its ``Audio`` and ``Video`` features decode only through
torchcodec, which is not a dependency).

Columns: ``id``, ``split``, ``session``, ``speaker``, ``text``, ``color`` (strings),
``conversation``, ``frame_start``, ``frame_end``, ``frames`` (int32; central frames), ``start``,
``end``, ``seconds`` (float64 seconds), ``video_mask`` (bool per frame), ``audio`` (float32
samples at 16 kHz, ``640 * frames`` of them: the dataset's audio exactly), ``video`` (the
segment's mp4 as bytes, frames and audio, decoded by :func:`row_sample`; or with
``video="npy"`` an ``Array4D`` uint8 ``[T, C, H, W]``), ``tokens`` (int64 ids) when a
tokenizer is configured, and with the ``activity`` option ``activity`` (bool ``[T][S]``),
``stno`` (float32 ``[T][4]``), ``activity_scores`` (float32 ``[T][S]``, ``activity="asd"``)
and ``activity_speakers`` (the ``S`` columns' names). Each session is written as one Arrow part (``hf/parts``); the merge
joins them into ``hf/dataset``. ``datasets`` is imported inside the functions.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch

from ..._io import atomic_path
from ...corpus.layout import CROP_SIZES
from ...data.sample import ACTIVITY_KEYS, ACTIVITY_SPEAKERS
from ...errors import MCoRecDataError
from ...media.color import channels_of
from ...timeline import SAMPLE_RATE, frame_to_sample
from .. import codec
from ..plan import ExportPlan, ExportSettings, mask_from_padding
from .base import ExportFormat, PendingFile, Record, Sample, SessionWriter, leftover_target

_STRINGS = ("id", "split", "session", "speaker", "text")
_INTS = ("conversation", "frame_start", "frame_end", "frames")
_FLOATS = ("start", "end", "seconds")
#: What ``hf/dataset``'s ``info.description`` says (``datasets`` shows it with the dataset's info).
DESCRIPTION = ("MCoRec segments exported by mcorec_torch (SPEC §7). audio: float32 samples at "
               f"{SAMPLE_RATE} Hz; video: the segment's mp4 bytes (frames and audio) or uint8 [T, C, H, W] "
               "frames; video_mask: False on padding frames (25 fps). "
               "mcorec_torch.export.row_sample(row) gives a row as a sample dict of tensors.")


def features(settings: ExportSettings, channels: int, height: int, width: int, tokens: bool,
             activity: Optional[Dict[str, np.dtype]] = None) -> Any:
    """The ``datasets.Features`` of an ``hf`` export (frame size from the crops); ``activity``:
    the who-speaks-when keys and dtypes (``ExportPlan.activity``), each a ``List(List(dtype))``
    column ``[T][S]`` (``[T][4]`` for ``stno``), with ``activity_speakers``."""
    from datasets import Array4D, Features, List as HFList, Value

    columns: Dict[str, Any] = {name: Value("string") for name in _STRINGS + ("color",)}
    columns.update({name: Value("int32") for name in _INTS})
    columns.update({name: Value("float64") for name in _FLOATS})
    columns["video_mask"] = HFList(Value("bool"))
    columns["video"] = (Array4D(shape=(None, channels, height, width), dtype="uint8") if settings.video == "npy"
                        else Value("binary"))
    columns["audio"] = HFList(Value("float32"))
    if tokens:
        columns["tokens"] = HFList(Value("int64"))
    for key, dtype in (activity or {}).items():
        columns[key] = HFList(HFList(Value(np.dtype(dtype).name)))
    if activity:
        columns[ACTIVITY_SPEAKERS] = HFList(Value("string"))
    return Features(columns)


def _frame_shape(dataset: Any) -> tuple:
    """``(channels, height, width)`` of the dataset's frames (the crop size of the release without
    a track)."""
    index = dataset.index
    track = index.tracks[0] if index.tracks else None
    channels = channels_of(dataset.options.color)
    height, width = (track.height, track.width) if track is not None else CROP_SIZES[dataset.options.crops]
    return channels, height, width


class PartWriter:
    """Rows of one session into an Arrow file at ``path``."""

    def __init__(self, path: Path, plan: ExportPlan) -> None:
        from datasets.arrow_writer import ArrowWriter

        path.parent.mkdir(parents=True, exist_ok=True)
        dataset = plan.dataset
        self.color = dataset.options.color
        self.features = features(plan.settings, *_frame_shape(dataset), tokens=dataset.tokenizer is not None,
                                 activity=plan.activity)
        self.writer = ArrowWriter(features=self.features, path=os.fspath(path))

    def add(self, record: Dict[str, Any], video: Any, audio: np.ndarray, tokens: Optional[Any],
            activity: Dict[str, np.ndarray]) -> None:
        """One row: ``video`` mp4 bytes or a uint8 ``[T, C, H, W]`` array, ``audio`` float32
        samples at 16 kHz, ``activity`` the who-speaks-when arrays by key."""
        row: Dict[str, Any] = {name: record[name] for name in _STRINGS + _INTS + _FLOATS}
        row["color"] = self.color
        row["video_mask"] = mask_from_padding(record["padding"], record["frames"]).tolist()
        row["video"] = video
        row["audio"] = np.ascontiguousarray(audio, dtype=np.float32)
        if "tokens" in self.features:
            row["tokens"] = [int(t) for t in tokens]
        row.update(activity)
        if ACTIVITY_SPEAKERS in self.features:
            row[ACTIVITY_SPEAKERS] = list(record[ACTIVITY_SPEAKERS])
        self.writer.write(self.features.encode_example(row))

    def close(self) -> None:
        self.writer.finalize()
        self.writer.close()


def join_parts(parts: List[Path], target: Path) -> None:
    """``datasets.concatenate_datasets`` of the session parts, saved to ``target`` (a folder,
    ``save_to_disk`` under a temporary name, then renamed; removed when saving fails; what a
    killed merge left under such a name is removed first)."""
    from datasets import Dataset, concatenate_datasets
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    joined = concatenate_datasets([Dataset.from_file(os.fspath(p)) for p in parts])
    joined.info.description = DESCRIPTION
    if target.parent.is_dir():
        for stale in target.parent.iterdir():
            if leftover_target(stale.name) == target.name:
                shutil.rmtree(stale, ignore_errors=True)
    with atomic_path(target) as tmp:
        joined.save_to_disk(os.fspath(tmp))


def row_sample(row: Dict[str, Any], color: Optional[str] = None) -> Dict[str, Any]:
    """A row of ``hf/dataset`` (``datasets.load_from_disk(...)[i]``, in the python, numpy or
    torch format) as the SPEC §4 sample dict of tensors: ``video`` uint8 ``[T, C, H, W]`` (an
    mp4 decoded in ``color``, default the row's own), ``video_mask`` bool ``[T]`` (padding
    frames zero), ``audio`` float32 ``[640 * T]`` at 16 kHz, ``tokens`` int64 and the
    who-speaks-when keys (``activity`` bool, ``stno`` and ``activity_scores`` float32,
    ``activity_speakers``) when the row has them, and the row's ids, frames and seconds."""
    frames = int(row["frames"])
    mask = _array(row["video_mask"], bool)
    if isinstance(row["video"], (bytes, bytearray)):
        video, _ = codec.read_segment_mp4(bytes(row["video"]), color or str(row["color"]), frames, name=str(row["id"]))
    else:
        video = _array(row["video"], np.uint8)
    video[~mask] = 0
    sample: Dict[str, Any] = {key: _plain(row[key]) for key in _STRINGS + _INTS + _FLOATS}
    sample["video"] = torch.from_numpy(video)
    sample["video_mask"] = torch.from_numpy(mask)
    sample["audio"] = torch.from_numpy(_array(row["audio"], np.float32))
    if sample["audio"].shape[0] != frame_to_sample(frames):
        raise MCoRecDataError(str(row["id"]), f"holds {sample['audio'].shape[0]} audio samples for {frames} frames "
                                              f"(an hf export has {frame_to_sample(1)} a frame)")
    if "tokens" in row:
        sample["tokens"] = torch.from_numpy(_array(row["tokens"], np.int64))
    for key in ACTIVITY_KEYS:
        if key in row:
            array = _array(row[key], None)
            sample[key] = torch.from_numpy(array if array.dtype == bool else array.astype(np.float32))
    if ACTIVITY_SPEAKERS in row:
        sample[ACTIVITY_SPEAKERS] = [str(name) for name in row[ACTIVITY_SPEAKERS]]
    return sample


def _array(value: Any, dtype: Any) -> np.ndarray:
    """A writable numpy copy of a row's list, array or tensor value, in ``dtype`` (``None``: its own)."""
    return np.array(value.numpy() if isinstance(value, torch.Tensor) else value, dtype=dtype)


def _plain(value: Any) -> Any:
    """The python ``str``/``int``/``float`` of a row value in any format (numpy scalars and
    0-d tensors have ``item()``)."""
    return value.item() if hasattr(value, "item") else value


class ArrowWriter(SessionWriter):
    """The session's rows in ``hf/parts/<split>-<session>.arrow`` (Hugging Face ``datasets``
    Arrow with :func:`features`), written under a temporary name and renamed when complete."""

    def __init__(self, plan: ExportPlan, out: Path, session: str) -> None:
        super().__init__(plan, out, session)
        self.path = out / "hf" / "parts" / f"{plan.split}-{session}.arrow"
        self.pending = PendingFile(self.path)
        try:
            self.rows = PartWriter(self.pending.tmp, plan)
        except BaseException:
            self.pending.discard()
            raise

    def write(self, i: int, record: Record) -> Record:
        sample = self.load(i)
        # npy mode stores the frames array itself (no .npy bytes); else the encoded mp4
        video = sample["video"].numpy() if self.settings.video == "npy" else self.mp4_bytes(sample)
        activity = {key: sample[key].numpy() for key in self.plan.activity}
        self.rows.add(record, video, sample["audio"].numpy(), sample.get("tokens"), activity)
        return dict(record, paths={"arrow": self.path.relative_to(self.out).as_posix()})

    def close(self) -> None:
        self.rows.close()
        self.pending.commit()

    def abort(self) -> None:
        """Drop the part (its temporary file is removed); an error closing it (the failure being
        handled may be this file's own) does not hide the one being raised."""
        with contextlib.suppress(Exception):
            self.rows.close()
        self.pending.discard()


class HfFormat(ExportFormat):
    """One Arrow part per session, joined into ``hf/dataset`` by the merge."""

    name = "hf"
    raw_video = True
    writer = ArrowWriter
    session_pattern = r"hf/parts/{split}-{session}\.arrow"

    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        arrows = sorted({out / r["paths"]["arrow"] for r in records}, key=lambda p: p.name)
        if arrows:
            join_parts(arrows, out / "hf" / "dataset")

    def read(self, out: Path, records: List[Record], color: str) -> Iterator[Sample]:
        import datasets

        table = datasets.load_from_disk(str(out / "hf" / "dataset"))
        ids = {r["id"] for r in records}
        for row in table.filter(lambda batch: [i in ids for i in batch["id"]], batched=True):
            yield row_sample(row, color)


FORMAT = HfFormat()
