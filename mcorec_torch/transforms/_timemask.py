"""What :class:`~mcorec_torch.transforms.VideoTimeMask` and
:class:`~mcorec_torch.transforms.AudioTimeMask` share: how many masks a signal gets, where they
lie, and the per-sample and per-batch paths around a fill.

The time axis is counted in ``rate`` units a second: frames (25 a second) for video, samples
(16000 a second) for audio. The subclass says which key it masks, its longest span in those units
and how masked positions are filled (mean frame, zero)."""
from __future__ import annotations

import abc
from typing import List, Optional, Sequence, Tuple

import torch

from ._access import Batch, Sample, _check_generators, _get, _row_lengths
from ._checks import _check_float
from .base import Transform, _randint


def _num_masks(length: int, rate: float, per_second: float) -> int:
    """``int(length / rate * per_second)`` masks, at least one for a non-empty signal (none when
    ``per_second`` is 0)."""
    if length <= 0 or per_second <= 0:
        return 0
    return max(1, int(length / rate * per_second))


def _draw_spans(generator: torch.Generator, length: int, count: int, max_len: int) -> List[Tuple[int, int]]:
    """``count`` spans ``[start, end)`` inside ``[0, length)``: span length uniform in
    ``[0, max_len]`` (clipped to ``length``), start uniform among the positions where it fits."""
    spans = []
    for _ in range(count):
        n = min(_randint(generator, 0, max_len), length)
        start = _randint(generator, 0, length - n)
        spans.append((start, start + n))
    return spans


def _spans_mask(rows: Sequence[Sequence[Tuple[int, int]]], width: int) -> torch.Tensor:
    """``[len(rows), width]`` bool (CPU), True inside the spans of each row."""
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for b, spans in enumerate(rows):
        for start, end in spans:
            mask[b, start:end] = True
    return mask


class _TimeMask(Transform):
    """Masks random spans of ``sample[_key]`` (axis 0; axis 1 of a batch), rows of a batch each with
    their own draws (``num_masks`` spans of ``0 .. max`` units, see :func:`_draw_spans`)."""

    random = True

    _name: str       #: the transform's name, in errors
    _key: str        #: "video" (time in frames) or "audio" (time in samples)
    _rate: int       #: units a second of the time axis (frames or samples)
    _max_attr: str   #: the attribute holding the longest mask, in units of the time axis

    def __init__(self, masks_per_second: float) -> None:
        self.masks_per_second = _check_float(self._name, "masks_per_second", masks_per_second)

    @abc.abstractmethod
    def num_masks(self, length: int) -> int:
        """How many masks a signal of ``length`` units gets (:meth:`_count`)."""

    def _count(self, length: int) -> int:
        """``int(length / _rate * masks_per_second)`` masks, at least one for ``length > 0``."""
        return _num_masks(int(length), self._rate, self.masks_per_second)

    def _spans(self, generator: torch.Generator, length: int) -> List[Tuple[int, int]]:
        return _draw_spans(generator, length, self.num_masks(length), getattr(self, self._max_attr))

    @staticmethod
    @abc.abstractmethod
    def _fill(data: torch.Tensor, valid: Optional[torch.Tensor], spans: torch.Tensor) -> torch.Tensor:
        """``data [B, L, ...]`` with the positions of ``spans [B, L]`` (bool, may be on CPU) filled;
        ``valid [B, L]`` bool marks the real positions (``None``: all are)."""

    def _check_layout(self, data: torch.Tensor, batched: bool) -> None:
        """Raise on a tensor of the wrong layout (none checked by default)."""

    def _valid(self, data: Sample, batched: bool) -> Optional[torch.Tensor]:
        """``[B, L]`` bool (``B`` = 1 for a sample) of the positions of the sample or batch ``data``
        that may be filled; ``None``: all."""
        return None

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        data = _get(sample, self._key, self._name)
        self._check_layout(data, False)
        length = int(data.shape[0])
        spans = _spans_mask([self._spans(generator, length)], length)
        return {**sample, self._key: self._fill(data[None], self._valid(sample, False), spans)[0]}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        data = _get(batch, self._key, self._name, "batch")
        self._check_layout(data, True)
        _check_generators(self._name, generators, data.shape[0])
        lengths = _row_lengths(batch, self._key, self._name)
        spans = _spans_mask([self._spans(g, n) for g, n in zip(generators, lengths)], int(data.shape[1]))
        return {**batch, self._key: self._fill(data, self._valid(batch, True), spans)}
