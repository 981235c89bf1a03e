"""Frame-exact random access into a video file (SPEC §2, §8).

Seek to the keyframe at or before the first wanted frame, decode forward, and select frames
by presentation timestamp (B-frames reorder; keyframes may be 10 s apart; open-GOP leading
B-frames are decoded after their keyframe). A reader asked for frames just after the ones it
returned keeps decoding instead of seeking again. One swscale context per reader.
"""
from __future__ import annotations

import os
from fractions import Fraction
from typing import Callable, Iterator, Optional, Tuple

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import MCoRecDataError, PathLike
from ..timeline import FrameClock
from .color import COLORS, frame_to_gray_into, frame_to_rgb_into
from .probe import open_container

#: If the wanted frame is at most this many frames past the reader's position, decode on
#: instead of seeking (decoding is cheaper than the GOP walk a seek costs).
CONTINUE_WITHIN_FRAMES = 64

#: When a seek lands past the wanted frame, seek again this many frames further back (then
#: twice as many, ...): more than any B-frame reorder depth, so one retry normally suffices.
SEEK_BACK_FRAMES = 16


class VideoReader:
    """Frame-exact random access into one video file (one open container).

    Frame ``j`` is the ``j``-th frame in presentation order: its timestamp is
    ``start_time + j / 25`` seconds in the stream's time base.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = os.fspath(path)
        self._container = open_container(self.path)
        if not self._container.streams.video:
            self._container.close()
            raise MCoRecDataError(self.path, "container has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "SLICE"
        self._stream.codec_context.thread_count = 1
        self._clock = FrameClock(Fraction(self._stream.time_base), int(self._stream.start_time or 0))
        self._reformatter = VideoReformatter()
        self._frames: Optional[Iterator[Tuple[int, "av.VideoFrame"]]] = None
        self._pending: Optional[Tuple[int, "av.VideoFrame"]] = None
        self._next_index = -1

    def close(self) -> None:
        self._frames = None
        self._pending = None
        self._container.close()

    def _decode_from(self, frame_index: int) -> None:
        """Seek to the keyframe at or before frame ``frame_index`` (by timestamp) and restart decoding."""
        target = self._clock.pts(max(frame_index, 0))
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise MCoRecDataError(self.path, f"cannot seek to frame {frame_index}: {exc}") from None
        self._frames = self._indexed_frames()
        self._pending = None

    def _seek_before(self, first: int) -> None:
        """Position the decoder so that the first frame it delivers is at or before ``first``.

        A seek lands on a keyframe chosen by timestamp, and that keyframe can lie *after*
        ``first``: in open-GOP streams the frames presented just before a keyframe are
        decoded after it and reference the previous GOP, so after a seek to that keyframe the
        decoder drops them; a keyframe's decoding time can also precede frames it is shown
        after. Whenever the first delivered frame is past ``first``, seek again from further
        back (16, 32, 64, ... frames before where it landed) until it is not, or until the
        seek is at the start of the stream.
        """
        target, back = first, 0
        while True:
            self._decode_from(target)
            item = self._next()
            if item is None:
                return
            self._pending = item
            landed = item[0]
            if landed <= first or target <= 0:
                return
            back = max(2 * back, SEEK_BACK_FRAMES)
            target = max(min(target, landed) - back, 0)

    def _indexed_frames(self) -> Iterator[Tuple[int, "av.VideoFrame"]]:
        last = None
        to_frame = self._clock.frame
        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is not None:
                    index = to_frame(frame.pts)
                else:
                    index = (last + 1) if last is not None else 0
                last = index
                yield index, frame
        except av.error.FFmpegError as exc:
            raise MCoRecDataError(self.path, f"decoding failed (truncated or corrupt?): {exc}") from None

    def _next(self) -> Optional[Tuple[int, "av.VideoFrame"]]:
        if self._pending is not None:
            item, self._pending = self._pending, None
            return item
        return next(self._frames, None)

    def _collect(self, first: int, count: int, convert: Callable, out: np.ndarray) -> int:
        """Decode on and write frames ``[first, first + count)`` into ``out``; returns how many
        distinct frames were written."""
        stop = first + count
        seen = np.zeros(count, dtype=bool)
        while True:
            item = self._next()
            if item is None:
                break
            index, frame = item
            if index < first:
                continue
            if index >= stop:
                self._pending = item  # the next read may start here
                break
            convert(frame, out[index - first])
            seen[index - first] = True
            if index == stop - 1:
                break
        self._next_index = stop
        return int(seen.sum())

    def read(self, first: int, count: int, color: str = "rgb", out: Optional[np.ndarray] = None) -> np.ndarray:
        """Frames ``[first, first + count)`` as uint8 ``[count, C, H, W]`` (C = 3 rgb, 1 gray).

        Frame ``j`` is the ``j``-th presented frame (selected by presentation timestamp), so
        every frame can be read from any position, including open-GOP leading B-frames.
        ``out``: an array of that shape to decode into (none is allocated); it is returned.
        """
        if color not in COLORS:
            raise ValueError(f"color must be one of {COLORS}, got {color!r}")
        shape = (count, 3 if color == "rgb" else 1, self.height, self.width)
        if out is None:
            out = np.empty(shape, dtype=np.uint8)
        elif out.shape != shape or out.dtype != np.uint8:
            raise ValueError(f"out must be uint8 {shape}, got {out.dtype} {out.shape}")
        if count <= 0:
            return out
        reformatter = self._reformatter
        if color == "rgb":
            convert: Callable = lambda f, dst: frame_to_rgb_into(f, reformatter, dst)  # noqa: E731
        else:
            convert = lambda f, dst: frame_to_gray_into(f, reformatter, dst)  # noqa: E731
        # Decode on from where the last read stopped when that is close (no seek); else, or if
        # that does not deliver every frame, seek to a keyframe before `first`.
        if self._frames is not None and self._next_index <= first <= self._next_index + CONTINUE_WITHIN_FRAMES:
            if self._collect(first, count, convert, out) == count:
                return out
        self._seek_before(first)
        filled = self._collect(first, count, convert, out)
        if filled == count:
            return out
        self._frames = None
        raise MCoRecDataError(
            self.path, f"frames {first}..{first + count - 1} requested but only {filled} decoded "
                       f"(the container holds fewer frames than the index expects)")

    @property
    def width(self) -> int:
        return int(self._stream.codec_context.width)

    @property
    def height(self) -> int:
        return int(self._stream.codec_context.height)
