"""Decode lanes of the GPU stage: one thread each, with its own CUDA stream and a small LRU of
open decoders, decoding the video pieces routed to it into a batch tensor (SPEC §8)."""
from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, List, Optional, Sequence, Tuple

import torch

from ..data.reader import VideoPiece
from ..errors import MCoRecDataError
from .decoders import CpuFrameDecoder, FrameDecoder, NotOnGpu

logger = logging.getLogger("mcorec_torch.gpu")

#: ``(row of the batch, piece)``: decode ``piece`` into ``video[row, piece.offset: ...]``.
Job = Tuple[int, VideoPiece]


class FallbackLog:
    """Reasons the CPU decoder was used, counted per reason and logged once each (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter = Counter()

    def add(self, reason: str, path: str) -> None:
        with self._lock:
            first = reason not in self.counts
            self.counts[reason] += 1
        if first:
            logger.warning("GPU decoding falls back to the CPU (%s), first for %s", reason, path)


class Lane:
    """One decode thread. ``open_decoder(path)`` opens a file for it (called in the thread);
    at most ``max_open`` files stay open, least recently used closed first."""

    def __init__(self, name: str, device: torch.device, open_decoder: Callable[[str], FrameDecoder],
                 fallbacks: FallbackLog, max_open: int = 16) -> None:
        self.device = device
        self._open_decoder = open_decoder
        self._fallbacks = fallbacks
        self._max_open = max_open
        self._decoders: "OrderedDict[str, FrameDecoder]" = OrderedDict()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._stream: Optional["torch.cuda.Stream"] = None
        self.opened = 0
        self.frames = 0
        #: files opened per decoder class (``NvdecFrameDecoder``, ``CpuFrameDecoder``)
        self.kinds: Counter = Counter()
        self._executor.submit(self._start).result()

    def _start(self) -> None:
        if self.device.type == "cuda":  # CUDA is initialised in this thread before any decoding
            torch.cuda.set_device(self.device)
            torch.zeros(1, device=self.device)  # makes torch's (primary) context current here
            self._stream = torch.cuda.Stream(self.device)

    def _decoder(self, path: str) -> FrameDecoder:
        decoder = self._decoders.pop(path, None)
        if decoder is None:
            decoder = self._open_decoder(path)
            self.opened += 1
            self.kinds[type(decoder).__name__] += 1
            if decoder.fallback_reason is not None:
                self._fallbacks.add(decoder.fallback_reason, path)
            while len(self._decoders) >= self._max_open:
                self._decoders.popitem(last=False)[1].close()
        self._decoders[path] = decoder
        return decoder

    def _to_cpu_decoder(self, path: str, reason: str) -> FrameDecoder:
        old = self._decoders.pop(path, None)
        if old is not None:
            old.close()
        self._fallbacks.add(reason, path)
        decoder = self._decoders[path] = CpuFrameDecoder(path, fallback_reason=reason)
        return decoder

    def submit(self, video: torch.Tensor, jobs: Sequence[Job], color: str,
               ready: "Optional[torch.cuda.Event]" = None) -> "Future[Optional[torch.cuda.Event]]":
        """Decode ``jobs`` (already in file order) into ``video`` once ``ready`` (recorded after
        ``video`` was allocated and zeroed) has passed; the future's result is the CUDA event
        recorded after the last write (``None`` on the CPU)."""
        return self._executor.submit(self._run, video, list(jobs), color, ready)

    def _run(self, video: torch.Tensor, jobs: List[Job], color: str,
             ready: "Optional[torch.cuda.Event]") -> "Optional[torch.cuda.Event]":
        if self._stream is None:
            for row, piece in jobs:
                self._decode(video, row, piece, color)
            return None
        if ready is not None:
            self._stream.wait_event(ready)  # the zero fill on the allocating stream comes first
        with torch.cuda.stream(self._stream):
            for row, piece in jobs:
                self._decode(video, row, piece, color)
            video.record_stream(self._stream)
            event = torch.cuda.Event()
            event.record(self._stream)
        return event

    def _decode(self, video: torch.Tensor, row: int, piece: VideoPiece, color: str) -> None:
        target = video[row, piece.offset: piece.offset + piece.length]
        decoder = self._decoder(piece.path)
        try:
            decoder.read(piece.track_frame, piece.length, color, out=target)
        except NotOnGpu as exc:
            self._to_cpu_decoder(piece.path, str(exc)).read(piece.track_frame, piece.length, color, out=target)
        except MCoRecDataError:
            self._decoders.pop(piece.path, None)
            decoder.close()
            raise
        self.frames += piece.length

    def close(self) -> None:
        def close_all() -> None:
            while self._decoders:
                self._decoders.popitem()[1].close()
        self._executor.submit(close_all).result()
        self._executor.shutdown(wait=True)
