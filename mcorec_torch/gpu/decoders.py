"""Frame decoders behind one interface (SPEC §8): the PyAV CPU reader and NVDEC through PyAV,
each ``read(first, count, color) -> uint8 [count, C, H, W]`` on its ``device``.

Both select frames with the same routine (:meth:`mcorec_torch.media.VideoReader.visit`), so
frame ``j`` is the ``j``-th presented frame on both paths; only the conversion differs (SPEC §8
gray is a table lookup on the luma on both; RGB on the GPU is :func:`rgb_from_nv12`).
"""
from __future__ import annotations

import os
from typing import Optional, Protocol

import numpy as np
import torch

from ..errors import PathLike
from ..media.color import channels_of
from ..media.video import VideoReader
from .color import gray_from_luma, rgb_from_nv12

#: ``MCOREC_TORCH_DECODE=cpu`` forces the CPU decoder everywhere (the reason is logged).
FORCE_ENV = "MCOREC_TORCH_DECODE"


class FrameDecoder(Protocol):
    """One open video file. ``device``: where frames come back; ``fallback_reason``: why this
    is the CPU decoder although another was asked for (``None`` if it is what was asked)."""

    path: str
    device: torch.device
    fallback_reason: Optional[str]

    def read(self, first: int, count: int, color: str = "rgb",
             out: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Frames ``[first, first + count)`` as uint8 ``[count, C, H, W]`` (C = 3 rgb, 1 gray),
        written into ``out`` when given (any device; it is returned)."""

    def close(self) -> None:
        """Close the file (and the hardware decoder)."""


def _check(color: str, count: int, height: int, width: int, out: Optional[torch.Tensor]) -> tuple:
    shape = (count, channels_of(color), height, width)
    if out is not None and (tuple(out.shape) != shape or out.dtype != torch.uint8):
        raise ValueError(f"out must be uint8 {shape}, got {out.dtype} {tuple(out.shape)}")
    return shape


class CpuFrameDecoder:
    """:class:`~mcorec_torch.media.VideoReader` behind the interface (the dataset's own path):
    frames decoded by libavcodec on this thread, converted by swscale / the gray table."""

    def __init__(self, path: PathLike, fallback_reason: Optional[str] = None) -> None:
        self.path = os.fspath(path)
        self.device = torch.device("cpu")
        self.fallback_reason = fallback_reason
        self._reader = VideoReader(self.path)

    def read(self, first: int, count: int, color: str = "rgb",
             out: Optional[torch.Tensor] = None) -> torch.Tensor:
        shape = _check(color, count, self._reader.height, self._reader.width, out)
        if out is not None and out.device.type == "cpu" and out.is_contiguous():
            self._reader.read(first, count, color, out=out.numpy())
            return out
        frames = torch.from_numpy(self._reader.read(first, count, color, out=np.empty(shape, np.uint8)))
        if out is None:
            return frames
        out.copy_(frames)
        return out

    def close(self) -> None:
        self._reader.close()


def _hwaccel(device: torch.device):
    from av.codec.hwaccel import HWAccel

    # torch owns the primary CUDA context: FFmpeg must use the current one, not create its own
    return HWAccel("cuda", device=str(device.index or 0), allow_software_fallback=False, is_hw_owned=True,
                   options={"primary_ctx": "0", "current_ctx": "1"})


class NvdecFrameDecoder:
    """H.264 decoded by the GPU's NVDEC through PyAV; frames stay on ``device`` (NV12 surfaces
    exported through DLPack) and are converted there. Raises ``OSError``/``av.FFmpegError`` when
    the file cannot be opened on the GPU, and :class:`NotOnGpu` when FFmpeg hands back frames
    in system memory (a silent software fallback); :func:`open_decoder` turns both into the
    CPU decoder with a reason."""

    def __init__(self, path: PathLike, device: torch.device) -> None:
        import av

        self.path = os.fspath(path)
        self.device = device
        self.fallback_reason = None
        with torch.cuda.device(device):
            container = av.open(self.path, mode="r", hwaccel=_hwaccel(device))
        stream = container.streams.video[0] if container.streams.video else None
        if stream is not None:
            stream.codec_context.thread_count = 1  # FFmpeg warns above 32 surfaces with threads
        self._reader = VideoReader(self.path, container=container)

    def read(self, first: int, count: int, color: str = "rgb",
             out: Optional[torch.Tensor] = None) -> torch.Tensor:
        shape = _check(color, count, self._reader.height, self._reader.width, out)
        if out is None:
            out = torch.empty(shape, dtype=torch.uint8, device=self.device)
        from torch.utils.dlpack import from_dlpack

        default = torch.cuda.default_stream(self.device)
        current = torch.cuda.current_stream(self.device)

        def handle(position: int, frame) -> None:
            if frame.format.name != "cuda":
                raise NotOnGpu(f"NVDEC returned a {frame.format.name} frame in system memory")
            default.synchronize()  # FFmpeg copies the surface on the legacy default stream
            planes = frame.planes
            luma = from_dlpack(planes[0].__dlpack__())[: frame.height, : frame.width]
            if color == "gray":
                out[position, 0] = gray_from_luma(luma)
            else:
                chroma = from_dlpack(planes[1].__dlpack__())[: (frame.height + 1) // 2, : 2 * ((frame.width + 1) // 2)]
                out[position] = rgb_from_nv12(luma, chroma)
            current.synchronize()  # the surface goes back to FFmpeg's pool when `frame` is freed

        self._reader.visit(first, count, handle)
        return out

    def close(self) -> None:
        self._reader.close()


class NotOnGpu(RuntimeError):
    """The hardware decoder handed back frames in system memory."""


def cuda_unavailable_reason(device: "torch.device | str") -> Optional[str]:
    """Why frames cannot be decoded on ``device`` with NVDEC (``None``: they may be)."""
    device = torch.device(device)
    if os.environ.get(FORCE_ENV, "").lower() == "cpu":
        return f"{FORCE_ENV}=cpu"
    if device.type != "cuda":
        return f"device {device} is not a CUDA device"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device"
    try:
        from av.codec.hwaccel import hwdevices_available
    except ImportError as exc:
        return f"this PyAV has no hardware decoding ({exc})"
    if "cuda" not in hwdevices_available():
        return "PyAV's FFmpeg lists no 'cuda' hardware device"
    return None


def open_decoder(path: PathLike, device: "torch.device | str" = "cpu") -> FrameDecoder:
    """The decoder for ``path`` on ``device``: NVDEC for a CUDA device where it works, else the
    CPU decoder with ``fallback_reason`` saying why (``None`` when the CPU was asked for)."""
    device = torch.device(device)
    if device.type == "cpu":
        return CpuFrameDecoder(path)
    reason = cuda_unavailable_reason(device)
    if reason is None:
        try:
            return NvdecFrameDecoder(path, device)
        except Exception as exc:  # noqa: BLE001 - any failure to open on the GPU means the CPU path
            reason = f"NVDEC cannot open the file: {type(exc).__name__}: {exc}"
    return CpuFrameDecoder(path, fallback_reason=reason)
