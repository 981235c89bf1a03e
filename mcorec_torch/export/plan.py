"""What an export writes: its settings and fingerprint, the sessions of a ``--shard i/n``, the
segments of each session in file order, and the manifest record of a segment (all from the
index, nothing decoded)."""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .._io import atomic_write_text
from ..checks import OptionError, check_choice, check_int
from ..data.sample import ACTIVITY_KEYS, ACTIVITY_SPEAKERS
from ..errors import MCoRecDataError, PathLike
from ..timeline import FPS
from .formats import FORMATS, VIDEO_CHOICES, get_format

FINGERPRINT_FILE = "export.json"
PARTS_DIR = "parts"
#: Suffix of a writer's scratch mp4 (removed when read; a killed run's by the next run). Files are
#: written under ``_io.temporary_name`` names (``commit_bytes``); runs of earlier versions wrote
#: them under ``.partial`` names, which the next run removes too.
PARTIAL = ".partial"
#: 2: ``hf`` audio as float32 samples (was ``datasets.Audio`` bytes), ``wds`` shards that mix the
#: sessions (were one session each), the ``seed`` setting. An ``OUT`` of another version is refused.
FINGERPRINT_VERSION = 2
_OWNER = "ExportSettings"


@dataclass(frozen=True)
class ExportSettings:
    """How segments are written. ``format``: one of :data:`~mcorec_torch.export.formats.FORMATS`;
    ``video``: ``"mp4"`` (encoded) or ``"npy"`` (raw uint8 arrays; formats whose ``raw_video`` is
    true: ``wds`` and ``hf``); ``lossless``: x264 qp 0 + float PCM / WAV instead of H.264 +
    AAC / FLAC; ``shard_size``: ``wds`` samples per tar (an int) or megabytes (``"100MB"``);
    ``seed``: the order of the segments across the ``wds`` shards (a seeded permutation of the
    whole split, so each shard mixes sessions and speakers; the same seed gives the same shards)."""

    format: str = "mp4"
    lossless: bool = False
    video: str = "mp4"
    shard_size: str = "1000"
    seed: int = 0

    def __post_init__(self) -> None:
        fmt = get_format(check_choice("format", self.format, FORMATS, owner=_OWNER))
        check_choice("video", self.video, VIDEO_CHOICES, owner=_OWNER)
        if self.video == "npy" and not fmt.raw_video:
            raw = " and ".join(name for name in FORMATS if get_format(name).raw_video)
            raise OptionError("video", f"video must be 'mp4' for the {self.format} format ('npy' is for the {raw} "
                                       f"formats), got {self.video!r}", owner=_OWNER)
        self.shard_limit()
        check_int("seed", self.seed, owner=_OWNER, minimum=0)

    def shard_limit(self) -> Tuple[str, float]:
        """``("samples", n)`` or ``("bytes", n)`` from :attr:`shard_size`."""
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(MB)?\s*", str(self.shard_size), re.I)
        if not match or float(match.group(1)) <= 0 or (not match.group(2) and "." in match.group(1)):
            raise OptionError("shard_size", f"shard_size must be a number of samples (1000) or of megabytes "
                                            f"(100MB), got {self.shard_size!r}", owner=_OWNER)
        return ("bytes", float(match.group(1)) * 1e6) if match.group(2) else ("samples", int(match.group(1)))

    @property
    def audio_suffix(self) -> str:
        return ".wav" if self.lossless else ".flac"


def parse_shard(text: Optional[str]) -> Tuple[int, int]:
    """``"i/n"`` as ``(i, n)`` with ``0 <= i < n``; ``None`` is ``(0, 1)``."""
    if text is None:
        return 0, 1
    match = re.fullmatch(r"(\d+)/(\d+)", str(text).strip())
    if not match or not 0 <= int(match.group(1)) < int(match.group(2)):
        raise OptionError("shard", f"--shard must be i/n with 0 <= i < n, got {text!r}")
    return int(match.group(1)), int(match.group(2))


class ExportPlan:
    """The segments of ``dataset`` grouped by session, each session's in file order (speaker,
    then first frame: every track is read front to back), and the sessions of shard ``i/n``
    (sessions in name order, dealt round-robin: shards never share a session, so never an
    output file)."""

    def __init__(self, dataset: Any, split: str, settings: ExportSettings, shard: Tuple[int, int] = (0, 1)) -> None:
        self.dataset, self.split, self.settings, self.shard = dataset, split, settings, shard
        index = dataset.index
        sessions = dataset.segment_session
        speakers = dataset.segment_speaker
        starts = index.frame_start[[dataset.index_row(i) for i in range(len(dataset))]] if len(dataset) else []
        groups: Dict[str, List[int]] = {}
        for i in np.lexsort((np.asarray(starts), speakers, sessions)) if len(dataset) else []:
            groups.setdefault(index.sessions[int(sessions[i])].name, []).append(int(i))
        #: Every session of the split (all shards), in name order, with its segment numbers.
        self.all_sessions: Dict[str, List[int]] = {name: groups[name] for name in sorted(groups)}
        i, n = shard
        self.sessions: Dict[str, List[int]] = {name: rows for k, (name, rows) in
                                               enumerate(self.all_sessions.items()) if k % n == i}
        #: The who-speaks-when keys the samples hold (``ACTIVITY_KEYS`` order; the ``activity``
        #: option) and each one's numpy dtype; empty without the option.
        self.activity: Dict[str, np.dtype] = {}
        if getattr(dataset, "activity_table", None) is not None and len(dataset):
            info = dataset.segment_info(0)
            self.activity = {key: info[key].numpy().dtype for key in ACTIVITY_KEYS if key in info}
        get_format(settings.format).check_plan(self)

    def fingerprint(self) -> Dict[str, Any]:
        """What identifies the export (the same for every shard of it), as ``export.json``
        holds it (JSON values: a tuple option is a list, so a re-run compares equal)."""
        dataset = self.dataset
        tokenizer = getattr(dataset.tokenizer, "model_path", None) if dataset.tokenizer is not None else None
        fingerprint = {"version": FINGERPRINT_VERSION, "split": self.split,
                       "settings": dataclasses.asdict(self.settings),
                       "options": dataclasses.asdict(dataset.options),
                       "normalizer": getattr(dataset, "normalizer_name", None) or _callable_name(dataset.normalize),
                       "tokenizer": Path(tokenizer).name if tokenizer else None,
                       "sessions": {name: len(rows) for name, rows in self.all_sessions.items()}}
        return json.loads(json.dumps(fingerprint))

    def record(self, i: int) -> Dict[str, Any]:
        """The manifest line of segment ``i`` without its ``paths`` (seconds, frames, ids, and
        with the ``activity`` option ``activity_speakers``: the columns of its activity arrays)."""
        dataset, index = self.dataset, self.dataset.index
        row = dataset.index_row(i)
        speaker = index.speakers[int(index.speaker[row])]
        f0, f1 = int(index.frame_start[row]), int(index.frame_end[row])
        record = {"id": index.segment_id(row), "split": self.split, "session": index.sessions[speaker.session].name,
                  "speaker": speaker.name, "conversation": int(speaker.conversation), "text": dataset.text(i),
                  "frame_start": f0, "frame_end": f1, "frames": f1 - f0, "seconds": (f1 - f0) / FPS,
                  "start": int(index.start_ms[row]) / 1000.0, "end": int(index.end_ms[row]) / 1000.0,
                  "padding": _padding_runs(index.pieces(row), f1 - f0)}
        if dataset.tokenizer is not None:
            record["tokens"] = [int(t) for t in dataset.tokenizer.encode(record["text"])]
        if self.activity:
            record[ACTIVITY_SPEAKERS] = dataset.activity_table.columns(row)
        return record

    def stem(self, record: Dict[str, Any]) -> str:
        """``<split>/<session>/<speaker>/<F0>-<F1>`` (relative to the output folder)."""
        return f"{self.split}/{record['session']}/{record['speaker']}/{record['frame_start']:07d}-{record['frame_end']:07d}"


def _callable_name(fn: Any) -> Optional[str]:
    return None if fn is None else f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def _padding_runs(pieces: List[Tuple[int, int, int, int]], count: int) -> List[List[int]]:
    """``[[first, stop), ...]`` frame runs of a segment that no track covers (``video_mask`` False)."""
    covered = np.zeros(count, dtype=bool)
    for _, offset, _, length in pieces:
        covered[offset: offset + length] = True
    edges = np.flatnonzero(np.diff(np.concatenate([[1], covered.astype(np.int8), [1]])))
    return [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2])]


def mask_from_padding(padding: List[List[int]], count: int) -> np.ndarray:
    """The bool ``video_mask`` ``[count]`` of a record's ``padding`` runs."""
    mask = np.ones(count, dtype=bool)
    for a, b in padding:
        mask[a:b] = False
    return mask


def claim_folder(out: PathLike, fingerprint: Dict[str, Any]) -> bool:
    """Write ``OUT/export.json``, or check that the one there describes the same export;
    ``MCoRecDataError`` naming every setting that differs, with both values in full, when it
    does not. Returns whether this call wrote it (see :func:`release_folder`)."""
    out = Path(out)
    path = out / FINGERPRINT_FILE
    if path.exists():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise MCoRecDataError(path, f"is not valid JSON ({exc}); not an export folder of this library") from exc
        if saved != fingerprint:
            detail = "; ".join(f"{key}: {there} there, {now} now" for key, there, now in differences(saved, fingerprint))
            raise MCoRecDataError(path, f"the folder holds an export of another configuration ({detail}); "
                                        "export into another folder or delete this one")
        return False
    if out.exists() and any(p.name != FINGERPRINT_FILE for p in out.iterdir()):
        raise MCoRecDataError(out, "is not empty and holds no export.json: not an export folder; "
                                   "choose an empty or new folder")
    atomic_write_text(path, json.dumps(fingerprint, indent=1, sort_keys=True) + "\n")
    return True


def differences(saved: Any, now: Any, key: str = "") -> List[Tuple[str, str, str]]:
    """``[(dotted key, value there, value now), ...]`` of every leaf where two fingerprints
    differ (``options.min_duration``, ``sessions.session_03``, ...; a key missing on one side
    is ``(absent)``), values as ``repr``, never shortened."""
    if isinstance(saved, dict) and isinstance(now, dict):
        found: List[Tuple[str, str, str]] = []
        for name in sorted(set(saved) | set(now), key=str):
            inner = f"{key}.{name}" if key else str(name)
            found += differences(saved.get(name, _ABSENT), now.get(name, _ABSENT), inner)
        return found
    if saved == now:
        return []
    return [(key, repr(saved), repr(now))]


class _Absent:
    """A key one fingerprint lacks."""

    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def release_folder(out: PathLike) -> bool:
    """After a run that failed: remove ``OUT/export.json`` when the folder holds no other
    file (nothing was written that it would describe), and the empty folders under ``OUT``, so
    the next run, with any settings, starts as in a new folder. Returns whether it was removed."""
    out = Path(out)
    path = out / FINGERPRINT_FILE
    if not path.exists() or any(p.is_file() and p != path for p in out.rglob("*")):
        return False
    path.unlink()
    for folder in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        folder.rmdir()
    return True


def read_fingerprint(out: PathLike) -> Dict[str, Any]:
    path = Path(out) / FINGERPRINT_FILE
    if not path.exists():
        raise MCoRecDataError(path, "missing: not an export folder (run mcorec-torch export first)")
    return json.loads(path.read_text(encoding="utf-8"))
