"""Padding a list of samples into a batch (SPEC §5)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import torch

from ..timeline import SAMPLES_PER_FRAME
from .sample import Batch, Sample

#: Pad value of ``tokens`` (the usual ``ignore_index``).
TOKEN_PAD = -1
LIST_KEYS = ("text", "id", "session", "speaker", "conversation")


def _round_up(value: int, multiple: Optional[int]) -> int:
    if not multiple or multiple <= 1:
        return value
    return -(-value // multiple) * multiple


class Collator:
    """Pads samples into ``video [B, Tmax, C, H, W]``, ``video_lengths [B]``, ``video_mask
    [B, Tmax]``, ``audio [B, 640 * Tmax]``, ``audio_lengths [B]`` (samples), and — when the
    samples have tokens — ``tokens [B, Lmax]`` padded with -1 and ``token_lengths [B]``.
    ``text``, ``id``, ``session``, ``speaker``, ``conversation`` (and ``start``, ``end``,
    ``frame_start``, ``frame_end``, ``index``) become lists. Samples that went through
    :class:`mcorec_torch.transforms.LogFbank` have ``audio_features [T, D]``; they are padded
    with zeros to ``audio_features [B, Tmax, D]`` (lengths are ``video_lengths``). ``None`` samples (skipped by
    ``on_error="skip"``) are dropped and counted in ``batch["num_skipped"]``.

    ``pad_to_multiple_of``: round ``Tmax`` (frames) up to a multiple of this.
    """

    def __init__(self, pad_to_multiple_of: Optional[int] = None) -> None:
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, samples: Sequence[Optional[Sample]]) -> Batch:
        kept: List[Dict[str, Any]] = [s for s in samples if s is not None]
        batch: Dict[str, Any] = {"num_skipped": len(samples) - len(kept)}
        if not kept:
            batch.update({"video": torch.zeros(0, 0, 1, 1, 1, dtype=torch.uint8),
                          "video_lengths": torch.zeros(0, dtype=torch.long),
                          "video_mask": torch.zeros(0, 0, dtype=torch.bool),
                          "audio": torch.zeros(0, 0), "audio_lengths": torch.zeros(0, dtype=torch.long)})
            batch.update({k: [] for k in LIST_KEYS})
            return batch
        lengths = [int(s["video"].shape[0]) for s in kept]
        t_max = _round_up(max(lengths), self.pad_to_multiple_of)
        first = kept[0]["video"]
        video = first.new_zeros((len(kept), t_max) + tuple(first.shape[1:]))
        mask = torch.zeros(len(kept), t_max, dtype=torch.bool)
        audio = kept[0]["audio"].new_zeros((len(kept), t_max * SAMPLES_PER_FRAME))
        audio_lengths = []
        for b, sample in enumerate(kept):
            t = lengths[b]
            if tuple(sample["video"].shape[1:]) != tuple(first.shape[1:]):
                raise ValueError(f"sample {sample.get('id')} has frames {tuple(sample['video'].shape[1:])}, "
                                 f"batch has {tuple(first.shape[1:])}: crop or resize before batching")
            video[b, :t] = sample["video"]
            mask[b, :t] = sample["video_mask"]
            n = int(sample["audio"].shape[0])
            audio[b, :n] = sample["audio"]
            audio_lengths.append(n)
        batch.update({"video": video, "video_lengths": torch.tensor(lengths, dtype=torch.long), "video_mask": mask,
                      "audio": audio, "audio_lengths": torch.tensor(audio_lengths, dtype=torch.long)})
        if all("tokens" in s for s in kept):
            token_lengths = [int(s["tokens"].shape[0]) for s in kept]
            tokens = torch.full((len(kept), max(token_lengths)), TOKEN_PAD, dtype=torch.long)
            for b, sample in enumerate(kept):
                tokens[b, : token_lengths[b]] = sample["tokens"]
            batch["tokens"] = tokens
            batch["token_lengths"] = torch.tensor(token_lengths, dtype=torch.long)
        if all("audio_features" in s for s in kept):
            dim = int(kept[0]["audio_features"].shape[1])
            features = kept[0]["audio_features"].new_zeros((len(kept), t_max, dim))
            for b, sample in enumerate(kept):
                features[b, : sample["audio_features"].shape[0]] = sample["audio_features"]
            batch["audio_features"] = features
        for key in LIST_KEYS + ("start", "end", "frame_start", "frame_end", "index"):
            if key in kept[0]:
                batch[key] = [s[key] for s in kept]
        return batch


#: The default collate function: ``DataLoader(ds, collate_fn=mcorec_torch.collate)``.
collate = Collator()
