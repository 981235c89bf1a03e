"""Whole-track audio decoding (SPEC §2): AAC encoder delay trimmed by the mp4 demuxer/decoder,
end padding cut, other rates resampled to 16 kHz, channels averaged, samples placed against
the first video frame."""
from __future__ import annotations

import os
from fractions import Fraction
from typing import Optional

import av
import numpy as np

from ..errors import MCoRecDataError, PathLike
from ..timeline import SAMPLE_RATE
from .probe import open_container

#: Bump when :func:`decode_audio` changes what it returns: audio decoded by an older version
#: and cached on disk is then decoded anew (2: channels averaged, not downmixed at +3 dB).
AUDIO_DECODER_VERSION = 2


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


def slice_padded(signal: np.ndarray, start: int, stop: int, out: Optional[np.ndarray] = None) -> np.ndarray:
    """``signal[start:stop]`` as float32, zero where the range lies outside the signal.
    ``out``: a float32 array of ``stop - start`` samples to write into (returned)."""
    if out is None:
        out = np.empty(max(stop - start, 0), dtype=np.float32)
    lo, hi = max(start, 0), min(stop, len(signal))
    if hi > lo:
        out[lo - start: hi - start] = signal[lo:hi]
        out[: lo - start] = 0
        out[hi - start:] = 0
    else:
        out[...] = 0
    return out
