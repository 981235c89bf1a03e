"""The ``lhotse`` format: the ``mp4`` format's per-segment files plus the audio as ``<stem>.flac``
(lossless: ``.wav``), and ``OUT/lhotse/{recordings,supervisions,cuts}.jsonl.gz`` over them; with
the ``activity`` option each cut's who-speaks-when arrays are ``TemporalArray`` custom fields
(``cut.load_activity()``, ``cut.load_stno()``) over the ``<stem>.<key>.npy`` files."""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from ..._io import atomic_write_bytes, jsonl_text
from ...data.sample import ACTIVITY_KEYS, ACTIVITY_SPEAKERS
from ...timeline import FPS, SAMPLE_RATE, frame_to_sample
from .base import Record
from .mp4 import FilesWriter, Mp4Format


class AudioFilesWriter(FilesWriter):
    """:class:`~.mp4.FilesWriter` with the audio in its own file."""

    audio_file = True


def _gz_jsonl(path: Path, entries: List[Dict[str, Any]]) -> None:
    atomic_write_bytes(path, gzip.compress(jsonl_text(entries).encode("utf-8"), mtime=0))


def _temporal_array(out: Path, relative: str) -> Dict[str, Any]:
    """A lhotse ``TemporalArray`` manifest of the ``.npy`` file ``out/relative`` (an array of one
    row per video frame: ``frame_shift`` 1/25 s from the cut's start), read by ``cut.load_<key>()``."""
    shape = [int(n) for n in np.load(out / relative, mmap_mode="r", allow_pickle=False).shape]
    array = {"storage_type": "numpy_files", "storage_path": str(out.resolve()), "storage_key": relative,
             "shape": shape}
    return {"array": array, "temporal_dim": 0, "frame_shift": 1 / FPS, "start": 0.0}


def _entries(out: Path, r: Record) -> Dict[str, Dict[str, Any]]:
    """The recording, supervision and cut of one record (durations in seconds); with the
    ``activity`` option the cut's ``custom`` holds each who-speaks-when array as a
    ``TemporalArray`` and ``activity_speakers``."""
    samples = frame_to_sample(r["frames"])
    recording = {"id": r["id"], "sources": [{"type": "file", "channels": [0],
                                             "source": str((out / r["paths"]["audio"]).resolve())}],
                 "sampling_rate": SAMPLE_RATE, "num_samples": samples, "duration": samples / SAMPLE_RATE,
                 "channel_ids": [0]}
    custom = {"session": r["session"], "conversation": r["conversation"], "frame_start": r["frame_start"],
              "frame_end": r["frame_end"], "cue_start": r["start"], "cue_end": r["end"],
              "video": str((out / r["paths"]["video"]).resolve()), "padding": r["padding"]}
    cut_custom: Dict[str, Any] = {"video": custom["video"]}
    if ACTIVITY_SPEAKERS in r:
        cut_custom[ACTIVITY_SPEAKERS] = list(r[ACTIVITY_SPEAKERS])
    cut_custom.update({key: _temporal_array(out, r["paths"][key]) for key in ACTIVITY_KEYS if key in r["paths"]})
    supervision = {"id": r["id"], "recording_id": r["id"], "start": 0.0, "duration": r["frames"] / FPS,
                   "channel": 0, "text": r["text"], "speaker": f"{r['session']}/{r['speaker']}",
                   "custom": custom}
    cut = {"id": r["id"], "start": 0.0, "duration": r["frames"] / FPS, "channel": 0,
           "supervisions": [supervision], "recording": recording, "custom": cut_custom,
           "type": "MonoCut"}
    return {"recordings": recording, "supervisions": supervision, "cuts": cut}


class LhotseFormat(Mp4Format):
    """``lhotse/{recordings,supervisions,cuts}.jsonl.gz``: one recording per segment over its
    exported audio file (absolute path), one supervision covering it, one ``MonoCut`` with the
    mp4 path and the segment's frames in ``custom``."""

    name = "lhotse"
    writer = AudioFilesWriter

    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        entries = [_entries(out, r) for r in records]
        for kind in ("recordings", "supervisions", "cuts"):
            _gz_jsonl(out / "lhotse" / f"{kind}.jsonl.gz", [e[kind] for e in entries])


FORMAT = LhotseFormat()
