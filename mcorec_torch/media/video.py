"""Frame-exact random access into a video file (SPEC §2, §8).

Seek to the keyframe at or before the first wanted frame, decode forward, and select frames
by presentation timestamp (B-frames reorder; keyframes may be 10 s apart; open-GOP leading
B-frames are decoded after their keyframe). A reader asked for frames ahead of the ones it
returned keeps decoding instead of seeking again, unless a keyframe lies between (keyframes
come from the container's sample index, else from the packets seen).
While it walks from a keyframe to the first wanted frame it tells the decoder to skip frames
that no other frame references (``skip_frame = NONREF``): they are never delivered, and a
frame that is wanted is never skipped, so the frames returned are the same. One swscale
context per reader.
"""
from __future__ import annotations

import bisect
import os
from fractions import Fraction
from typing import Callable, Iterator, Optional, Tuple

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import MCoRecDataError, PathLike
from ..timeline import FrameClock
from .color import channels_of, frame_to_gray_into, frame_to_rgb_into
from .probe import open_container

#: Without a complete keyframe list (fragmented mp4), decode on instead of seeking only if the
#: wanted frame is at most this many frames past the reader's position and no keyframe seen so
#: far lies between. With the list, decode on whenever no keyframe lies between: a seek would
#: land on a keyframe at or before the position and walk further.
CONTINUE_WITHIN_FRAMES = 64

#: When a seek lands past the wanted frame, seek again this many frames further back (then
#: twice as many, ...): more than any B-frame reorder depth, so one retry normally suffices.
SEEK_BACK_FRAMES = 16


class VideoReader:
    """Frame-exact random access into one video file (one open container).

    Frame ``j`` is the ``j``-th frame in presentation order: its timestamp is
    ``start_time + j / 25`` seconds in the stream's time base.
    """

    def __init__(self, path: PathLike, container: "Optional[av.container.InputContainer]" = None) -> None:
        """``container``: an already opened container of ``path`` (e.g. one opened with a
        hardware decoder); the reader owns it from then on and closes it."""
        self.path = os.fspath(path)
        self._container = container if container is not None else open_container(self.path)
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
        #: frames before this one are not wanted: the decoder may skip those nobody references
        self._wanted_from = 0
        self._skipping = False
        #: frame indices of keyframes (sorted), and whether that list covers the whole stream
        self._keyframes, self._keyframes_complete = self._indexed_keyframes()
        #: counters for tests and the benchmark: seeks made, frames the decoder delivered
        self.seeks = 0
        self.frames_decoded = 0

    #: skip unreferenced frames before the wanted range (set on a reader or the class to turn
    #: it off, e.g. for A/B runs)
    skip_unwanted = True

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
        self.seeks += 1
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

    def _skip(self, flag: bool) -> None:
        if flag != self._skipping:
            self._stream.codec_context.skip_frame = "NONREF" if flag else "DEFAULT"
            self._skipping = flag

    def _indexed_keyframes(self) -> Tuple[list, bool]:
        """Keyframes of the container's sample index (mp4 ``stss``) as frame indices, and
        whether the index lists every sample. Index timestamps are decoding times; they are
        shifted by the first sample's decoding delay (its presentation time is the stream
        start), which is exact for keyframes of a constant reorder depth and approximate
        otherwise. Only used to choose between seeking and decoding on, never to select frames."""
        try:
            entries = self._stream.index_entries
            delay = int(self._stream.start_time or 0) - entries[0].timestamp if len(entries) else 0
            keys = sorted({max(self._clock.frame(e.timestamp + delay), 0) for e in entries if e.is_keyframe})
            complete = bool(keys) and len(entries) >= int(self._stream.frames or 0) > 0
        except (AttributeError, av.error.FFmpegError):  # older PyAV, or no index
            keys, complete = [], False
        return keys, complete

    def _keyframe_between(self, after: int, upto: int) -> bool:
        """Whether a known keyframe lies in frames ``(after, upto]``."""
        at = bisect.bisect_right(self._keyframes, after)
        return at < len(self._keyframes) and self._keyframes[at] <= upto

    def _indexed_frames(self) -> Iterator[Tuple[int, "av.VideoFrame"]]:
        """``(frame index, frame)`` in decoding output order from the current position.

        Packets are fed one by one so that a packet shown before the first wanted frame can be
        marked skippable; the decoder then drops it only if no other frame references it.
        """
        last = None
        to_frame = self._clock.frame
        try:
            for packet in self._container.demux(self._stream):
                if packet.pts is not None:
                    shown = to_frame(packet.pts)
                    if packet.is_keyframe and not self._keyframes_complete and shown not in self._keyframes:
                        bisect.insort(self._keyframes, shown)
                    self._skip(self.skip_unwanted and shown < self._wanted_from)
                else:  # the flush packet at the end, or a packet without timestamp
                    self._skip(False)
                for frame in packet.decode():
                    if frame.pts is not None:
                        index = to_frame(frame.pts)
                    else:
                        index = (last + 1) if last is not None else 0
                    last = index
                    self.frames_decoded += 1
                    yield index, frame
        except av.error.FFmpegError as exc:
            raise MCoRecDataError(self.path, f"decoding failed (truncated or corrupt?): {exc}") from None

    def _next(self) -> Optional[Tuple[int, "av.VideoFrame"]]:
        if self._pending is not None:
            item, self._pending = self._pending, None
            return item
        return next(self._frames, None)

    def _collect(self, first: int, count: int, handle: Callable[[int, "av.VideoFrame"], None]) -> int:
        """Decode on and hand frames ``[first, first + count)`` to ``handle(position, frame)``;
        returns how many distinct frames were handed over."""
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
            handle(index - first, frame)
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
        shape = (count, channels_of(color), self.height, self.width)
        if out is None:
            out = np.empty(shape, dtype=np.uint8)
        elif out.shape != shape or out.dtype != np.uint8:
            raise ValueError(f"out must be uint8 {shape}, got {out.dtype} {out.shape}")
        reformatter = self._reformatter
        to_array = frame_to_rgb_into if color == "rgb" else frame_to_gray_into
        self.visit(first, count, lambda position, frame: to_array(frame, reformatter, out[position]))
        return out

    def visit(self, first: int, count: int, handle: Callable[[int, "av.VideoFrame"], None]) -> None:
        """Call ``handle(k, frame)`` with each decoded frame ``first + k``, ``0 <= k < count``
        (presented frames, in decoding output order; the frame is only valid during the call).
        The one frame-selection routine behind :meth:`read` and hardware decoders."""
        if count <= 0:
            return
        self._wanted_from = first
        # Decode on from where the last read stopped when `first` is ahead and no keyframe lies
        # between (no seek); else, or if that does not deliver every frame, seek to a keyframe
        # before `first`.
        if self._frames is not None and self._continues_to(first):
            if self._collect(first, count, handle) == count:
                return
        self._seek_before(first)
        filled = self._collect(first, count, handle)
        if filled == count:
            return
        self._frames = None
        raise MCoRecDataError(
            self.path, f"frames {first}..{first + count - 1} requested but only {filled} decoded "
                       f"(the container holds fewer frames than the index expects)")

    def _continues_to(self, first: int) -> bool:
        """Whether decoding on from the reader's position reaches ``first`` more cheaply than a seek."""
        ahead = first - self._next_index
        if ahead < 0:
            return False
        if self._keyframe_between(self._next_index, first):
            return False  # a seek lands on that keyframe, closer to `first`
        return self._keyframes_complete or ahead <= CONTINUE_WITHIN_FRAMES

    @property
    def width(self) -> int:
        return int(self._stream.codec_context.width)

    @property
    def height(self) -> int:
        return int(self._stream.codec_context.height)
