"""CPU media reading with PyAV: exact video frame ranges and exact audio sample ranges.

Video (SPEC §2, §8): seek to the keyframe at or before the first wanted frame, decode
forward, and select frames by presentation timestamp (B-frames reorder; keyframes may be
10 s apart). A reader that is asked for frames just after the ones it returned keeps
decoding instead of seeking again. Gray is the Y plane, range-expanded
``clip(round((Y - 16) * 255 / 219))`` (swscale where it is verified to give exactly that, else
a lookup table); RGB is PyAV's swscale conversion. Both keep one swscale context per reader.

Audio: a track's audio is decoded once, whole (AAC encoder delay is trimmed by the mp4
demuxer/decoder; end padding is cut to the expected length), kept as float32 at 16 kHz,
and sliced by sample index. Decoded tracks are cached on disk (``.npy``, memory-mapped by
every DataLoader worker) and in a small per-process LRU.

Containers are opened lazily, per process: a :class:`MediaPool` notices a fork (new pid)
and starts empty, so no file handle crosses into a worker.
"""
from __future__ import annotations

import functools
import hashlib
import os
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from .errors import MCoRecDataError, PathLike
from .probe import open_container
from .timeline import SAMPLE_RATE, frame_to_pts, pts_to_frame

#: Y (limited range, 16..235) -> full-range gray, exactly PyAV's/FFmpeg's ``format="gray"``.
GRAY_LUT = np.clip(np.round((np.arange(256, dtype=np.float64) - 16.0) * 255.0 / 219.0), 0, 255).astype(np.uint8)

#: If the wanted frame is at most this many frames past the reader's position, decode on
#: instead of seeking (decoding is cheaper than the GOP walk a seek costs).
CONTINUE_WITHIN_FRAMES = 64

#: When a seek lands past the wanted frame, seek again this many frames further back (then
#: twice as many, ...): more than any B-frame reorder depth, so one retry normally suffices.
SEEK_BACK_FRAMES = 16

COLORS = ("rgb", "gray")

#: Bump when :func:`decode_audio` changes what it returns: audio decoded by an older version
#: and cached on disk is then decoded anew (2: channels averaged, not downmixed at +3 dB).
AUDIO_DECODER_VERSION = 2

#: Media objects a forked child inherited from its parent. They are kept referenced, never
#: freed in the child: freeing FFmpeg contexts whose threads exist only in the parent can
#: block forever (a condition variable destroyed in a process without its waiters).
_INHERITED_FROM_PARENT: list = []


_LIMITED_RANGE_YUV = ("yuv420p", "yuv422p", "yuv444p", "nv12")
_FULL_RANGE_YUV = ("yuvj420p", "yuvj422p", "yuvj444p")


@functools.lru_cache(maxsize=None)
def swscale_gray_is_exact(width: int, height: int) -> bool:
    """Whether FFmpeg's yuv420p -> gray conversion at this frame size equals :data:`GRAY_LUT`
    for every luma value (checked once per size: swscale picks SIMD code by size and CPU)."""
    if width % 2 or height % 2:
        return False
    luma = (np.arange(width * height) % 256).astype(np.uint8).reshape(height, width)
    luma[::2] = luma[::2, ::-1]  # every value, in different columns on different rows
    buffer = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
    buffer[:height] = luma
    frame = av.VideoFrame.from_ndarray(buffer, format="yuv420p")
    gray = VideoReformatter().reformat(frame, format="gray", threads=1).to_ndarray()
    return bool(np.array_equal(gray, GRAY_LUT[luma]))


def frame_to_gray(frame: "av.VideoFrame", reformatter: Optional[VideoReformatter] = None) -> np.ndarray:
    """Gray uint8 ``[H, W]`` of a decoded frame as SPEC §8 defines it: the luma plane,
    range-expanded ``clip(round((Y - 16) * 255 / 219))`` for limited-range video.

    With a long-lived ``reformatter`` a yuv420p frame goes through swscale (3-4x cheaper than
    the lookup table) where :func:`swscale_gray_is_exact` has shown it gives the same bytes.
    """
    name = frame.format.name
    if (reformatter is not None and name == "yuv420p" and getattr(frame, "color_range", 0) != 2
            and swscale_gray_is_exact(frame.width, frame.height)):
        return reformatter.reformat(frame, format="gray", threads=1).to_ndarray()
    if name in _LIMITED_RANGE_YUV or name in _FULL_RANGE_YUV:
        plane = frame.planes[0]
        luma = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        full_range = name in _FULL_RANGE_YUV or getattr(frame, "color_range", 0) == 2
        return luma.copy() if full_range else np.take(GRAY_LUT, luma)
    return frame.to_ndarray(format="gray")


def frame_to_rgb(frame: "av.VideoFrame", reformatter: VideoReformatter) -> np.ndarray:
    """RGB uint8 ``[3, H, W]`` of a decoded frame (PyAV's swscale conversion).

    ``reformatter`` is long-lived: it keeps its swscale context, which makes the conversion
    10-45x cheaper than ``frame.to_ndarray(format="rgb24")`` (same pixels).
    """
    # threads=1: no swscale thread pool (one thread per DataLoader worker, and nothing a fork can break)
    return reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray().transpose(2, 0, 1)


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
        self._time_base = Fraction(self._stream.time_base)
        self._origin = int(self._stream.start_time or 0)
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
        target = frame_to_pts(max(frame_index, 0), self._time_base, self._origin)
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
        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is not None:
                    index = pts_to_frame(frame.pts, self._time_base, self._origin)
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

    def _collect(self, first: int, count: int, convert: Callable) -> Tuple[Optional[np.ndarray], int]:
        """Decode on and keep frames ``[first, first + count)``; returns (frames, how many were filled)."""
        stop = first + count
        out: Optional[np.ndarray] = None
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
            image = convert(frame)
            if out is None:
                out = np.zeros((count,) + image.shape, dtype=np.uint8)
            out[index - first] = image
            seen[index - first] = True
            if index == stop - 1:
                break
        self._next_index = stop
        return out, int(seen.sum())

    def read(self, first: int, count: int, color: str = "rgb") -> np.ndarray:
        """Frames ``[first, first + count)`` as uint8 ``[count, C, H, W]`` (C = 3 rgb, 1 gray).

        Frame ``j`` is the ``j``-th presented frame (selected by presentation timestamp), so
        every frame can be read from any position, including open-GOP leading B-frames.
        """
        if color not in COLORS:
            raise ValueError(f"color must be one of {COLORS}, got {color!r}")
        if color == "rgb":
            convert: Callable = lambda f: frame_to_rgb(f, self._reformatter)  # noqa: E731
        else:
            convert = lambda f: frame_to_gray(f, self._reformatter)[None]  # noqa: E731
        if count <= 0:
            return np.zeros((0, 3 if color == "rgb" else 1, self.height, self.width), np.uint8)
        # Decode on from where the last read stopped when that is close (no seek); else, or if
        # that does not deliver every frame, seek to a keyframe before `first`.
        if self._frames is not None and self._next_index <= first <= self._next_index + CONTINUE_WITHIN_FRAMES:
            out, filled = self._collect(first, count, convert)
            if out is not None and filled == count:
                return out
        self._seek_before(first)
        out, filled = self._collect(first, count, convert)
        if out is not None and filled == count:
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


def _timeline_origin_seconds(container: "av.container.InputContainer") -> Fraction:
    """Time (seconds) of the file's sample 0: the first video frame's presentation time when
    there is video (track frame 0 is the reference of SPEC §2), else 0."""
    if container.streams.video:
        video = container.streams.video[0]
        if video.start_time is not None:
            return Fraction(int(video.start_time)) * Fraction(video.time_base)
    return Fraction(0)


def _mono(frame: "av.AudioFrame") -> np.ndarray:
    """Samples of a planar float frame as one float32 channel: the mean of its channels."""
    planes = frame.to_ndarray()  # [channels, samples]
    return planes[0] if planes.shape[0] == 1 else planes.mean(axis=0, dtype=np.float32)


def decode_audio(path: PathLike, num_samples: Optional[int] = None) -> np.ndarray:
    """The whole audio track of ``path`` as float32 mono at 16 kHz; sample 0 is the time of the
    first video frame (of the file's time 0 when it has no video).

    Samples are placed by their timestamps (audio starting after the video is zero-filled in
    front; audio before it, such as undiscarded encoder priming, is cut). Other rates are
    resampled to 16 kHz; several channels become one by averaging them (no gain: a signal
    in both channels keeps its level, SPEC §2). Values are clipped to [-1, 1].
    ``num_samples``: cut or zero-pad to this length (AAC's end padding is not trimmed by
    the decoder); ``None`` keeps what was decoded.
    """
    path = os.fspath(path)
    with open_container(path) as container:
        if not container.streams.audio:
            raise MCoRecDataError(path, "container has no audio stream")
        stream = container.streams.audio[0]
        stream.codec_context.thread_count = 1
        # Resample to 16 kHz planar float keeping every channel, then average the channels:
        # swresample's own downmix to mono weights each channel by 1/sqrt(2) (+3 dB on stereo).
        resampler = None
        decoded_format = stream.codec_context.format
        if stream.sample_rate != SAMPLE_RATE or decoded_format is None or decoded_format.name != "fltp":
            resampler = av.AudioResampler(format="fltp", layout=None, rate=SAMPLE_RATE)
        chunks = []
        first_sample: Optional[int] = None
        origin = _timeline_origin_seconds(container)
        try:
            for frame in container.decode(stream):
                for piece in (resampler.resample(frame) if resampler is not None else [frame]):
                    if first_sample is None and piece.pts is not None:
                        seconds = Fraction(piece.pts) * Fraction(piece.time_base) - origin
                        first_sample = int(round(seconds * SAMPLE_RATE))
                    chunks.append(_mono(piece))
            if resampler is not None:
                chunks.extend(_mono(piece) for piece in resampler.resample(None))
        except av.error.FFmpegError as exc:
            raise MCoRecDataError(path, f"audio decoding failed (truncated or corrupt?): {exc}") from None
    audio = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    first_sample = first_sample or 0
    if first_sample > 0:
        audio = np.concatenate([np.zeros(first_sample, np.float32), audio])
    elif first_sample < 0:
        audio = audio[-first_sample:]
    if num_samples is not None:
        if len(audio) >= num_samples:
            audio = audio[:num_samples]
        else:
            audio = np.concatenate([audio, np.zeros(num_samples - len(audio), np.float32)])
    # SPEC §4 promises [-1, 1]: a lossy codec's ringing can overshoot a full-scale source
    return np.clip(audio, -1.0, 1.0)


def slice_padded(signal: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``signal[start:stop]`` as float32, zero where the range lies outside the signal."""
    out = np.zeros(max(stop - start, 0), dtype=np.float32)
    lo, hi = max(start, 0), min(stop, len(signal))
    if hi > lo:
        out[lo - start: hi - start] = signal[lo:hi]
    return out


class MediaPool:
    """Per-process open video readers (LRU) and decoded audio tracks (LRU + disk cache)."""

    def __init__(self, audio_cache_dir: Optional[PathLike] = None, max_readers: int = 16,
                 max_audio_tracks: int = 8) -> None:
        self.audio_cache_dir = Path(audio_cache_dir) if audio_cache_dir is not None else None
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
            signal = self._load_audio(path, num_samples)
            while len(self._audio) >= self.max_audio_tracks:
                self._audio.popitem(last=False)
        self._audio[key] = signal
        return signal

    def _load_audio(self, path: str, num_samples: Optional[int]) -> np.ndarray:
        if self.audio_cache_dir is None:
            return decode_audio(path, num_samples)
        stat = os.stat(path)
        digest = hashlib.sha1(f"v{AUDIO_DECODER_VERSION}|{os.path.abspath(path)}|{stat.st_size}|"
                              f"{stat.st_mtime_ns}|{num_samples}".encode()).hexdigest()
        cached = self.audio_cache_dir / f"{digest}.npy"
        if cached.is_file():
            try:
                return np.load(cached, mmap_mode="r")
            except (OSError, ValueError):
                pass
        signal = decode_audio(path, num_samples)
        try:
            self.audio_cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".tmp{os.getpid()}.npy")
            np.save(tmp, signal)
            os.replace(tmp, cached)
        except OSError:
            pass
        return signal

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
        self._audio.clear()
