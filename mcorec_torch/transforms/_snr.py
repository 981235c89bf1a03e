"""Adding a signal to the audio at an SNR (dB): the gain (:func:`_scale_to_snr`) and the per-sample
and per-batch paths around a per-row draw (:class:`_AddAtSnr`), shared by
:class:`~mcorec_torch.transforms.AddNoise` and :class:`~mcorec_torch.transforms.InterferingSpeech`.
Time in samples (16 kHz)."""
from __future__ import annotations

import abc
from typing import Any, List, Optional, Sequence, Tuple

import torch

from ._access import Batch, Sample, _audio_lengths, _check_generators, _get, _padded_rows
from .base import Transform


def _scale_to_snr(target: torch.Tensor, added: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """Gain per row (``[..., L]`` → ``[...]``) so that ``energy(target) / energy(gain * added)`` is
    ``snr_db``. Energies are sums over the row (padding is zero in both), in float64. A silent
    target or a silent ``added`` gives gain 0 (nothing is added, no NaN)."""
    e_target = target.double().pow(2).sum(-1)
    e_added = added.double().pow(2).sum(-1)
    ratio = e_target / (e_added * torch.pow(10.0, snr_db.double() / 10.0))
    gain = torch.where(e_added > 0, ratio, torch.zeros_like(ratio)).sqrt()
    return gain.to(target.dtype)


class _AddAtSnr(Transform):
    """Adds to ``audio`` a signal drawn per sample by :meth:`_draw`, scaled so that
    ``10 log10(E_audio / E_added) == snr`` over the row (:func:`_scale_to_snr`); a row whose draw
    is ``None`` is unchanged. On a batch each row is drawn with its own generator, ``audio_lengths``
    samples long, and the padding stays zero."""

    random = True

    _name: str  #: the transform's name, in errors

    @abc.abstractmethod
    def _draw(self, generator: torch.Generator, index: Any, length: int) -> Tuple[Optional[torch.Tensor], float]:
        """The unscaled signal ``[length]`` samples (CPU float32; ``None``: unchanged) and the SNR (dB)
        for the sample of dataset index ``index`` (``None`` where not known)."""

    def _batch_indices(self, batch: Batch, rows: int) -> Sequence[Any]:
        """The dataset index of each of ``rows`` rows, as :meth:`_draw` wants it (by default none)."""
        return [None] * rows

    def _draw_with_source(self, generator: torch.Generator, index: Any, length: int
                          ) -> Tuple[Optional[torch.Tensor], float, Any]:
        """:meth:`_draw` and where the signal came from, for :meth:`_added_keys` (by default nothing)."""
        added, snr = self._draw(generator, index, length)
        return added, snr, None

    def _added_keys(self, keys: Sample, index: Any, source: Any, row: Optional[int] = None) -> Sample:
        """The keys besides ``audio`` that adding the signal of ``source`` changes, for the sample
        of dataset index ``index`` (``keys``: the sample, or with ``row`` the batch and its row);
        by default none (``{}``). Called only where the signal was added (gain above 0)."""
        return {}

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        audio = _get(sample, "audio", self._name)
        added, snr, source = self._draw_with_source(generator, sample.get("index"), int(audio.shape[0]))
        if added is None:
            return dict(sample)
        added = added.to(audio.device, audio.dtype)
        gain = _scale_to_snr(audio, added, torch.tensor(snr, dtype=torch.float64, device=audio.device))
        changed = self._added_keys(sample, sample.get("index"), source) if bool(gain > 0) else {}
        return {**sample, "audio": audio + gain * added, **changed}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        audio = _get(batch, "audio", self._name, "batch")
        _check_generators(self._name, generators, audio.shape[0])
        lengths: List[int] = _audio_lengths(batch, self._name)
        indices = self._batch_indices(batch, len(lengths))
        draws = [self._draw_with_source(g, i, n) for g, i, n in zip(generators, indices, lengths)]
        if all(added is None for added, _, _ in draws):
            return dict(batch)
        added = _padded_rows([d[0] for d in draws], int(audio.shape[1]), torch.float32)
        added = added.to(audio.device, audio.dtype)
        snr = torch.tensor([d[1] for d in draws], dtype=torch.float64, device=audio.device)
        gain = _scale_to_snr(audio, added, snr)
        out = {**batch, "audio": audio + gain[:, None] * added}
        for row, (index, (_, _, source), mixed) in enumerate(zip(indices, draws, (gain > 0).tolist())):
            if mixed and source is not None:
                out.update(self._added_keys(out, index, source, row))
        return out
