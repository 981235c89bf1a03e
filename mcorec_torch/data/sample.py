"""The shapes of what the dataset returns and the collate function builds (SPEC §4, §5)."""
from __future__ import annotations

from typing import List, Tuple, TypedDict

import torch

#: The tensor keys of who speaks when (SPEC §4, the ``activity`` option), time-major (``[T, ...]``
#: in a sample, ``[B, Tmax, ...]`` in a batch): ``activity`` bool ``[T, S]`` (the target in column
#: 0), ``stno`` float32 ``[T, 4]`` (silence, target, non-target, overlap) and, with
#: ``activity="asd"``, ``activity_scores`` float32 ``[T, S]``. A sample holds those its source gives.
ACTIVITY_KEYS: Tuple[str, ...] = ("activity", "stno", "activity_scores")
#: The key naming the columns of ``activity`` and ``activity_scores`` (a list of speaker names,
#: the target first; in a batch a list of such lists).
ACTIVITY_SPEAKERS = "activity_speakers"


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
    activity: torch.Tensor      # bool [T, S], with the activity option: who speaks at each frame
    activity_speakers: List[str]  # the S columns of activity: the target, then the others by name
    stno: torch.Tensor          # float32 [T, 4] one-hot: silence, target, non-target, overlap
    activity_scores: torch.Tensor  # float32 [T, S], activity="asd": ASD scores, 0 where none


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
    activity: torch.Tensor       # bool [B, Tmax, Smax], False past a sample's T and S
    activity_speakers: List[List[str]]
    stno: torch.Tensor           # float32 [B, Tmax, 4], silence (1, 0, 0, 0) past a sample's T
    activity_scores: torch.Tensor  # float32 [B, Tmax, Smax], 0 past a sample's T and S
    num_skipped: int             # samples that were None (on_error="skip") and were dropped
