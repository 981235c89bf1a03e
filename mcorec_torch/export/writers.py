"""Writing one session of an export (in a worker process): its segments read through the dataset
(``MCoRecDataset.load``, i.e. :class:`~mcorec_torch.data.SegmentReader`) in file order, each
file written under a ``.partial`` name and renamed when complete, and the session's records
(``OUT/parts/<session>.jsonl``, written last: its presence means the session is complete)."""
from __future__ import annotations

import abc
import io
import json
import os
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from .._io import atomic_write_text
from ..errors import MCoRecDataError
from ..corpus.layout import CENTRAL_VIDEO_FILE
from ..timeline import SAMPLE_RATE, frame_to_sample
from . import codec
from .plan import PARTIAL, PARTS_DIR, ExportPlan

Sample = Dict[str, Any]


def partial_name(path: Path) -> Path:
    """``a/b.mp4`` -> ``a/b.partial.mp4`` (the extension kept: encoders pick the format by it)."""
    return path.with_name(path.stem + PARTIAL + path.suffix) if path.suffix else path.with_name(path.name + PARTIAL)


def commit_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_name(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def part_path(out: Path, split: str, session: str) -> Path:
    return out / PARTS_DIR / f"{split}-{session}.jsonl"


def _partial_patterns(split: str, session: str) -> "re.Pattern[str]":
    """The paths (relative to the output folder, ``/``-separated) of the files the writers of
    ``session`` write under ``.partial`` names, and of no other session's: the session name is
    always followed by ``/``, by ``-`` and digits (a shard number, a process id) or by the
    ``.partial`` suffix itself, so ``session_4`` does not match ``session_40``'s files."""
    split_, session_, partial = re.escape(split), re.escape(session), re.escape(PARTIAL)
    return re.compile("|".join((
        rf"{split_}/{session_}/.+",                                   # FilesWriter: <split>/<session>/...
        rf"wds/{split_}-{session_}-\d+{partial}\.tar",                 # TarWriter shards
        rf"hf/parts/{split_}-{session_}{partial}\.arrow",              # ArrowWriter part
        rf"{re.escape(PARTS_DIR)}/{split_}-{session_}-\d+{partial}\.mp4",  # encoded_video's temporary mp4
    )))


def remove_partials(out: Path, plan: ExportPlan) -> int:
    """Delete files a killed run left under ``.partial`` names for the sessions of ``plan``
    (other shards' sessions are left alone, also those whose names start with one of
    ``plan``'s); returns how many."""
    removed = 0
    patterns = [_partial_patterns(plan.split, s) for s in plan.sessions]
    for path in sorted(out.rglob(f"*{PARTIAL}*")):
        if not path.exists() and not path.is_symlink():
            continue  # inside a partial folder removed before
        text = path.relative_to(out).as_posix()
        if any(pattern.fullmatch(text) for pattern in patterns):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
    return removed


class SessionWriter(abc.ABC):
    """Writes the segments of one session in one format; ``write(i, record)`` returns the
    record with its ``paths`` or raises; ``close()`` finishes container files (tars, Arrow)."""

    def __init__(self, plan: ExportPlan, out: Path, session: str) -> None:
        self.plan, self.out, self.session = plan, out, session
        self.settings = plan.settings
        self.reused = 0

    def load(self, i: int) -> Sample:
        return self.plan.dataset.load(i)

    def encoded_video(self, sample: Sample) -> Tuple[str, bytes]:
        """``(extension, bytes)`` of the sample's frames (and audio, for mp4) as stored in a container."""
        video = sample["video"].numpy()
        if self.settings.video == "npy":
            return ".npy", codec.npy_bytes(video)
        tmp = self.out / PARTS_DIR / f"{self.plan.split}-{self.session}-{os.getpid()}{PARTIAL}.mp4"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        try:
            codec.write_segment_mp4(tmp, video, sample["audio"].numpy(), self.settings.lossless)
            return ".mp4", tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)

    def audio_bytes(self, sample: Sample) -> bytes:
        audio = sample["audio"].numpy()
        return codec.wav_bytes(audio) if self.settings.lossless else codec.flac_bytes(audio)

    @abc.abstractmethod
    def write(self, i: int, record: Dict[str, Any]) -> Dict[str, Any]:
        """Write segment ``i`` (its manifest ``record``) and return the record with its ``paths``."""

    def close(self) -> None:
        """Nothing to finish for per-segment files."""


class FilesWriter(SessionWriter):
    """``mp4`` and ``lhotse``: per segment ``<stem>.mp4`` and ``<stem>.txt`` (and, for lhotse,
    the audio as ``<stem>.flac`` or ``.wav``); complete files of an earlier run are kept."""

    def write(self, i: int, record: Dict[str, Any]) -> Dict[str, Any]:
        stem = self.plan.stem(record)
        paths = {"video": stem + ".mp4", "text": stem + ".txt"}
        if self.settings.format == "lhotse":
            paths["audio"] = stem + self.settings.audio_suffix
        record = dict(record, paths=paths)
        if all((self.out / p).exists() for p in paths.values()):
            self.reused += 1
            return record
        sample = self.load(i)
        video_path = self.out / paths["video"]
        video_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = partial_name(video_path)
        codec.write_segment_mp4(tmp, sample["video"].numpy(), sample["audio"].numpy(), self.settings.lossless)
        os.replace(tmp, video_path)
        if "audio" in paths:
            commit_bytes(self.out / paths["audio"], self.audio_bytes(sample))
        commit_bytes(self.out / paths["text"], (record["text"] + "\n").encode("utf-8"))
        return record


class TarWriter(SessionWriter):
    """``wds``: the session's samples in tar shards ``wds/<split>-<session>-<k>.tar`` of at most
    ``shard_size`` samples or megabytes; per sample ``<key>.mp4`` (frames + audio) or
    ``<key>.npy`` (frames) with ``<key>.flac``/``.wav``, ``<key>.txt`` and ``<key>.json`` (the
    record). Keys are segment ids with ``/`` replaced by ``_``. Entries are written with fixed
    metadata (mtime 0, uid 0), so a rerun writes the same bytes."""

    def __init__(self, plan: ExportPlan, out: Path, session: str) -> None:
        super().__init__(plan, out, session)
        self.kind, self.limit = self.settings.shard_limit()
        self.number, self.count, self.size = 0, 0, 0
        self.tar: Optional[tarfile.TarFile] = None
        self.path: Optional[Path] = None

    def _open(self) -> None:
        self.path = self.out / "wds" / f"{self.plan.split}-{self.session}-{self.number:05d}.tar"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tar = tarfile.open(partial_name(self.path), "w", format=tarfile.USTAR_FORMAT)
        self.count, self.size = 0, 0

    def _add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode, info.uname, info.gname = len(data), 0, 0o644, "", ""
        self.tar.addfile(info, io.BytesIO(data))
        self.size += len(data) + 512

    def write(self, i: int, record: Dict[str, Any]) -> Dict[str, Any]:
        sample = self.load(i)
        key = record["id"].replace("/", "_")
        ext, video = self.encoded_video(sample)
        entries = [(key + ext, video), (key + ".txt", record["text"].encode("utf-8"))]
        if ext == ".npy":
            entries.append((key + self.settings.audio_suffix, self.audio_bytes(sample)))
        entries.append((key + ".json", json.dumps(record, sort_keys=True).encode("utf-8")))
        incoming = sum(len(d) + 512 for _, d in entries)
        if self.tar is not None and (self.count >= self.limit if self.kind == "samples"
                                     else self.size + incoming > self.limit):
            self._finish()
            self.number += 1
        if self.tar is None:
            self._open()
        for name, data in entries:
            self._add(name, data)
        self.count += 1
        return dict(record, paths={"shard": self.path.relative_to(self.out).as_posix(), "key": key})

    def _finish(self) -> None:
        if self.tar is not None:
            self.tar.close()
            os.replace(partial_name(self.path), self.path)
            self.tar = None

    def close(self) -> None:
        self._finish()


class ArrowWriter(SessionWriter):
    """``hf``: the session's rows in ``hf/parts/<split>-<session>.arrow`` (Hugging Face
    ``datasets`` Arrow with :func:`~mcorec_torch.export.hf.features`)."""

    def __init__(self, plan: ExportPlan, out: Path, session: str) -> None:
        super().__init__(plan, out, session)
        from .hf import PartWriter

        self.path = out / "hf" / "parts" / f"{plan.split}-{session}.arrow"
        self.rows = PartWriter(partial_name(self.path), self.settings, plan.dataset)

    def write(self, i: int, record: Dict[str, Any]) -> Dict[str, Any]:
        sample = self.load(i)
        # npy mode stores the frames array itself (no .npy bytes); else the encoded mp4
        video = sample["video"].numpy() if self.settings.video == "npy" else self.encoded_video(sample)[1]
        audio = self.audio_bytes(sample)
        self.rows.add(record, video, audio, sample.get("tokens"))
        return dict(record, paths={"arrow": self.path.relative_to(self.out).as_posix()})

    def close(self) -> None:
        self.rows.close()
        os.replace(partial_name(self.path), self.path)


class KaldiWriter(SessionWriter):
    """``kaldi``: no media is written; the record names the source recording the segment's
    audio is cut from (``central_video.mp4``, or the speaker's ``ego_video.mp4`` for
    ``audio="ego"``) with the cut in seconds of that file, and the crop tracks of its frames."""

    def write(self, i: int, record: Dict[str, Any]) -> Dict[str, Any]:
        dataset, index = self.plan.dataset, self.plan.dataset.index
        row = dataset.index_row(i)
        speaker = index.speakers[int(index.speaker[row])]
        session = index.sessions[speaker.session]
        start, stop = frame_to_sample(record["frame_start"]), frame_to_sample(record["frame_end"])  # central timeline
        if dataset.options.audio == "ego":
            path, rec_id, shift = speaker.ego_audio_path, f"{session.name}-{speaker.name}-ego", speaker.ego_audio_offset
        elif session.central_audio_path:
            path, rec_id, shift = session.central_audio_path, session.name, 0
        else:
            raise MCoRecDataError(Path(session.path) / CENTRAL_VIDEO_FILE,
                                  "missing: a kaldi export cuts the audio from the source recording; export this "
                                  "split in another format (mp4, wds, ...) or with --audio ego (train)")
        tracks = [[index.tracks[t].path, track_frame, offset, length] for t, offset, track_frame, length in index.pieces(row)]
        paths = {"recording": str(path), "recording_id": rec_id, "begin": (start - shift) / SAMPLE_RATE,
                 "end": (stop - shift) / SAMPLE_RATE, "video": tracks}
        return dict(record, paths=paths)


WRITERS: Dict[str, Callable[..., SessionWriter]] = {"mp4": FilesWriter, "lhotse": FilesWriter, "wds": TarWriter,
                                                   "hf": ArrowWriter, "kaldi": KaldiWriter}


def export_session(plan: ExportPlan, out: Path, session: str,
                   progress: Optional[Callable[[int], None]] = None) -> Dict[str, Any]:
    """Write session ``session`` of ``plan`` into ``out`` unless its part file exists; returns
    ``{"session", "segments", "reused", "skipped": [[id, reason], ...], "done": bool}``
    (``done``: complete from an earlier run). With ``on_error="raise"`` a segment that fails
    raises ``MCoRecDataError`` naming it; with ``"skip"`` it is listed in ``skipped``."""
    part = part_path(out, plan.split, session)
    rows = plan.sessions[session]
    if part.exists():
        return {"session": session, "segments": len(rows), "reused": len(rows), "skipped": [], "done": True}
    writer = WRITERS[plan.settings.format](plan, out, session)
    lines: List[str] = []
    skipped: List[List[str]] = []
    try:
        for i in rows:
            record = plan.record(i)
            try:
                lines.append(json.dumps(writer.write(i, record), sort_keys=True))
            except Exception as exc:  # noqa: BLE001 - counted, or raised with the segment named
                if plan.dataset.options.on_error != "skip":
                    if isinstance(exc, MCoRecDataError):
                        raise
                    raise MCoRecDataError(record["id"], f"export failed: {type(exc).__name__}: {exc}") from exc
                skipped.append([record["id"], f"{type(exc).__name__}: {exc}"])
            if progress is not None:
                progress(1)
        writer.close()
    finally:
        plan.dataset.close()
    lines += [json.dumps({"skipped": seg, "reason": why}) for seg, why in skipped]
    atomic_write_text(part, "".join(line + "\n" for line in lines))
    return {"session": session, "segments": len(rows), "reused": writer.reused, "skipped": skipped, "done": False}


def read_part(path: Path) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """``(records, skipped)`` of a session's part file."""
    records, skipped = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        (skipped if "skipped" in entry else records).append(entry)
    return records, skipped


def count_frames(records: List[Dict[str, Any]]) -> int:
    return int(np.sum([r["frames"] for r in records])) if records else 0
