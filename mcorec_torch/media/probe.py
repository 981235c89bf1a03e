"""Container headers (frame counts, sizes, audio) read without decoding, and presented-frame counts.

The index (SPEC §3) takes frame counts from the containers, not from ``frame_end``. A track's
frame count is its number of *presented* frames (SPEC §2): what the demuxer and decoder
output after the mp4 edit list. The header's count (``stream.frames``, the number of stored
samples) is that number only where the header shows it: the stream's duration (which the
edit list shortens) spans exactly that many frames, and the track json agrees within one
frame. Otherwise the track is decoded once and its frames counted (a stream-copy cut keeps
hidden pre-roll packets; a fragmented mp4 has no count at all).

:class:`~mcorec_torch.media.headers.HeaderCache` remembers headers and settled counts.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import av

from ..errors import MCoRecDataError, PathLike
from ..timeline import FPS, SAMPLE_RATE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaHeader:
    """What a container's stream headers say.

    ``num_frames``: stored video frames per the header (``stream.frames``; 0 when the header
    does not say); ``duration_frames``: the video stream's duration in frames at 25 fps (after
    the edit list; 0 when unknown); ``width``/``height``: pixels; ``audio_rate``: Hz (0
    without audio); ``audio_samples``: audio duration in 16 kHz samples (0 when unknown);
    ``frame_rate``: the video stream's average frame rate in frames per second (frames over
    duration, as the container's sample table gives it; 0.0 when unknown).
    """

    num_frames: int
    width: int
    height: int
    has_video: bool
    audio_rate: int
    audio_samples: int
    duration_frames: int = 0
    frame_rate: float = 0.0

    @property
    def has_audio(self) -> bool:
        return self.audio_rate > 0

    def frames_shown(self, expected: Optional[int] = None, tolerance: int = 1) -> bool:
        """Whether ``num_frames`` is shown to be the presented-frame count: it is known, the
        stream's duration spans exactly that many frames (no edit list hides any), and it is
        within ``tolerance`` of ``expected`` (the track json's count) when one is given."""
        n = self.num_frames
        return n > 0 and self.duration_frames == n and (expected is None or abs(n - expected) <= tolerance)

    @property
    def span_frames(self) -> int:
        """Frames at 25 fps the presented video spans, from the header alone: ``num_frames``
        where :meth:`frames_shown`, else the (edit-list) duration; 0 when neither is known.
        For whole-session videos, whose span (not each frame) matters and which are too large
        to decode for a count."""
        return self.num_frames if self.frames_shown() else self.duration_frames


def open_container(path: PathLike) -> "av.container.InputContainer":
    """``av.open`` for reading, turning every failure into :class:`MCoRecDataError`."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MCoRecDataError(path, "media file does not exist")
    try:
        return av.open(path, mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MCoRecDataError(path, f"not a readable media container (truncated or corrupt?): {exc}") from None


def _seconds(value: Optional[int], time_base: Optional[Fraction]) -> Optional[Fraction]:
    if not value or not time_base:
        return None
    return Fraction(int(value)) * Fraction(time_base)


def read_header(path: PathLike) -> MediaHeader:
    """Read the stream headers of one mp4 (no decoding)."""
    with open_container(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_seconds = _seconds(audio.duration, audio.time_base) if audio is not None else None
        video_seconds = _seconds(video.duration, video.time_base) if video is not None else None
        rate = (video.average_rate or video.guessed_rate) if video is not None else None
        return MediaHeader(
            num_frames=int(video.frames or 0) if video is not None else 0,
            width=int(video.codec_context.width) if video is not None else 0,
            height=int(video.codec_context.height) if video is not None else 0,
            has_video=video is not None,
            audio_rate=int(audio.sample_rate or 0) if audio is not None else 0,
            audio_samples=int(round(audio_seconds * SAMPLE_RATE)) if audio_seconds else 0,
            duration_frames=int(round(video_seconds * FPS)) if video_seconds else 0,
            frame_rate=float(rate) if rate else 0.0,
        )


#: How far (relative) a video's average frame rate may lie from 25 fps for it to be a 25 fps
#: video at all: 24, 25.5, 29.97 and 30 fps are not; 25 with jittered timestamps is.
RATE_TOLERANCE = 0.01


def timing_fault(header: MediaHeader, frames: int) -> Optional[str]:
    """Why the frames of this video cannot be placed on the 25 fps timeline, or ``None``.

    The reader places frame ``j`` by its timestamp, at ``round((pts - start) * 25)`` (SPEC §2),
    so a video is usable when it is a 25 fps video: its average frame rate ``r`` (frames over
    duration, per the header) is known, within :data:`RATE_TOLERANCE` of 25, and close enough
    that over its ``frames`` frames the timestamps drift less than half a frame from the
    25 fps grid, ``(frames - 1) * |25 / r - 1| < 1/2`` (25.1 fps over 9,000 frames is 36 frames
    off). A few jittered timestamps do not move the average; a re-timed video does.
    """
    if not header.has_video:
        return None
    rate = header.frame_rate
    if rate <= 0:
        return f"the header states no frame rate; the MCoRec timeline is {FPS} fps (SPEC §2)"
    drift = max(int(frames) - 1, 0) * abs(FPS / rate - 1)
    if abs(rate / FPS - 1) > RATE_TOLERANCE or drift >= 0.5:
        return (f"video is {rate:.4g} fps, not {FPS} (SPEC §2): its {int(frames)} frames would land up to "
                f"{drift:.3g} frames off the {FPS} fps timeline")
    return None


def count_video_packets(path: PathLike) -> int:
    """Number of stored video packets, by demuxing (no decoding). Not the frame count where
    an edit list hides some (see :func:`count_presented_frames`); it shows truncation."""
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


def count_presented_frames(path: PathLike) -> int:
    """Number of video frames the demuxer and decoder present (SPEC §2), by decoding the
    whole video stream: frames an edit list hides are not counted, whatever the packets."""
    with open_container(path) as container:
        if not container.streams.video:
            raise MCoRecDataError(path, "container has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        count = 0
        try:
            for _ in container.decode(stream):
                count += 1
        except av.error.FFmpegError as exc:
            raise MCoRecDataError(path, f"container is truncated or corrupt: {exc}") from None
        return count


def presented_frames(path: PathLike, header: MediaHeader, expected: Optional[int] = None,
                     tolerance: int = 1) -> int:
    """Presented video frames of ``path``: the header's count where it is shown to be that
    (:meth:`MediaHeader.frames_shown`), else counted by decoding."""
    if header.frames_shown(expected, tolerance):
        return header.num_frames
    logger.info("%s: header says %d frames (duration %d frames, track json %s): counting presented "
                "frames by decoding", os.fspath(path), header.num_frames, header.duration_frames, expected)
    return count_presented_frames(path)
