"""Audio transforms on ``audio [L]`` (a sample) or ``[B, Lmax]`` with ``audio_lengths`` (a batch),
time in samples (16 kHz) unless an argument says seconds, levels in dB: time mask, noise at an SNR."""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch

from ..timeline import SAMPLE_RATE
from ._checks import _check_float, _check_probability, _check_range
from ._snr import _AddAtSnr
from ._timemask import _TimeMask
from .base import _rand, _uniform


class AudioTimeMask(_TimeMask):
    """Set random spans of the audio to zero.

    Number of masks: ``int(L / 16000 * masks_per_second)`` for ``L`` samples, at least one for
    non-empty audio (``masks_per_second=0`` disables it). Each span is ``0 .. round(max_seconds *
    16000)`` samples long (uniform, inclusive; clipped to ``L``) and lies inside ``[0, L)``."""

    _name, _key, _rate, _max_attr = "AudioTimeMask", "audio", SAMPLE_RATE, "max_samples"

    def __init__(self, max_seconds: float = 0.4, masks_per_second: float = 1.0) -> None:
        self.max_seconds = _check_float("AudioTimeMask", "max_seconds", max_seconds)
        super().__init__(masks_per_second)
        self.max_samples = int(round(self.max_seconds * SAMPLE_RATE))

    def _config(self) -> Dict[str, Any]:
        return {"max_seconds": self.max_seconds, "masks_per_second": self.masks_per_second}

    def num_masks(self, num_samples: int) -> int:
        """How many masks audio of ``num_samples`` samples gets."""
        return self._count(num_samples)

    @staticmethod
    def _fill(audio: torch.Tensor, valid: Optional[torch.Tensor], spans: torch.Tensor) -> torch.Tensor:
        return torch.where(spans.to(audio.device), torch.zeros((), dtype=audio.dtype, device=audio.device), audio)


class AddNoise(_AddAtSnr):
    """Add white Gaussian noise with probability ``p`` at an SNR (dB) drawn uniformly from
    ``snr_db = [low, high]`` (a single number means that SNR).

    The SNR is exact over the valid samples: signal and noise energies are measured on
    ``[0, L)`` and the noise is scaled to match, so ``10 log10(E_signal / E_noise) == snr``.
    Silent audio stays silent (the noise gain is 0), padding stays zero."""

    _name = "AddNoise"

    def __init__(self, snr_db: Any = (5.0, 20.0), p: float = 1.0) -> None:
        self.snr_db = _check_range("AddNoise", "snr_db", snr_db)
        self.p = _check_probability("AddNoise", p)

    def _config(self) -> Dict[str, Any]:
        return {"snr_db": list(self.snr_db), "p": self.p}

    def _draw(self, generator: torch.Generator, index: Any, length: int) -> Tuple[Optional[torch.Tensor], float]:
        """The unscaled noise (``None`` when not applied) and the SNR."""
        apply = _rand(generator) < self.p
        snr = _uniform(generator, self.snr_db)
        if not apply or length == 0:
            return None, snr
        return torch.randn(length, generator=generator), snr
