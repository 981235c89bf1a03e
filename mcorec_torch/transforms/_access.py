"""Reading the sample and batch dicts of the transforms (errors name the missing key), and
building padded ``[B, width]`` rows.

A sample has ``video [T, C, H, W]``, ``video_mask [T]``, ``audio [640 * T]`` (T in frames, audio
in samples); a batch has them padded to ``[B, Tmax, ...]`` / ``[B, 640 * Tmax]`` with
``video_lengths`` (frames) and ``audio_lengths`` (samples)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import torch

Sample = Dict[str, Any]
Batch = Dict[str, Any]


def _get(data: Dict[str, Any], key: str, owner: str, what: str = "sample") -> Any:
    if key not in data:
        raise KeyError(f"{owner} needs {what}[{key!r}], which is missing (keys: {sorted(data)})")
    return data[key]


def _row_lengths(batch: Batch, key: str, owner: str) -> List[int]:
    """``batch[key + "_lengths"]`` as ints: frames for ``video``, samples for ``audio``."""
    return [int(n) for n in _get(batch, f"{key}_lengths", owner, "batch").tolist()]


def _video_lengths(batch: Batch, owner: str) -> List[int]:
    return _row_lengths(batch, "video", owner)


def _audio_lengths(batch: Batch, owner: str) -> List[int]:
    return _row_lengths(batch, "audio", owner)


def _check_generators(owner: str, generators: Sequence[Any], rows: int) -> None:
    if len(generators) != rows:
        raise ValueError(f"{owner}: got {len(generators)} generators for a batch of {rows} rows")


def _valid_frames(batch: Batch, owner: str) -> torch.Tensor:
    """``[B, Tmax]`` bool: frames that are real (``video_mask``) and inside ``video_lengths``."""
    video = _get(batch, "video", owner, "batch")
    lengths = _get(batch, "video_lengths", owner, "batch").to(video.device)
    inside = torch.arange(video.shape[1], device=video.device)[None, :] < lengths[:, None]
    mask = batch.get("video_mask")
    return inside if mask is None else inside & mask.to(video.device, torch.bool)


def _sample_valid_frames(sample: Sample, owner: str) -> torch.Tensor:
    video = _get(sample, "video", owner)
    mask = sample.get("video_mask")
    if mask is None:
        return torch.ones(video.shape[0], dtype=torch.bool, device=video.device)
    return mask.to(video.device, torch.bool)


def _check_video(owner: str, video: torch.Tensor, dims: int) -> None:
    if video.dim() != dims:
        layout = "[T, C, H, W]" if dims == 4 else "[B, T, C, H, W]"
        raise ValueError(f"{owner}: video must be {layout}, got shape {tuple(video.shape)}")


def _padded_rows(rows: Sequence[Optional[torch.Tensor]], width: int, dtype: torch.dtype) -> torch.Tensor:
    """Stack 1-d CPU tensors (``None`` = all zero) into ``[len(rows), width]``, zero padded."""
    out = torch.zeros(len(rows), width, dtype=dtype)
    for b, row in enumerate(rows):
        if row is not None:
            out[b, : row.shape[0]] = row
    return out
