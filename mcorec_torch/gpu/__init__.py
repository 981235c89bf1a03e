"""GPU decoding of the crop streams (SPEC §8): decoders behind one interface (PyAV on the CPU,
NVDEC through PyAV), SPEC §8 colour in torch, and :class:`GpuBatchLoader`, which decodes each
batch's video in the training process while DataLoader workers load the rest."""
from .color import RGB_TOLERANCE, gray_from_luma, rgb_from_nv12, rgb_from_planes
from .decoders import (FORCE_ENV, CpuFrameDecoder, FrameDecoder, NotOnGpu, NvdecFrameDecoder,
                       cuda_unavailable_reason, open_decoder)
from .loader import GpuBatchLoader
from .selftest import luma_self_test

__all__ = ["GpuBatchLoader", "FrameDecoder", "CpuFrameDecoder", "NvdecFrameDecoder", "NotOnGpu", "open_decoder",
           "cuda_unavailable_reason", "luma_self_test", "gray_from_luma", "rgb_from_nv12", "rgb_from_planes",
           "RGB_TOLERANCE", "FORCE_ENV"]
