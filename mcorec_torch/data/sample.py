"""The shapes of what the dataset returns and the collate function builds (SPEC §4, §5)."""
from __future__ import annotations

from typing import List, TypedDict

import torch


class Sample(TypedDict, total=False):
    """One segment, ``dataset[i]`` (SPEC §4). ``T`` frames at 25 fps, ``640 * T`` samples."""

    video: torch.Tensor         # uint8 [T, C, H, W], C = 3 (rgb) or 1 (gray)
    video_mask: torch.Tensor    # bool [T], False where the frame is padding
    audio: torch.Tensor         # float32 [640 * T] in [-1, 1], 16 kHz
    text: str                   # normalized transcript
    tokens: torch.Tensor        # int64 [L], with a tokenizer
    id: str                     # "{session}/{speaker}/{F0:07d}-{F1:07d}"
    session: str
    speaker: str
    conversation: int           # -1 where unknown
    start: float                # cue start, seconds on the central timeline
    end: float                  # cue end, seconds
    frame_start: int            # F0 (central frame)
    frame_end: int              # F1
    index: int                  # the dataset index i (seeds random transforms)


class Batch(TypedDict, total=False):
    """Padded samples (SPEC §5); ``B`` samples, ``Tmax`` frames, ``Lmax`` tokens."""

    video: torch.Tensor          # uint8 [B, Tmax, C, H, W]
    video_lengths: torch.Tensor  # int64 [B], frames
    video_mask: torch.Tensor     # bool [B, Tmax]
    audio: torch.Tensor          # float32 [B, 640 * Tmax]
    audio_lengths: torch.Tensor  # int64 [B], samples
    audio_features: torch.Tensor  # float32 [B, Tmax, D], after the LogFbank transform
    tokens: torch.Tensor         # int64 [B, Lmax], padded with -1
    token_lengths: torch.Tensor  # int64 [B]
    text: List[str]
    id: List[str]
    session: List[str]
    speaker: List[str]
    conversation: List[int]
    start: List[float]
    end: List[float]
    frame_start: List[int]
    frame_end: List[int]
    index: List[int]
    num_skipped: int             # samples that were None (on_error="skip") and were dropped
