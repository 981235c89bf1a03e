"""Writing mp4 files as recorders and the MCoRec release do, and cutting them without re-encoding.

:func:`write_mp4`: H.264 (libx264 through PyAV, ``yuv420p`` by default, x264 defaults unless
options say otherwise: keyint 250, bframes 3, crf 23) with AAC audio (FFmpeg's native ``aac``
encoder, mono or stereo at any rate) in mp4, constant frame rate, packets interleaved as a
recorder writes them. Gray frames go straight into the luma plane (``16 + gray * 219 / 255``,
chroma 128), so a decoder's SPEC §8 gray (:data:`.color.GRAY_LUT`) gives them back up to the
codec's loss; RGB frames are converted by swscale.

:func:`cut_by_stream_copy`: what ``ffmpeg -ss T -i source -c copy target`` writes (an mp4
edit list hiding the packets before ``T``).

PyAV is imported inside the functions.
"""
from __future__ import annotations

import fractions
import itertools
import math
import os
import types
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

import numpy as np

from ..errors import PathLike
from ..timeline import FPS, SAMPLE_RATE

__all__ = ["write_mp4", "cut_by_stream_copy", "GRAY_TO_LUMA", "AAC_OPTIONS"]

#: Full-range gray -> limited-range luma, ``clip(floor(16 + gray * 219 / 255 + 0.5), 16, 235)``:
#: how :func:`write_mp4` writes a gray frame into the Y plane of ``yuv420p``.
GRAY_TO_LUMA: np.ndarray = np.clip(np.floor(16.0 + np.arange(256, dtype=np.float64) * 219.0 / 255.0 + 0.5),
                                   16, 235).astype(np.uint8)
GRAY_TO_LUMA.setflags(write=False)

#: AAC encoder options of :func:`write_mp4` when none are given: FFmpeg's native encoder with
#: its fast coder (2x faster than the default one).
AAC_OPTIONS: Mapping[str, str] = types.MappingProxyType({"aac_coder": "fast"})

_AAC_FRAME = 1024  # samples per AAC frame


def _as_image(frame: Any) -> np.ndarray:
    """``frame`` as uint8 ``[H, W]`` (gray) or ``[H, W, 3]`` (RGB); ``[3, H, W]`` is moved to HWC."""
    image = np.asarray(frame)
    if image.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[-1] != 3 and image.shape[0] == 3:
        image = np.moveaxis(image, 0, -1)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3):
        return image
    raise ValueError(f"expected a frame shaped [H, W] (gray), [H, W, 3] or [3, H, W] (RGB), "
                     f"got shape {tuple(image.shape)}")


def write_mp4(path: PathLike, frames: Iterable[np.ndarray], fps: Union[int, fractions.Fraction] = FPS, *,
              audio: Optional[np.ndarray] = None, audio_rate: int = SAMPLE_RATE,
              video_options: Optional[Mapping[str, str]] = None, pixel_format: str = "yuv420p",
              audio_options: Optional[Mapping[str, str]] = None) -> Path:
    """Write ``path`` (parent folders created): an mp4 with one H.264 stream of ``frames`` and,
    when ``audio`` is given, one AAC stream of it; returns the path.

    ``frames``: uint8 images, all of one size, each either gray ``[H, W]`` (full range 0..255,
    written as luma ``16 + gray * 219 / 255`` with U = V = 128) or RGB ``[H, W, 3]`` /
    ``[3, H, W]`` (swscale's conversion to ``pixel_format``); consumed one at a time, so a
    generator keeps memory flat. Frame ``j`` gets pts ``j`` at ``fps`` frames per second
    (constant rate). ``ValueError`` when there is no frame.

    ``audio``: float32 ``[channels, samples]`` (1 = mono or 2 = stereo; ``[samples]`` is mono)
    at ``audio_rate`` Hz, in [-1, 1]; encoded in 1024-sample frames with pts in samples and
    interleaved with the video: after video frame ``j``, the audio up to its end time
    (``(j + 1) / fps`` seconds) is written. ``audio_options``: the AAC encoder's options
    (default :data:`AAC_OPTIONS`).

    ``video_options``: libx264 options (default ``{}``: x264 defaults), e.g.
    ``{"g": "12", "bf": "0"}`` or ``{"preset": "ultrafast", "threads": "1"}``.
    """
    import av  # local: importing the package does not need PyAV

    path = Path(path)
    frame_time = 1 / fractions.Fraction(fps)  # seconds
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError(f"{path}: no frames to write")
    height, width = _as_image(first).shape[:2]
    if audio is not None:
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 1:
            audio = audio[None, :]
        if audio.ndim != 2 or audio.shape[0] not in (1, 2):
            raise ValueError(f"audio must be shaped [samples] or [1 or 2 channels, samples], "
                             f"got {tuple(audio.shape)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(os.fspath(path), mode="w", format="mp4")  # whatever the name (a temporary one)
    try:
        vstream = container.add_stream("libx264", rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, pixel_format
        vstream.options = {str(k): str(v) for k, v in dict(video_options or {}).items()}
        astream = None
        layout = "mono"
        if audio is not None:
            layout = "mono" if audio.shape[0] == 1 else "stereo"
            astream = container.add_stream("aac", rate=audio_rate)
            astream.layout = layout
            astream.options = dict(AAC_OPTIONS if audio_options is None else audio_options)
        audio_pos = 0
        audio_tb = fractions.Fraction(1, audio_rate)
        yuv = np.empty((height * 3 // 2, width), dtype=np.uint8)
        yuv[height:] = 128

        def push_audio(until: int) -> None:
            nonlocal audio_pos
            while astream is not None and audio_pos < min(until, audio.shape[1]):
                chunk = np.ascontiguousarray(audio[:, audio_pos: audio_pos + _AAC_FRAME], dtype=np.float32)
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                aframe.sample_rate = audio_rate
                aframe.time_base = audio_tb
                aframe.pts = audio_pos
                for packet in astream.encode(aframe):
                    container.mux(packet)
                audio_pos += chunk.shape[1]

        def video_frame(image: np.ndarray) -> "av.VideoFrame":
            if image.shape[:2] != (height, width):
                raise ValueError(f"{path}: frame of size {image.shape[:2]} in a {height}x{width} video")
            if image.ndim == 2:
                np.take(GRAY_TO_LUMA, image, out=yuv[:height])
                vframe = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            else:
                vframe = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            return vframe if vframe.format.name == pixel_format else vframe.reformat(format=pixel_format)

        for j, frame in enumerate(itertools.chain([first], frames)):
            vframe = video_frame(_as_image(frame))
            vframe.pts = j
            for packet in vstream.encode(vframe):
                container.mux(packet)
            push_audio(math.floor((j + 1) * frame_time * audio_rate))
        for packet in vstream.encode():
            container.mux(packet)
        if astream is not None:
            push_audio(audio.shape[1])
            for packet in astream.encode():
                container.mux(packet)
    finally:
        container.close()
    return path


def cut_by_stream_copy(source: PathLike, target: PathLike, first_frame: int) -> int:
    """Write ``target`` as ``ffmpeg -ss T -i source -c copy target`` does (``T`` = ``first_frame``
    / 25 s): no re-encoding, so the packets from the keyframe at or before ``first_frame``
    are kept and an mp4 edit list hides the ones before it (their timestamps become
    negative). The header then counts more frames than are presented. Audio packets are
    cut the same way, keeping one 1024-sample packet of pre-roll. Returns how many video
    packets the edit list hides."""
    import av  # local: importing the package does not need PyAV

    with av.open(os.fspath(source)) as probe:
        video = probe.streams.video[0]
        cut_pts = int(fractions.Fraction(int(first_frame), FPS) / fractions.Fraction(video.time_base))
        key_pts = [p.pts for p in probe.demux(video) if p.size and p.is_keyframe and p.pts <= cut_pts]
    if not key_pts:
        raise ValueError(f"{source}: no keyframe at or before frame {first_frame}")
    keep_from = max(key_pts)
    hidden = 0
    with av.open(os.fspath(source)) as inp, av.open(os.fspath(target), mode="w") as out:
        copies = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux(*[inp.streams[i] for i in copies]):
            if not packet.size or packet.pts is None:
                continue
            stream = packet.stream
            if stream.type == "video":
                if packet.pts < keep_from:
                    continue
                shift = cut_pts
                hidden += packet.pts < cut_pts
            else:
                shift = int(fractions.Fraction(int(first_frame), FPS) / fractions.Fraction(stream.time_base))
                if packet.pts + (packet.duration or 1024) <= shift - 1024:
                    continue
            packet.pts -= shift
            packet.dts -= shift
            packet.stream = copies[stream.index]
            out.mux(packet)
    return hidden
