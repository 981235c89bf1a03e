"""Batch fetching (SPEC §5): the samples of one batch decoded straight into one padded batch.

:meth:`MCoRecDataset.__getitems__ <mcorec_torch.MCoRecDataset.__getitems__>` plans the batch
from the index (each segment's :class:`~mcorec_torch.data.reader.VideoPlan` and its ``640 * T``
audio samples), allocates ``video [B, Tmax, C, H, W]``, ``video_mask [B, Tmax]`` and ``audio
[B, 640 * Tmax]`` once, and decodes each segment's frames and audio into its row through the
same :class:`~mcorec_torch.data.reader.SegmentReader` calls as ``dataset[i]``. In a DataLoader
worker the batch goes into a reused shared-memory block (:mod:`.batch_memory`; fresh shared
memory when every block is busy) and the padding is zeroed. In the main process a batch of at
least :data:`~.batch_memory.LOCAL_RING_MIN_BYTES` goes into one of the dataset's reused private
blocks (the padding zeroed); a smaller one, or one with every block busy, into zero memory from
the kernel, whose padding pages are never touched.
:class:`~mcorec_torch.data.collate.Collator` then takes these tensors as the batch: no
per-sample arrays, no second copy, no zero fill of what is written anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import torch
from torch.utils.data import get_worker_info

from ..timeline import SAMPLES_PER_FRAME
from .batch_memory import allocate_in_ring
from .collate import PaddedSamples, new_batch_tensor, round_up
from .reader import VideoPlan
from .sample import Sample
from .worker import tune_worker_process

#: An :class:`~mcorec_torch.MCoRecDataset` (not imported: the dataset imports this module).
Dataset = Any

__all__ = ["fetch_batch"]


@dataclass
class _Planned:
    """One segment of a batch before decoding: dataset item, index row, video plan and the
    sample's keys besides its media."""

    item: int
    row: int
    plan: VideoPlan
    sample: Sample


def _plan(dataset: Dataset, item: int) -> Optional[_Planned]:
    """The plan of dataset item ``item``; ``None`` when it fails and ``on_error="skip"``
    (counted), ``IndexError`` outside the dataset."""
    row = dataset._checked_row(item)
    try:
        return _Planned(item, row, dataset.reader.video_plan(row), dataset.segment_info(item))
    except Exception as exc:
        dataset.load_failed(item, exc)
        return None


def _decode_into(dataset: Dataset, planned: _Planned, video: torch.Tensor, audio: torch.Tensor) -> bool:
    """Decode ``planned``'s frames into ``video`` (``[T, C, H, W]``) and its audio into
    ``audio`` (``[640 * T]``); ``False`` when it fails and ``on_error="skip"`` (counted)."""
    try:
        dataset.reader.video(planned.row, out=video.numpy(), plan=planned.plan)
        dataset.reader.audio(planned.row, out=audio.numpy())
    except Exception as exc:
        dataset.load_failed(planned.item, exc)
        return False
    return True


def _one_by_one(dataset: Dataset, planned: Sequence[Optional[_Planned]]) -> List[Optional[Sample]]:
    """Each planned segment decoded into its own tensors (frames of differing sizes)."""
    out: List[Optional[Sample]] = []
    for entry in planned:
        if entry is None:
            out.append(None)
            continue
        frames = torch.empty(entry.plan.shape, dtype=torch.uint8)
        audio = torch.empty(entry.plan.frames * SAMPLES_PER_FRAME, dtype=torch.float32)
        if not _decode_into(dataset, entry, frames, audio):
            out.append(None)
            continue
        out.append({"video": frames, "video_mask": torch.from_numpy(entry.plan.mask), "audio": audio,
                    **entry.sample})
    return out


def _batch_tensors(dataset: Dataset, size: int, t_max: int, frame_shape: Tuple[int, ...]
                   ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
    """``(video [size, t_max, C, H, W], video_mask [size, t_max], audio [size, 640 * t_max],
    zeroed)``, the mask zero. In a block of the ring (:mod:`.batch_memory`: a worker's shared
    memory, or the dataset's own blocks in the main process) when one is free, video and audio
    uninitialised (``zeroed`` False: the caller zeroes the padding). Else fresh memory: shared
    memory in a worker, uninitialised; zero in the main process (``zeroed``: a large batch comes
    zero from the kernel, and pages only padding would touch are never touched)."""
    specs = [((size, t_max) + frame_shape, torch.uint8), ((size, t_max), torch.bool),
             ((size, t_max * SAMPLES_PER_FRAME), torch.float32)]
    in_ring = allocate_in_ring(specs, owner=dataset)
    if in_ring is not None:
        video, mask, audio = in_ring
        mask.zero_()
        return video, mask, audio, False
    zeroed = get_worker_info() is None
    return (new_batch_tensor(specs[0][0], torch.uint8, fill=zeroed), new_batch_tensor(specs[1][0], torch.bool),
            new_batch_tensor(specs[2][0], torch.float32, fill=zeroed), zeroed)


def fetch_batch(dataset: Dataset, items: Sequence[int]) -> List[Optional[Sample]]:
    """``[dataset[i] for i in items]`` with the media of the samples decoded into one padded
    batch (a :class:`~mcorec_torch.data.collate.PaddedSamples`); see the module docstring.
    Skipped samples are ``None`` (and counted) exactly as with ``dataset[i]``; when one fails
    while it is decoded, the others are still views of the batch but the list is a plain one
    (the collate function copies them into a batch of their own length)."""
    tune_worker_process()
    if dataset.transform is not None:  # a transform may change shapes: per sample, then collate
        return [dataset.fetch(i) for i in items]
    planned = [_plan(dataset, i) for i in items]
    kept = [entry for entry in planned if entry is not None]
    if not kept:
        return [None] * len(planned)
    frame_shapes = {entry.plan.shape[1:] for entry in kept}
    if len(frame_shapes) > 1:
        return _one_by_one(dataset, planned)  # collate says which sample differs
    t_max = round_up(max(entry.plan.frames for entry in kept), dataset.batch_pad_to_multiple_of)
    video, mask, audio, zeroed = _batch_tensors(dataset, len(kept), t_max, tuple(kept[0].plan.shape[1:]))
    samples: List[Optional[Sample]] = []
    failed = False
    rows = iter(range(len(kept)))
    for entry in planned:
        if entry is None:
            samples.append(None)
            continue
        b, t = next(rows), entry.plan.frames
        n = t * SAMPLES_PER_FRAME
        if not _decode_into(dataset, entry, video[b, :t], audio[b, :n]):
            failed = True
            samples.append(None)
            continue
        if not zeroed:
            video[b, t:] = 0
            audio[b, n:] = 0
        mask[b, :t] = torch.from_numpy(entry.plan.mask)
        samples.append({"video": video[b, :t], "video_mask": mask[b, :t], "audio": audio[b, :n], **entry.sample})
    if failed:  # a row holds a partly decoded segment: collate pads the others into a batch of their own
        return samples
    return PaddedSamples(samples, video, mask, audio)
