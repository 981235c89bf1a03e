"""Container headers and settled frame counts, remembered in ``<cache_dir>/headers.json``.

Entries are keyed on the file's absolute path and valid while its size and modification time
(and :data:`HEADER_VERSION`) are unchanged.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Dict, Optional

from .._io import atomic_write_text, file_stamp
from ..errors import MCoRecDataError, PathLike
from .probe import MediaHeader, presented_frames, read_header

#: Bump when :class:`MediaHeader` or the counting rule changes (older cache entries are re-read).
HEADER_VERSION = 3  # 3: MediaHeader.frame_rate


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

    def _entry(self, path: PathLike) -> dict:
        path = os.path.abspath(os.fspath(path))
        try:
            stamp = list(file_stamp(path))
        except FileNotFoundError:
            raise MCoRecDataError(path, "media file does not exist") from None
        entry = self._entries.get(path)
        if entry is None or entry.get("stamp") != stamp or entry.get("version") != HEADER_VERSION:
            entry = {"stamp": stamp, "version": HEADER_VERSION}
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
        """Presented video frames of ``path`` (:func:`presented_frames`): the header's count
        where it is shown to be that, else decoded and counted once and remembered.
        ``expected``: the track json's count (``frame_end - frame_start``), cross-checked."""
        entry = self._entry(path)
        if "presented_frames" in entry:
            return int(entry["presented_frames"])
        header = self.header(path)
        if header.frames_shown(expected, tolerance):
            return header.num_frames
        entry["presented_frames"] = presented_frames(path, header, expected, tolerance)
        self._dirty = True
        return int(entry["presented_frames"])

    def save(self) -> None:
        """Write the cache file if anything changed (atomically)."""
        if self.cache_file is None or not self._dirty:
            return
        try:
            atomic_write_text(self.cache_file, json.dumps(self._entries))
            self._dirty = False
        except OSError:
            pass  # a read-only cache location only costs speed on the next start
