"""Decoded frames to arrays: SPEC §8 gray (range-expanded luma) and RGB, with reusable
swscale contexts."""
from __future__ import annotations

import functools
from typing import Literal, Optional, Tuple, get_args

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..checks import check_choice

#: ``"rgb"`` (3 channels) or ``"gray"`` (1 channel, full-range luma).
Color = Literal["rgb", "gray"]
COLORS: Tuple[str, ...] = get_args(Color)


def channels_of(color: str) -> int:
    """Channels ``C`` of ``color``: 3 for ``"rgb"``, 1 for ``"gray"``; ``ValueError`` otherwise."""
    return 3 if check_choice("color", color, COLORS) == "rgb" else 1

#: Y (limited range, 16..235) -> full-range gray, exactly PyAV's/FFmpeg's ``format="gray"``.
GRAY_LUT = np.clip(np.round((np.arange(256, dtype=np.float64) - 16.0) * 255.0 / 219.0), 0, 255).astype(np.uint8)

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


@functools.lru_cache(maxsize=None)
def planar_rgb_is_exact(width: int, height: int) -> bool:
    """Whether swscale's yuv420p -> planar ``gbrp`` conversion at this frame size gives exactly
    the bytes of its ``rgb24`` conversion (checked once per size on random pictures: swscale
    picks code paths by size and CPU, and at some sizes the two differ)."""
    if width % 2 or height % 2:
        return False
    rng = np.random.default_rng(width * 100003 + height)
    for _ in range(3):
        picture = av.VideoFrame.from_ndarray(rng.integers(0, 256, (height * 3 // 2, width), dtype=np.uint8),
                                             format="yuv420p")
        packed = VideoReformatter().reformat(picture, format="rgb24", threads=1).to_ndarray()
        out = np.empty((3, height, width), np.uint8)
        _planar_rgb_into(VideoReformatter().reformat(picture, format="gbrp", threads=1), out)
        if not np.array_equal(packed.transpose(2, 0, 1), out):
            return False
    return True


def _planar_rgb_into(frame: "av.VideoFrame", out: np.ndarray) -> None:
    for channel, plane in zip((1, 2, 0), frame.planes):  # gbrp stores G, B, R
        out[channel] = _plane_view(plane)


def frame_to_rgb_into(frame: "av.VideoFrame", reformatter: VideoReformatter, out: np.ndarray) -> None:
    """Write :func:`frame_to_rgb` of ``frame`` into ``out`` (uint8 ``[3, H, W]``).

    Where :func:`planar_rgb_is_exact` holds, swscale writes planar RGB and each channel is one
    contiguous copy (about 2.5x cheaper at 224x224 than the strided copy of packed RGB into
    channel-first order); elsewhere the packed conversion is copied."""
    if frame.format.name == "yuv420p" and planar_rgb_is_exact(frame.width, frame.height):
        _planar_rgb_into(reformatter.reformat(frame, format="gbrp", threads=1), out)
    else:
        out[...] = frame_to_rgb(frame, reformatter)


def _plane_view(plane: "av.video.plane.VideoPlane") -> np.ndarray:
    """The bytes of one picture plane as a ``[height, width]`` view (line padding cut off)."""
    return np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]


def frame_to_gray_into(frame: "av.VideoFrame", reformatter: VideoReformatter, out: np.ndarray) -> None:
    """Write :func:`frame_to_gray` of ``frame`` into ``out`` (uint8 ``[1, H, W]`` or ``[H, W]``)."""
    (out[0] if out.ndim == 3 else out)[...] = frame_to_gray(frame, reformatter)
