"""SPEC §8 colour on torch tensors, on any device: gray from the luma plane (bit-identical to
the CPU path) and RGB from NV12 (the GPU decoder's output), one fixed conversion that runs the
same on CPU tensors so tests pin it against the CPU path without a GPU."""
from __future__ import annotations

from typing import Dict

import torch

from ..media.color import GRAY_LUT

#: ITU-R BT.601, limited range ("TV" levels), to full-range RGB: what swscale applies to
#: untagged yuv420p (its default colourspace), as floats.
LUMA_GAIN = 255.0 / 219.0
CR_TO_R = 1.596027
CB_TO_G = -0.391762
CR_TO_G = -0.812968
CB_TO_B = 2.017232

#: The largest difference from the CPU path's RGB (swscale, fixed-point, its own rounding)
#: measured on synthetic and random pictures by tests/gpu/test_color.py.
RGB_TOLERANCE = 3

_LUTS: Dict[torch.device, torch.Tensor] = {}


def _gray_lut(device: torch.device) -> torch.Tensor:
    lut = _LUTS.get(device)
    if lut is None:
        lut = _LUTS[device] = torch.from_numpy(GRAY_LUT.copy()).to(device)
    return lut


def gray_from_luma(luma: torch.Tensor) -> torch.Tensor:
    """SPEC §8 gray of limited-range luma: ``clip(round((Y - 16) * 255 / 219))``, uint8 of the
    same shape and device (a table lookup, so bit-identical to the CPU path)."""
    if luma.dtype != torch.uint8:
        raise TypeError(f"luma must be uint8, got {luma.dtype}")
    return _gray_lut(luma.device)[luma.long()]


def rgb_from_planes(luma: torch.Tensor, cb: torch.Tensor, cr: torch.Tensor) -> torch.Tensor:
    """RGB uint8 ``[3, H, W]`` from limited-range BT.601 4:2:0 planes: ``luma [H, W]``,
    ``cb``/``cr [ceil(H/2), ceil(W/2)]``; each chroma sample covers its 2x2 pixels (as
    swscale's unscaled conversion). Float32 arithmetic, rounded to nearest, clipped."""
    height, width = int(luma.shape[-2]), int(luma.shape[-1])
    up = lambda plane: plane.repeat_interleave(2, -2).repeat_interleave(2, -1)[:height, :width]  # noqa: E731
    y = (luma.float() - 16.0) * LUMA_GAIN
    u = up(cb).float() - 128.0
    v = up(cr).float() - 128.0
    rgb = torch.stack((y + CR_TO_R * v, y + CB_TO_G * u + CR_TO_G * v, y + CB_TO_B * u))
    return rgb.round_().clamp_(0, 255).to(torch.uint8)


def rgb_from_nv12(luma: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """RGB uint8 ``[3, H, W]`` from NV12: ``luma [H, W]`` and interleaved ``chroma
    [ceil(H/2), 2 * ceil(W/2)]`` (Cb, Cr, Cb, Cr, ...), the layout NVDEC writes."""
    return rgb_from_planes(luma, chroma[..., 0::2], chroma[..., 1::2])
