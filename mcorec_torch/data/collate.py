"""Padding a list of samples into a batch (SPEC §5)."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import get_worker_info

from ..timeline import SAMPLES_PER_FRAME
from .sample import ACTIVITY_KEYS, ACTIVITY_SPEAKERS, Batch, Sample

#: Pad value of ``tokens`` (the usual ``ignore_index``).
TOKEN_PAD = -1
LIST_KEYS = ("text", "id", "session", "speaker", "conversation")
#: Keys a sample may or may not hold that a batch holds only when every sample does; a batch whose
#: samples differ in one of them is refused (``ValueError``), not built without it.
OPTIONAL_KEYS = LIST_KEYS + ("tokens", "audio_features", "start", "end", "frame_start", "frame_end", "index", "track",
                             ACTIVITY_SPEAKERS)
#: numpy dtypes of the tensors a batch holds.
_NUMPY_DTYPES = {torch.uint8: np.uint8, torch.bool: np.bool_, torch.float32: np.float32, torch.float64: np.float64,
                 torch.int64: np.int64, torch.int32: np.int32, torch.float16: np.float16}


def to_device(batch: Batch, device: "torch.device | str") -> Batch:
    """``batch`` with its tensors on ``device`` (copied without blocking where the memory is
    pinned); other values as they are."""
    return {k: (v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}


def new_batch_tensor(shape: Tuple[int, ...], dtype: torch.dtype, fill: bool = True) -> torch.Tensor:
    """A tensor of ``shape`` (zeros when ``fill``; uninitialised otherwise, for a caller that
    writes every element). In a DataLoader worker its storage is
    allocated in shared memory, as torch's ``default_collate`` does, so handing the batch to
    the main process copies no bytes (otherwise torch copies every tensor into shared memory
    on the way out)."""
    if get_worker_info() is None:
        numpy_dtype = _NUMPY_DTYPES.get(dtype)
        if numpy_dtype is None:
            return torch.zeros(shape, dtype=dtype) if fill else torch.empty(shape, dtype=dtype)
        # numpy's allocator asks for transparent huge pages on large arrays (Linux): a fresh
        # face/rgb batch then costs a fault per 2 MiB instead of per 4 KiB page (performance.md)
        return torch.from_numpy((np.zeros if fill else np.empty)(shape, dtype=numpy_dtype))
    template = torch.empty(0, dtype=dtype)
    storage = template._typed_storage()._new_shared(max(math.prod(shape), 1), device=template.device)
    out = template.new(storage).resize_(*shape) if math.prod(shape) else torch.empty(shape, dtype=dtype)
    if fill:
        out.zero_()
    return out


def _frames(sample: Sample) -> int:
    """Frames of a sample: of its ``video``, or of its ``video_plan`` (frames not decoded yet)."""
    plan = sample.get("video_plan")
    return int(plan.frames) if plan is not None else int(sample["video"].shape[0])


def _frame_shape(sample: Sample) -> Tuple[int, ...]:
    """``(C, H, W)`` of a sample's frames (decoded or planned)."""
    plan = sample.get("video_plan")
    return tuple(plan.shape[1:]) if plan is not None else tuple(sample["video"].shape[1:])


def round_up(value: int, multiple: Optional[int]) -> int:
    """``value`` rounded up to a multiple of ``multiple`` (``None`` or 1: unchanged)."""
    if not multiple or multiple <= 1:
        return value
    return -(-value // multiple) * multiple


class PaddedSamples(list):
    """A list of samples (what a DataLoader hands its ``collate_fn``) whose ``video``,
    ``video_mask`` and ``audio`` are views of rows of one padded batch: ``video [B, Tmax, C, H,
    W]`` (zero past each sample's frames), ``video_mask [B, Tmax]`` and ``audio [B, 640 * Tmax]``
    (zero past each sample's samples), as :meth:`MCoRecDataset.__getitems__` decodes them
    (``None`` entries, samples skipped by ``on_error="skip"``, have no row).
    :class:`Collator` takes these tensors as the batch instead of copying the samples into new
    ones when they fit (every sample in place, the same ``Tmax``); any other ``collate_fn``
    sees an ordinary list of samples."""

    def __init__(self, samples: Sequence[Optional[Sample]], video: torch.Tensor, video_mask: torch.Tensor,
                 audio: torch.Tensor) -> None:
        super().__init__(samples)
        self.video, self.video_mask, self.audio = video, video_mask, audio

    def batch_of(self, kept: Sequence[Sample], t_max: int) -> Optional[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """``(video, video_mask, audio)`` when they are the padded batch of ``kept`` (the samples
        of this list that are not ``None``, each still a view of its row) with ``t_max``
        frames; else ``None``."""
        if tuple(self.video.shape[:2]) != (len(kept), t_max):
            return None
        for b, sample in enumerate(kept):
            for key, batch in (("video", self.video), ("video_mask", self.video_mask), ("audio", self.audio)):
                value = sample.get(key)
                if not isinstance(value, torch.Tensor) or value.data_ptr() != batch[b].data_ptr():
                    return None
        return self.video, self.video_mask, self.audio


class Collator:
    """Pads samples into ``video [B, Tmax, C, H, W]``, ``video_lengths [B]``, ``video_mask
    [B, Tmax]``, ``audio [B, 640 * Tmax]``, ``audio_lengths [B]`` (samples), and — when the
    samples have tokens — ``tokens [B, Lmax]`` padded with -1 and ``token_lengths [B]``.
    ``text``, ``id``, ``session``, ``speaker``, ``conversation`` (and ``start``, ``end``,
    ``frame_start``, ``frame_end``, ``index``, ``activity_speakers``) become lists. Who speaks when
    (the ``activity`` option) is padded to ``activity [B, Tmax, Smax]`` (False past a sample's
    ``T`` and ``S``), ``stno [B, Tmax, 4]`` (silence ``(1, 0, 0, 0)`` past its ``T``) and
    ``activity_scores [B, Tmax, Smax]`` (0 past them). Samples that went through
    :class:`mcorec_torch.transforms.LogFbank` have ``audio_features [T, D]``; they are padded
    with zeros to ``audio_features [B, Tmax, D]`` (lengths are ``video_lengths``). ``None`` samples (skipped by
    ``on_error="skip"``) are dropped and counted in ``batch["num_skipped"]``.

    Samples loaded with ``video=False`` (:meth:`MCoRecDataset.fetch`) carry a ``video_plan``
    instead of frames: the batch then has ``video_plans`` (a list) and ``video_shape``
    ``(B, Tmax, C, H, W)`` instead of ``video``, for the GPU stage to decode (SPEC §8).

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
        _check_same_keys(kept)
        planned = "video_plan" in kept[0]  # frames left for the GPU stage (SPEC §8)
        if any(("video_plan" in s) != planned for s in kept):
            raise ValueError("a batch mixes samples with decoded video and samples with a video_plan")
        lengths = [_frames(s) for s in kept]
        t_max = round_up(max(lengths), self.pad_to_multiple_of)
        frame_shape = _frame_shape(kept[0])
        padded = samples.batch_of(kept, t_max) if isinstance(samples, PaddedSamples) and not planned else None
        if padded is not None:  # decoded in place by MCoRecDataset.__getitems__: nothing to copy
            video, mask, audio = padded
            audio_lengths = [int(s["audio"].shape[0]) for s in kept]
        else:
            video, mask, audio, audio_lengths = self._pad_media(kept, lengths, t_max, frame_shape, planned)
        if planned:
            batch["video_plans"] = [s["video_plan"] for s in kept]
            batch["video_shape"] = (len(kept), t_max) + frame_shape
        else:
            batch["video"] = video
        batch.update({"video_lengths": torch.tensor(lengths, dtype=torch.long), "video_mask": mask,
                      "audio": audio, "audio_lengths": torch.tensor(audio_lengths, dtype=torch.long)})
        if all("tokens" in s for s in kept):
            token_lengths = [int(s["tokens"].shape[0]) for s in kept]
            tokens = new_batch_tensor((len(kept), max(token_lengths)), torch.long, fill=False).fill_(TOKEN_PAD)
            for b, sample in enumerate(kept):
                tokens[b, : token_lengths[b]] = sample["tokens"]
            batch["tokens"] = tokens
            batch["token_lengths"] = torch.tensor(token_lengths, dtype=torch.long)
        if all("audio_features" in s for s in kept):
            dim = int(kept[0]["audio_features"].shape[1])
            features = new_batch_tensor((len(kept), t_max, dim), kept[0]["audio_features"].dtype)
            for b, sample in enumerate(kept):
                features[b, : sample["audio_features"].shape[0]] = sample["audio_features"]
            batch["audio_features"] = features
        batch.update(_pad_activity(kept, lengths, t_max))
        for key in LIST_KEYS + ("start", "end", "frame_start", "frame_end", "index", "track", ACTIVITY_SPEAKERS):
            if key in kept[0]:  # then in every sample (_check_same_keys)
                batch[key] = [s[key] for s in kept]
        return batch

    @staticmethod
    def _pad_media(kept: Sequence[Sample], lengths: Sequence[int], t_max: int, frame_shape: Tuple[int, ...],
                   planned: bool) -> Tuple[Optional[torch.Tensor], torch.Tensor, torch.Tensor, List[int]]:
        """``(video, video_mask, audio, audio_lengths)``: the samples' media copied into new
        padded tensors (``video`` is ``None`` for planned samples)."""
        # video and audio are written whole below (samples, then zero padding): no zero-fill first
        video = None if planned else new_batch_tensor((len(kept), t_max) + frame_shape, kept[0]["video"].dtype,
                                                      fill=False)
        mask = new_batch_tensor((len(kept), t_max), torch.bool)
        audio = new_batch_tensor((len(kept), t_max * SAMPLES_PER_FRAME), kept[0]["audio"].dtype, fill=False)
        audio_lengths = []
        for b, sample in enumerate(kept):
            t = lengths[b]
            if _frame_shape(sample) != frame_shape:
                raise ValueError(f"sample {sample.get('id')} has frames {_frame_shape(sample)}, "
                                 f"batch has {frame_shape}: crop or resize before batching")
            if video is not None:
                video[b, :t] = sample["video"]
                video[b, t:] = 0
            mask[b, :t] = sample["video_mask"]
            n = int(sample["audio"].shape[0])
            audio[b, :n] = sample["audio"]
            audio[b, n:] = 0
            audio_lengths.append(n)
        return video, mask, audio, audio_lengths


def _check_same_keys(kept: Sequence[Sample]) -> None:
    """``ValueError`` naming the first :data:`OPTIONAL_KEYS` key that some samples hold and others
    do not (e.g. transcript segments, with ``text``, batched with unlabeled chunks, with ``track``)."""
    for key in OPTIONAL_KEYS:
        holding = [key in sample for sample in kept]
        if any(holding) and not all(holding):
            with_key = next(s.get("id") for s, has in zip(kept, holding) if has)
            without = next(s.get("id") for s, has in zip(kept, holding) if not has)
            raise ValueError(f"samples of one batch differ in {key!r}: {with_key} holds it, {without} does not "
                             "(a batch mixes datasets of different kinds or options: batch them apart)")


def _pad_activity(kept: Sequence[Sample], lengths: Sequence[int], t_max: int) -> Dict[str, torch.Tensor]:
    """The samples' who-speaks-when tensors (:data:`~.sample.ACTIVITY_KEYS`, ``[T, S]`` or ``[T, 4]``)
    padded to ``[B, Tmax, Smax]`` / ``[B, Tmax, 4]``: ``activity`` False and ``activity_scores`` 0
    past a sample's ``T`` frames and ``S`` speakers, ``stno`` silence ``(1, 0, 0, 0)`` past its
    ``T``. ``ValueError`` when the samples do not all hold the same keys or a tensor's ``T`` is not
    its sample's frame count."""
    present = [key for key in ACTIVITY_KEYS if key in kept[0]]
    out: Dict[str, torch.Tensor] = {}
    for sample, t in zip(kept, lengths):
        if [key for key in ACTIVITY_KEYS if key in sample] != present:
            raise ValueError(f"sample {sample.get('id')} holds {[k for k in ACTIVITY_KEYS if k in sample]} of the "
                             f"activity keys, the batch's first {present}: a batch mixes datasets with different "
                             "activity options")
        for key in present:
            if int(sample[key].shape[0]) != t:
                raise ValueError(f"sample {sample.get('id')}: {key} has {int(sample[key].shape[0])} frames, its video "
                                 f"{t} (a transform that changes T must change {key} too)")
    for key in present:
        widths = {int(s[key].shape[1]) for s in kept}
        width = max(widths)
        padded = new_batch_tensor((len(kept), t_max, width), kept[0][key].dtype)
        for b, sample in enumerate(kept):
            value = sample[key]
            padded[b, : value.shape[0], : value.shape[1]] = value
            if key == "stno":
                padded[b, value.shape[0]:, 0] = 1  # silence
        out[key] = padded
    return out


#: The default collate function: ``DataLoader(ds, collate_fn=mcorec_torch.collate)``.
collate = Collator()
