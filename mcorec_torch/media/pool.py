"""Per-process pools of open video readers and decoded audio tracks.

Containers are opened lazily, per process: a :class:`MediaPool` notices a fork (new pid)
and starts empty, so no file handle crosses into a DataLoader worker.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..errors import PathLike
from .cache import AudioCache
from .video import VideoReader

#: Media objects a forked child inherited from its parent. They are kept referenced, never
#: freed in the child: freeing FFmpeg contexts whose threads exist only in the parent can
#: block forever (a condition variable destroyed in a process without its waiters).
_INHERITED_FROM_PARENT: list = []


#: Open video readers a pool keeps by default (each holds one open file).
MAX_READERS = 64


class MediaPool:
    """Per-process open video readers (LRU) and decoded audio tracks (LRU + disk cache)."""

    def __init__(self, audio_cache_dir: Optional[PathLike] = None, max_readers: int = MAX_READERS,
                 max_audio_tracks: int = 8) -> None:
        self.audio_cache_dir = Path(audio_cache_dir) if audio_cache_dir is not None else None
        self._audio_cache = AudioCache(self.audio_cache_dir)
        self.max_readers = max_readers
        self.max_audio_tracks = max_audio_tracks
        self._pid = os.getpid()
        self._readers: "OrderedDict[str, VideoReader]" = OrderedDict()
        self._audio: "OrderedDict[Tuple[str, Optional[int]], np.ndarray]" = OrderedDict()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_readers"] = OrderedDict()
        state["_audio"] = OrderedDict()
        return state

    def _check_process(self) -> None:
        if os.getpid() != self._pid:  # forked: the parent's containers are not ours to use
            _INHERITED_FROM_PARENT.append((self._readers, self._audio))
            self._readers = OrderedDict()
            self._audio = OrderedDict()
            self._pid = os.getpid()

    def video(self, path: str) -> VideoReader:
        """An open reader for ``path`` (opened on first use, least recently used closed)."""
        self._check_process()
        reader = self._readers.pop(path, None)
        if reader is None:
            reader = VideoReader(path)
            while len(self._readers) >= self.max_readers:
                _, old = self._readers.popitem(last=False)
                old.close()
        self._readers[path] = reader
        return reader

    def drop_video(self, path: str) -> None:
        """Close and forget the reader of ``path`` (after an error left it in a bad state)."""
        reader = self._readers.pop(path, None)
        if reader is not None:
            reader.close()

    def audio(self, path: str, num_samples: Optional[int]) -> np.ndarray:
        """The decoded audio track of ``path`` (see :func:`decode_audio`), cached."""
        self._check_process()
        key = (path, num_samples)
        signal = self._audio.pop(key, None)
        if signal is None:
            signal = self._audio_cache.load(path, num_samples)
            while len(self._audio) >= self.max_audio_tracks:
                self._audio.popitem(last=False)
        self._audio[key] = signal
        return signal

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
        self._audio.clear()
