"""Decoded video tracks cached on disk as memory-mappable ``.npy`` arrays (opt-in).

Each crop track is decoded once, sequentially, into a uint8 ``[N, C, H, W]`` array (C = 3
rgb, 1 gray; frame ``j`` is the ``j``-th presented frame, exactly what
:meth:`~mcorec_torch.media.VideoReader.read` returns, since it is built by that reader).
Segments are then read by slicing; every DataLoader worker memory-maps the same file, so the
pages are shared. An entry is keyed on the source's absolute path, size and modification
time, the color and :data:`FRAME_CACHE_VERSION`: a changed file has another key and is
decoded again, never served from the old entry (which is deleted when the new one is
written). Entries are written to a temporary file and renamed, so readers in other processes
see no entry or a whole one; two processes building the same entry both end with a valid file.
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Optional, Tuple

import numpy as np

from .. import _io
from ..errors import MCoRecDataError, PathLike
from .color import channels_of
from .probe import count_presented_frames, read_header
from .video import VideoReader

#: Bump when what an entry holds changes (the conversion, the layout): old entries are then ignored.
FRAME_CACHE_VERSION = 1

#: Frames decoded per :meth:`VideoReader.read` call while building an entry.
BUILD_CHUNK_FRAMES = 250


def estimate_bytes(paths_and_frames: Iterable[Tuple[str, Optional[int]]], color: str) -> int:
    """Disk bytes the entries of ``(path, frames)`` pairs take in ``color``: ``N * C * H * W``
    per track (``H``, ``W`` from the container header; ``N`` the given count, else the
    header's), plus the 128-byte ``.npy`` header each."""
    channels = channels_of(color)
    total = 0
    for path, frames in paths_and_frames:
        header = read_header(path)
        count = frames if frames is not None else header.num_frames
        total += int(count) * channels * header.height * header.width + 128
    return total


class FrameCache:
    """Whole decoded tracks under ``folder``, memory-mapped read-only.

    The object is cheap to pickle into DataLoader workers (the per-process table of open
    maps is not carried); each process maps entries on first use and builds missing ones.
    """

    def __init__(self, folder: PathLike, max_open: int = 256) -> None:
        self.folder = Path(folder)
        self.max_open = max_open
        self._open: "OrderedDict[Tuple[str, str], Tuple[Tuple[int, int], np.ndarray]]" = OrderedDict()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_open"] = OrderedDict()
        return state

    @staticmethod
    def _source_prefix(path: str, color: str) -> str:
        return hashlib.sha1(f"{os.path.abspath(path)}|{color}".encode()).hexdigest()[:16]

    def entry(self, path: PathLike, color: str, stamp: Optional[Tuple[int, int]] = None) -> Path:
        """The cache file of ``path`` decoded in ``color`` as the file is now (its size and
        mtime; ``stamp`` when already known): ``<folder>/<source sha1[:16]>-<key sha1>.npy``.
        Raises ``FileNotFoundError`` when ``path`` does not exist."""
        path = os.fspath(path)
        channels_of(color)
        size, mtime_ns = stamp if stamp is not None else _io.file_stamp(path)
        key = f"v{FRAME_CACHE_VERSION}|{os.path.abspath(path)}|{size}|{mtime_ns}|{color}"
        return self.folder / f"{self._source_prefix(path, color)}-{hashlib.sha1(key.encode()).hexdigest()}.npy"

    def is_cached(self, path: PathLike, color: str) -> bool:
        """Whether the entry of ``path`` as it is now exists (nothing is decoded)."""
        return self.entry(path, color).is_file()

    def frames(self, path: PathLike, color: str, expected_frames: Optional[int] = None) -> np.ndarray:
        """All frames of ``path`` as a read-only memory-mapped uint8 ``[N, C, H, W]`` array,
        built first when missing or stale. ``expected_frames``: the presented-frame count
        (the index's); without it the frames are counted by decoding. ``N`` is smaller only
        when the file holds fewer decodable frames."""
        path = os.fspath(path)
        stamp = _io.file_stamp(path)
        memo_key = (path, color)
        known = self._open.pop(memo_key, None)
        if known is not None and known[0] == stamp:
            self._open[memo_key] = known
            return known[1]
        cached = self.entry(path, color, stamp)
        array: Optional[np.ndarray] = None
        if cached.is_file():
            try:
                array = np.load(cached, mmap_mode="r")
            except (OSError, ValueError):
                array = None
        if array is None:
            array = self._build(path, color, expected_frames, cached)
        self._open[memo_key] = (stamp, array)
        while len(self._open) > self.max_open:
            self._open.popitem(last=False)
        return array

    def read(self, path: PathLike, color: str, first: int, count: int,
             expected_frames: Optional[int] = None) -> np.ndarray:
        """Frames ``[first, first + count)`` of ``path`` (uint8 ``[count, C, H, W]``, a view of
        the map), as :meth:`VideoReader.read` gives them; :class:`MCoRecDataError` when the
        track holds fewer frames."""
        frames = self.frames(path, color, expected_frames)
        if first < 0 or first + count > len(frames):
            raise MCoRecDataError(os.fspath(path), f"frames {first}..{first + count - 1} requested but the "
                                                   f"track holds {len(frames)} decodable frames")
        return frames[first: first + count]

    def build(self, path: PathLike, color: str, expected_frames: Optional[int] = None) -> int:
        """Build the entry of ``path`` in ``color`` unless it exists; returns the bytes written
        (0 when it was there already)."""
        path = os.fspath(path)
        stamp = _io.file_stamp(path)
        cached = self.entry(path, color, stamp)
        if cached.is_file():
            return 0
        self._build(path, color, expected_frames, cached)
        return cached.stat().st_size if cached.is_file() else 0

    def _build(self, path: str, color: str, expected_frames: Optional[int], cached: Path) -> np.ndarray:
        """Decode ``path`` once into ``cached`` (temp file + rename), delete the source's other
        (stale) entries, and return the map. A read-only cache location only costs speed: the
        decoded array is returned from memory."""
        count = expected_frames if expected_frames is not None else count_presented_frames(path)
        reader = VideoReader(path)
        try:
            shape = (int(count), channels_of(color), reader.height, reader.width)
            if not _writable(cached):
                out = np.empty(shape, dtype=np.uint8)
                return out[: _decode_into(reader, out, color)]
            with _io.atomic_path(cached) as tmp:
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
                filled = _decode_into(reader, out, color)
                out.flush()
                del out
                if filled < shape[0]:  # fewer decodable frames than expected: keep those
                    kept = np.load(tmp, mmap_mode="r")[:filled].copy()
                    with open(tmp, "wb") as handle_out:
                        np.save(handle_out, kept)
        finally:
            reader.close()
        for stale in self.folder.glob(f"{self._source_prefix(path, color)}-*.npy"):
            if stale != cached:
                stale.unlink(missing_ok=True)
        return np.load(cached, mmap_mode="r")


def _writable(entry: Path) -> bool:
    """Whether ``entry`` can be written (its folder created if missing): a file is created at its
    temporary name and removed again (a read-only cache location only costs speed)."""
    probe = _io.temporary_name(entry)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


def _decode_into(reader: VideoReader, out: np.ndarray, color: str) -> int:
    """Fill ``out`` (``[N, C, H, W]``) with frames ``0..N-1`` of ``reader`` in chunks of
    :data:`BUILD_CHUNK_FRAMES`; returns how many frames were filled (fewer only when the
    file holds fewer decodable frames)."""
    for first in range(0, len(out), BUILD_CHUNK_FRAMES):
        count = min(BUILD_CHUNK_FRAMES, len(out) - first)
        try:
            reader.read(first, count, color, out=out[first: first + count])  # decoded in place
        except MCoRecDataError:
            for j in range(first, first + count):  # the frames that do decode, one by one
                try:
                    reader.read(j, 1, color, out=out[j: j + 1])
                except MCoRecDataError:
                    return j
    return len(out)
