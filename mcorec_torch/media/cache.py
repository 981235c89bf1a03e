"""Decoded audio tracks cached on disk as ``.npy`` (memory-mapped by every DataLoader worker).

An entry is keyed on the file's absolute path, size and modification time, the requested
length and :data:`~mcorec_torch.media.audio.AUDIO_DECODER_VERSION`, so a changed file or a
changed decoder never serves stale samples.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path
from typing import Optional

import numpy as np

from .. import _io
from ..errors import PathLike
from . import audio

logger = logging.getLogger(__name__)


class AudioCache:
    """``decode_audio`` results under ``folder`` (``None``: no disk cache, decode every time)."""

    def __init__(self, folder: Optional[PathLike]) -> None:
        self.folder = Path(folder) if folder is not None else None

    def entry(self, path: str, num_samples: Optional[int]) -> Optional[Path]:
        """The cache file of ``path`` decoded to ``num_samples`` samples (``None`` without a folder)."""
        if self.folder is None:
            return None
        size, mtime_ns = _io.file_stamp(path)
        key = (f"v{audio.AUDIO_DECODER_VERSION}|{os.path.abspath(path)}|{size}|{mtime_ns}|{num_samples}")
        return self.folder / f"{hashlib.sha1(key.encode()).hexdigest()}.npy"

    def load(self, path: str, num_samples: Optional[int]) -> np.ndarray:
        """The decoded audio of ``path`` (float32, 16 kHz mono): read from the cache when there,
        else decoded and stored (a read-only cache location only costs speed)."""
        cached = self.entry(path, num_samples)
        if cached is not None and cached.is_file():
            try:
                return np.load(cached, mmap_mode="r")
            except (OSError, ValueError) as exc:  # a damaged entry is decoded anew and replaced
                logger.warning("audio cache entry %s of %s is unreadable (%s); decoding again", cached, path, exc)
        signal = audio.decode_audio(path, num_samples)
        if cached is not None:
            buffer = io.BytesIO()
            np.save(buffer, signal)
            try:
                _io.atomic_write_bytes(cached, buffer.getvalue())
            except OSError as exc:
                logger.debug("audio cache %s is not writable (%s): %s stays uncached", self.folder, exc, path)
        return signal
