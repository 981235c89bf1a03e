"""Startup self-test of the GPU path: NVDEC luma must equal the CPU decoder's luma on a few
frames (H.264 luma decoding is exact, SPEC §8), else the run decodes on the CPU."""
from __future__ import annotations

from typing import Optional

import torch

from .decoders import CpuFrameDecoder, NvdecFrameDecoder

#: frames compared: the first ones of the file (a keyframe, then P/B frames)
SELF_TEST_FRAMES = 8


def luma_self_test(path: str, device: torch.device, frames: int = SELF_TEST_FRAMES) -> Optional[str]:
    """``None`` if gray frames ``0 .. frames-1`` of ``path`` decoded by NVDEC on ``device``
    equal the CPU decoder's byte for byte; else the reason (also when NVDEC cannot open it or
    hands back frames in system memory)."""
    try:
        gpu = NvdecFrameDecoder(path, device)
    except Exception as exc:  # noqa: BLE001 - any failure means: do not use the GPU path
        return f"self-test: NVDEC cannot open {path}: {type(exc).__name__}: {exc}"
    cpu = CpuFrameDecoder(path)
    try:
        got = gpu.read(0, frames, "gray").cpu()
        want = cpu.read(0, frames, "gray")
    except Exception as exc:  # noqa: BLE001
        return f"self-test: decoding {path} on the GPU failed: {type(exc).__name__}: {exc}"
    finally:
        gpu.close()
        cpu.close()
    if not torch.equal(got, want):
        differ = [k for k in range(frames) if not torch.equal(got[k], want[k])]
        return f"self-test: GPU luma differs from CPU luma on frames {differ} of {path}"
    return None
