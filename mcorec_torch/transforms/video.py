"""Video transforms on ``video [T, C, H, W]`` (a sample) or ``[B, Tmax, C, H, W]`` (a batch),
time in frames (25 fps), sizes in pixels: crops, gray, normalisation, flip, time mask.

``torchvision`` (the ``train`` extra) is imported on first use by the crops, gray and flip."""
from __future__ import annotations

import math
from types import ModuleType
from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from ..timeline import FPS
from ._access import (Batch, Sample, _check_generators, _check_video, _get, _sample_valid_frames,
                      _valid_frames)
from ._checks import _check_channels, _check_int, _check_probability, _check_size
from ._optional import _require
from ._timemask import _TimeMask
from .base import Transform, _rand, _randint


def _torchvision_functional() -> ModuleType:
    """``torchvision.transforms.v2.functional``."""
    return _require("torchvision.transforms.v2.functional",
                    "the video transforms need torchvision: pip install 'mcorec_torch[train]'")


class _Crop(Transform):
    def __init__(self, size: Any = 88) -> None:
        self.size = _check_size(type(self).__name__, size)

    def _config(self) -> Dict[str, Any]:
        return {"size": list(self.size)}

    def _check_frame(self, video: torch.Tensor) -> Tuple[int, int]:
        height, width = int(video.shape[-2]), int(video.shape[-1])
        if height < self.size[0] or width < self.size[1]:
            raise ValueError(f"{type(self).__name__}: frames are {height}x{width} (HxW), smaller than the "
                             f"crop size {self.size[0]}x{self.size[1]}")
        return height, width

    @staticmethod
    def _window(video: torch.Tensor, top: int, left: int, size: Tuple[int, int]) -> torch.Tensor:
        F = _torchvision_functional()
        # a copy, so that a worker does not ship the whole uncropped storage to the main process
        return F.crop(video, top, left, size[0], size[1]).clone(memory_format=torch.contiguous_format)


class CenterCrop(_Crop):
    """Crop ``size`` pixels (int, or ``[height, width]``) from the centre of every frame — the window
    of :func:`torchvision.transforms.v2.functional.center_crop` (top ``round((H - h) / 2)``).
    Frames smaller than ``size`` are an error (nothing is padded)."""

    def _top_left(self, video: torch.Tensor) -> Tuple[int, int]:
        height, width = self._check_frame(video)
        return int(round((height - self.size[0]) / 2.0)), int(round((width - self.size[1]) / 2.0))

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "CenterCrop")
        _check_video("CenterCrop", video, 4)
        top, left = self._top_left(video)
        return {**sample, "video": self._window(video, top, left, self.size)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "CenterCrop", "batch")
        _check_video("CenterCrop", video, 5)
        top, left = self._top_left(video)
        return {**batch, "video": self._window(video, top, left, self.size)}


class RandomCrop(_Crop):
    """Crop ``size`` pixels (int, or ``[height, width]``) at a random position, the same window for
    every frame of a clip (top and left uniform among the positions where it fits). Frames smaller
    than ``size`` are an error (nothing is padded)."""

    random = True

    def _top_left(self, generator: torch.Generator, height: int, width: int) -> Tuple[int, int]:
        top = _randint(generator, 0, height - self.size[0])
        left = _randint(generator, 0, width - self.size[1])
        return top, left

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "RandomCrop")
        _check_video("RandomCrop", video, 4)
        top, left = self._top_left(generator, *self._check_frame(video))
        return {**sample, "video": self._window(video, top, left, self.size)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "RandomCrop", "batch")
        _check_video("RandomCrop", video, 5)
        _check_generators("RandomCrop", generators, video.shape[0])
        height, width = self._check_frame(video)
        F = _torchvision_functional()
        out = video.new_empty(tuple(video.shape[:3]) + self.size)
        for b, generator in enumerate(generators):
            top, left = self._top_left(generator, height, width)
            out[b] = F.crop(video[b], top, left, self.size[0], self.size[1])
        return {**batch, "video": out}


class Gray(Transform):
    """RGB frames to one gray channel with :func:`torchvision.transforms.v2.functional.rgb_to_grayscale`
    (``0.2989 R + 0.587 G + 0.114 B``, truncated back to uint8 for uint8 frames). One-channel
    frames pass unchanged. Note: ``MCoRecDataset(color="gray")`` gives the decoded luma instead
    (SPEC §8), which is not the same numbers."""

    def _gray(self, video: torch.Tensor) -> torch.Tensor:
        channels = int(video.shape[-3])
        if channels == 1:
            return video
        if channels != 3:
            raise ValueError(f"Gray: frames must have 1 or 3 channels, got {channels} (shape {tuple(video.shape)})")
        return _torchvision_functional().rgb_to_grayscale(video, num_output_channels=1)

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "Gray")
        _check_video("Gray", video, 4)
        return {**sample, "video": self._gray(video)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "Gray", "batch")
        _check_video("Gray", video, 5)
        return {**batch, "video": self._gray(video)}


class Normalize(Transform):
    """uint8 frames to float32 ``(x / 255 - mean) / std``; float frames are taken to be in
    ``[0, 1]`` already: ``(x - mean) / std``.

    ``mean`` and ``std`` are numbers or per-channel lists. The defaults 0.421 / 0.165 are the LRS3
    gray lip-ROI statistics used by auto_avsr. Padding frames (``video_mask`` False) and, on a
    batch, frames beyond ``video_lengths`` are set to 0 (the normalised mean)."""

    def __init__(self, mean: Any = 0.421, std: Any = 0.165) -> None:
        self.mean = _check_channels("Normalize", "mean", mean, minimum=-math.inf, strict=False)
        self.std = _check_channels("Normalize", "std", std, minimum=0.0, strict=True)

    def _config(self) -> Dict[str, Any]:
        simplify = (lambda v: v[0] if len(v) == 1 else list(v))
        return {"mean": simplify(self.mean), "std": simplify(self.std)}

    def _normalize(self, video: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        channels = int(video.shape[-3])
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: {name} has {len(values)} values, frames have {channels} channels")
        x = video.to(torch.float32)
        if not video.is_floating_point():
            x = x / 255.0
        mean = torch.tensor(self.mean, dtype=torch.float32, device=video.device).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=video.device).view(-1, 1, 1)
        x = (x - mean) / std
        keep = valid.view(tuple(valid.shape) + (1, 1, 1))
        return torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "Normalize")
        _check_video("Normalize", video, 4)
        return {**sample, "video": self._normalize(video, _sample_valid_frames(sample, "Normalize"))}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "Normalize", "batch")
        _check_video("Normalize", video, 5)
        return {**batch, "video": self._normalize(video, _valid_frames(batch, "Normalize"))}


class HorizontalFlip(Transform):
    """Mirror every frame left-right with probability ``p`` — one decision per clip, so either all
    frames of a clip are flipped or none."""

    random = True

    def __init__(self, p: float = 0.5) -> None:
        self.p = _check_probability("HorizontalFlip", p)

    def _config(self) -> Dict[str, Any]:
        return {"p": self.p}

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "HorizontalFlip")
        _check_video("HorizontalFlip", video, 4)
        if _rand(generator) < self.p:
            video = _torchvision_functional().horizontal_flip(video)
        return {**sample, "video": video}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "HorizontalFlip", "batch")
        _check_video("HorizontalFlip", video, 5)
        _check_generators("HorizontalFlip", generators, video.shape[0])
        flips = torch.tensor([_rand(g) < self.p for g in generators], dtype=torch.bool)
        if not bool(flips.any()):
            return dict(batch)
        flipped = _torchvision_functional().horizontal_flip(video)
        where = flips.to(video.device).view(-1, 1, 1, 1, 1)
        return {**batch, "video": torch.where(where, flipped, video)}


class VideoTimeMask(_TimeMask):
    """Replace random spans of frames by the clip's mean frame (auto_avsr's adaptive time mask).

    - number of masks: ``int(T / 25 * masks_per_second)`` for a clip of ``T`` frames, **at least
      one** for any non-empty clip (auto_avsr uses about one per second, rounded up);
      ``masks_per_second=0`` disables the transform;
    - each mask is ``0 .. max_frames`` frames long (uniform, inclusive; clipped to ``T``) and lies
      inside ``[0, T)`` (start uniform among the positions where it fits); masks may overlap;
    - fill value: the mean frame (per pixel and channel) over the clip's *valid* frames
      (``video_mask`` True, inside the length), rounded to the nearest integer for uint8 video. On
      a batch each row uses its own valid frames, so the result equals the per-sample one;
    - padding frames (``video_mask`` False) inside a mask are left as they are (zero), so they stay
      recognisable as padding; frames beyond the length are never touched.

    Works on uint8 or float video (before or after :class:`Normalize`).
    """

    _name, _key, _rate, _max_attr = "VideoTimeMask", "video", FPS, "max_frames"

    def __init__(self, max_frames: int = 10, masks_per_second: float = 1.0) -> None:
        self.max_frames = _check_int("VideoTimeMask", "max_frames", max_frames)
        super().__init__(masks_per_second)

    def _config(self) -> Dict[str, Any]:
        return {"max_frames": self.max_frames, "masks_per_second": self.masks_per_second}

    def num_masks(self, num_frames: int) -> int:
        """How many masks a clip of ``num_frames`` frames gets."""
        return self._count(num_frames)

    def _check_layout(self, data: torch.Tensor, batched: bool) -> None:
        _check_video(self._name, data, 5 if batched else 4)

    def _valid(self, data: Sample, batched: bool) -> Optional[torch.Tensor]:
        if batched:
            return _valid_frames(data, self._name)
        return _sample_valid_frames(data, self._name)[None]

    @staticmethod
    def _fill(video: torch.Tensor, valid: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        """``video [B, T, C, H, W]``, ``valid``/``spans`` ``[B, T]`` bool (spans may be on CPU)."""
        weights = valid.view(tuple(valid.shape) + (1, 1, 1))
        zero = torch.zeros((), dtype=video.dtype, device=video.device)
        count = valid.sum(1).clamp_min(1).view(-1, 1, 1, 1)
        if video.is_floating_point():
            total = torch.where(weights, video, zero).sum(1, dtype=torch.float64)
            fill = (total / count).to(video.dtype)
        else:  # integer sum: exact, so every device and padding gives the same fill
            total = torch.where(weights, video, zero).sum(1, dtype=torch.int64)
            fill = torch.round(total.double() / count).to(video.dtype)
        hit = (spans.to(video.device) & valid).view(tuple(valid.shape) + (1, 1, 1))
        return torch.where(hit, fill[:, None], video)
