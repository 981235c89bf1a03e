"""The ``mp4`` format: per segment ``<split>/<session>/<speaker>/<F0>-<F1>.mp4`` (frames and
16 kHz audio) and ``.txt`` (the text, one line), with the ``activity`` option
``.activity.npy``, ``.stno.npy`` (and ``.activity_scores.npy``), and ``OUT/<split>.csv``,
auto_avsr's label list. :class:`FilesWriter` and :func:`read_files_record` serve ``lhotse`` too."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List

import numpy as np

from ..._io import atomic_write_text
from ...data.sample import ACTIVITY_KEYS
from ...errors import MCoRecDataError, PathLike
from ...timeline import frame_to_sample
from .. import codec
from ..read import to_sample
from .base import ExportFormat, Record, Sample, SessionWriter, commit_bytes, commit_file


class FilesWriter(SessionWriter):
    """Per segment ``<stem>.mp4`` and ``<stem>.txt`` (and, with :attr:`audio_file`, the audio as
    ``<stem>.flac`` or ``.wav``; with the ``activity`` option ``<stem>.<key>.npy`` of each of
    the sample's ``ACTIVITY_KEYS``); complete files of an earlier run are kept."""

    #: Whether the audio is written beside the mp4 as its own file.
    audio_file = False

    def write(self, i: int, record: Record) -> Record:
        stem = self.plan.stem(record)
        paths = {"video": stem + ".mp4", "text": stem + ".txt"}
        if self.audio_file:
            paths["audio"] = stem + self.settings.audio_suffix
        paths.update({key: f"{stem}.{key}.npy" for key in self.plan.activity})
        record = dict(record, paths=paths)
        if all((self.out / p).exists() for p in paths.values()):
            self.reused += 1
            return record
        sample = self.load(i)
        commit_file(self.out / paths["video"], lambda tmp: codec.write_segment_mp4(
            tmp, sample["video"].numpy(), sample["audio"].numpy(), self.settings.lossless))
        if "audio" in paths:
            commit_bytes(self.out / paths["audio"], self.audio_bytes(sample))
        for key, data in self.activity_files(sample).items():
            commit_bytes(self.out / paths[key], data)
        commit_bytes(self.out / paths["text"], (record["text"] + "\n").encode("utf-8"))
        return record


def read_files_record(out: PathLike, record: Record, color: str) -> Dict[str, Any]:
    """The sample of an ``mp4`` or ``lhotse`` export's record (the mp4's frames; the audio
    file's samples when the record has one, else the mp4's; the ``.npy`` files of its
    who-speaks-when keys)."""
    out = Path(out)
    path = out / record["paths"]["video"]
    if not path.exists():
        raise MCoRecDataError(path, f"missing: the manifest lists it for segment {record['id']}")
    video, audio = codec.read_segment_mp4(path, color, record["frames"], name=str(path))
    if "audio" in record["paths"]:
        audio = codec.read_audio_file(out / record["paths"]["audio"], frame_to_sample(record["frames"]))
    activity = {key: np.load(out / record["paths"][key], allow_pickle=False)
                for key in ACTIVITY_KEYS if key in record["paths"]}
    return to_sample(record, video, audio, activity)


def auto_avsr_csv(out: Path, split: str, records: List[Record]) -> None:
    """``OUT/<split>.csv``, auto_avsr's label list without a header: ``dataset,rel_path,
    input_length[,token_ids]`` (``input_length`` in video frames, token ids space-separated)."""
    rows = []
    for r in records:
        row = [split, r["paths"]["video"], str(r["frames"])]
        if "tokens" in r:
            row.append(" ".join(str(t) for t in r["tokens"]))
        rows.append(",".join(row) + "\n")
    atomic_write_text(out / f"{split}.csv", "".join(rows))


class Mp4Format(ExportFormat):
    """Per-segment mp4 and text files and the auto_avsr CSV."""

    name = "mp4"
    writer = FilesWriter
    session_pattern = r"{split}/{session}/.+"  # <split>/<session>/<speaker>/<F0>-<F1>.*

    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        auto_avsr_csv(out, split, records)

    def read(self, out: Path, records: List[Record], color: str) -> Iterator[Sample]:
        for record in records:
            yield read_files_record(out, record, color)


FORMAT = Mp4Format()
