"""Container headers (frame counts, sizes, audio) read without decoding, with a disk cache.

The index (SPEC §3) takes frame counts from the containers, not from ``frame_end``. Headers
are read once per file and remembered in ``<cache_dir>/headers.json`` keyed on the file's
size and modification time; a count settled by demuxing is remembered the same way.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional

import av

from .errors import MCoRecDataError, PathLike
from .timeline import SAMPLE_RATE


@dataclass(frozen=True)
class MediaHeader:
    """What a container's stream headers say.

    ``num_frames``: video frames per the header (0 when the header does not say);
    ``width``/``height``: pixels; ``audio_rate``: Hz (0 without audio);
    ``audio_samples``: audio duration in samples at ``audio_rate`` (0 when unknown).
    """

    num_frames: int
    width: int
    height: int
    has_video: bool
    audio_rate: int
    audio_samples: int

    @property
    def has_audio(self) -> bool:
        return self.audio_rate > 0


def open_container(path: PathLike) -> "av.container.InputContainer":
    """``av.open`` for reading, turning every failure into :class:`MCoRecDataError`."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MCoRecDataError(path, "media file does not exist")
    try:
        return av.open(path, mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MCoRecDataError(path, f"not a readable media container (truncated or corrupt?): {exc}") from None


def read_header(path: PathLike) -> MediaHeader:
    """Read the stream headers of one mp4 (no decoding)."""
    with open_container(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_samples = 0
        if audio is not None and audio.duration and audio.time_base:
            audio_samples = int(round(float(audio.duration * audio.time_base) * (audio.sample_rate or SAMPLE_RATE)))
        return MediaHeader(
            num_frames=int(video.frames or 0) if video is not None else 0,
            width=int(video.codec_context.width) if video is not None else 0,
            height=int(video.codec_context.height) if video is not None else 0,
            has_video=video is not None,
            audio_rate=int(audio.sample_rate or 0) if audio is not None else 0,
            audio_samples=audio_samples,
        )


def count_video_packets(path: PathLike) -> int:
    """Number of video frames in a container, by demuxing its packets (no decoding)."""
    with open_container(path) as container:
        if not container.streams.video:
            raise MCoRecDataError(path, "container has no video stream")
        stream = container.streams.video[0]
        count = 0
        try:
            for packet in container.demux(stream):
                if packet.size:
                    count += 1
        except av.error.FFmpegError as exc:
            raise MCoRecDataError(path, f"container is truncated or corrupt: {exc}") from None
        return count


class HeaderCache:
    """Headers and settled frame counts of media files, persisted as JSON.

    Keys are absolute paths; an entry is valid while the file's size and mtime are unchanged.
    Safe to use from one process at a time for writing (the index builder); readers in other
    processes only read the saved file.
    """

    def __init__(self, cache_file: Optional[PathLike]) -> None:
        self.cache_file = Path(cache_file) if cache_file is not None else None
        self._entries: Dict[str, dict] = {}
        self._dirty = False
        if self.cache_file is not None and self.cache_file.is_file():
            try:
                self._entries = json.loads(self.cache_file.read_text())
            except (OSError, ValueError):
                self._entries = {}

    @staticmethod
    def _stamp(path: str) -> list:
        stat = os.stat(path)
        return [stat.st_size, stat.st_mtime_ns]

    def _entry(self, path: PathLike) -> dict:
        path = os.path.abspath(os.fspath(path))
        try:
            stamp = self._stamp(path)
        except FileNotFoundError:
            raise MCoRecDataError(path, "media file does not exist") from None
        entry = self._entries.get(path)
        if entry is None or entry.get("stamp") != stamp:
            entry = {"stamp": stamp}
            self._entries[path] = entry
            self._dirty = True
        return entry

    def header(self, path: PathLike) -> MediaHeader:
        """The header of ``path``, read once and then remembered."""
        entry = self._entry(path)
        if "header" not in entry:
            entry["header"] = asdict(read_header(path))
            self._dirty = True
        return MediaHeader(**entry["header"])

    def frame_count(self, path: PathLike, expected: Optional[int] = None, tolerance: int = 1) -> int:
        """Video frames in ``path``: the header's count, settled by demuxing when the header
        has none or it differs from ``expected`` by more than ``tolerance`` frames."""
        entry = self._entry(path)
        if "counted_frames" in entry:
            return int(entry["counted_frames"])
        header_frames = self.header(path).num_frames
        if header_frames > 0 and (expected is None or abs(header_frames - expected) <= tolerance):
            return header_frames
        entry["counted_frames"] = count_video_packets(path)
        self._dirty = True
        return int(entry["counted_frames"])

    def save(self) -> None:
        """Write the cache file if anything changed (atomically)."""
        if self.cache_file is None or not self._dirty:
            return
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(self._entries))
            os.replace(tmp, self.cache_file)
            self._dirty = False
        except OSError:
            pass  # a read-only cache location only costs speed on the next start
