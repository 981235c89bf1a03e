"""Segment media as exported files: mp4 (video + 16 kHz mono audio), WAV and FLAC audio, ``.npy``
frames; writing and reading back.

Lossy mp4 is :func:`mcorec_torch.media.encode.write_mp4` (H.264 ``yuv420p`` + AAC). Lossless mp4
is H.264 at ``qp 0`` in the frames' own pixel format (``libx264`` ``gray`` for gray frames,
``libx264rgb`` ``rgb24`` for RGB) with 32-bit float PCM audio: decoding gives the exported
arrays back bit for bit. Reading gray from a ``yuv420p`` file applies SPEC §8's range
expansion (:data:`mcorec_torch.media.color.GRAY_LUT`), so lossy gray comes back as the dataset
would read it. PyAV is imported inside the functions.
"""
from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Any, Tuple, Union

import numpy as np

from ..errors import MCoRecDataError, PathLike
from ..timeline import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME

Source = Union[PathLike, bytes]

#: x264 options of lossy exports: defaults except one thread per worker process.
LOSSY_VIDEO_OPTIONS = {"threads": "1"}
LOSSLESS_VIDEO_OPTIONS = {"qp": "0", "preset": "veryfast", "threads": "1"}
#: mp4 ``comment`` of lossless gray files: their luma is the gray value itself (no SPEC §8
#: range expansion on reading; decoders report such 4:0:0 streams as ``yuv420p``).
RAW_LUMA_TAG = "mcorec_torch:raw-luma"


def write_segment_mp4(path: PathLike, video: np.ndarray, audio: np.ndarray, lossless: bool = False) -> Path:
    """Write one segment as an mp4 at ``path``: ``video`` uint8 ``[T, C, H, W]`` (C = 1 gray or
    3 RGB) at ``FPS`` (25) frames per second and ``audio`` float32 ``[SAMPLES_PER_FRAME * T]``
    samples at 16 kHz."""
    from ..media.encode import write_mp4

    frames = video[:, 0] if video.shape[1] == 1 else np.moveaxis(video, 1, -1)
    if not lossless:
        return write_mp4(path, iter(frames), audio=audio, video_options=LOSSY_VIDEO_OPTIONS)
    return _write_lossless_mp4(Path(path), frames, audio)


def _write_lossless_mp4(path: Path, frames: np.ndarray, audio: np.ndarray) -> Path:
    import av

    gray = frames.ndim == 3
    container = av.open(os.fspath(path), mode="w", format="mp4")
    container.metadata["comment"] = RAW_LUMA_TAG if gray else "mcorec_torch"
    try:
        vstream = container.add_stream("libx264" if gray else "libx264rgb", rate=FPS)
        vstream.height, vstream.width = frames.shape[1], frames.shape[2]
        vstream.pix_fmt = "gray" if gray else "rgb24"
        vstream.options = dict(LOSSLESS_VIDEO_OPTIONS)
        astream = container.add_stream("pcm_f32le", rate=SAMPLE_RATE)
        astream.layout = "mono"
        for j, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="gray" if gray else "rgb24")
            frame.pts = j
            container.mux(vstream.encode(frame))
        container.mux(vstream.encode())
        for pos in range(0, len(audio), 16 * SAMPLES_PER_FRAME):
            chunk = np.ascontiguousarray(audio[None, pos: pos + 16 * SAMPLES_PER_FRAME], dtype=np.float32)
            aframe = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            aframe.sample_rate, aframe.pts = SAMPLE_RATE, pos
            container.mux(astream.encode(aframe))
        container.mux(astream.encode())
    finally:
        container.close()
    return path


def _open(source: Source):
    import av

    return av.open(io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source))


def read_segment_mp4(source: Source, color: str, num_frames: int, name: str = "<bytes>") -> Tuple[np.ndarray, np.ndarray]:
    """``(video, audio)`` of an exported segment mp4 (a path or its bytes): uint8
    ``[num_frames, C, H, W]`` in ``color`` and float32 ``[SAMPLES_PER_FRAME * num_frames]``
    (16 kHz; cut or zero-padded at the end). ``MCoRecDataError`` naming ``name`` when the
    frame count differs.

    Frames are read by :class:`~mcorec_torch.media.video.VideoReader` (SPEC §8 gray, RGB with
    its long-lived swscale context), except the luma of lossless gray files (tagged
    :data:`RAW_LUMA_TAG`), which is the gray value itself and is taken without range expansion."""
    from ..media.video import VideoReader

    container = _open(source)
    try:
        raw = color == "gray" and container.metadata.get("comment") == RAW_LUMA_TAG
        header_frames = int(container.streams.video[0].frames or 0) if container.streams.video else 0
        chunks = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)] if container.streams.audio else []
    except BaseException:
        container.close()
        raise
    if header_frames and header_frames != num_frames:
        container.close()
        raise MCoRecDataError(name, f"holds {header_frames} video frames, the manifest says {num_frames}")
    reader = VideoReader(name, container=container)  # owns and closes the container
    try:
        if not raw:
            video = reader.read(0, num_frames, color)
        else:
            video = np.empty((num_frames, 1, reader.height, reader.width), dtype=np.uint8)

            def luma(k: int, frame: Any) -> None:  # an av.VideoFrame
                plane = frame.planes[0]
                video[k, 0] = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, :frame.width]

            reader.visit(0, num_frames, luma)
    except MCoRecDataError as exc:
        raise MCoRecDataError(name, f"holds fewer video frames than the manifest's {num_frames}: {exc}") from None
    finally:
        reader.close()
    audio = np.zeros(num_frames * SAMPLES_PER_FRAME, dtype=np.float32)
    if chunks:
        decoded = np.concatenate(chunks).astype(np.float32)[: len(audio)]
        audio[: len(decoded)] = decoded
    return video, audio


def wav_bytes(audio: np.ndarray) -> bytes:
    """``audio`` (float32 samples at 16 kHz) as a mono 32-bit float WAV file."""
    data = np.ascontiguousarray(audio, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, SAMPLE_RATE, SAMPLE_RATE * 4, 4, 32)  # IEEE float, mono
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data)


def flac_bytes(audio: np.ndarray) -> bytes:
    """``audio`` (float32 samples at 16 kHz, in [-1, 1]) as a mono 16-bit FLAC file."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="flac") as container:
        stream = container.add_stream("flac", rate=SAMPLE_RATE)
        stream.layout = "mono"
        pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="s16", layout="mono")
        frame.sample_rate, frame.pts = SAMPLE_RATE, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return buffer.getvalue()


def read_audio_file(source: Source, num_samples: int) -> np.ndarray:
    """Float32 samples of an exported ``.wav`` or ``.flac`` (a path or its bytes), cut or
    zero-padded to ``num_samples``."""
    with _open(source) as container:
        chunks = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    decoded = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if decoded.dtype == np.int16:
        decoded = decoded.astype(np.float32) / 32767.0
    out = np.zeros(num_samples, dtype=np.float32)
    out[: min(num_samples, len(decoded))] = decoded[:num_samples]
    return out


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as the bytes of a ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def read_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)
