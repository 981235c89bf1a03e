"""Features: AV-HuBERT-style log mel filterbanks of the audio, stacked to the video frame rate
(25 fps) in ``audio_features``.

``torchaudio`` (the ``train`` extra) is imported on first use."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Dict, Optional, Sequence

import torch

from ..checks import check_flag
from ..timeline import SAMPLE_RATE, SAMPLES_PER_FRAME
from ._access import Batch, Sample, _audio_lengths, _get, _video_lengths
from ._checks import _check_float, _check_int
from ._optional import _require
from .base import Transform


def _kaldi() -> ModuleType:
    """``torchaudio.compliance.kaldi``."""
    return _require("torchaudio.compliance.kaldi", "LogFbank needs torchaudio: pip install 'mcorec_torch[train]'")


class LogFbank(Transform):
    """AV-HuBERT-style log mel filterbank features at the video frame rate, in ``audio_features``.

    :func:`torchaudio.compliance.kaldi.fbank` on the (transformed) audio times ``scale``
    (default 32768: Kaldi and AV-HuBERT read 16-bit integers), with ``n_mels`` bins, 25 ms windows
    every 10 ms at 16 kHz, ``dither=0`` and Kaldi's other defaults (povey window, pre-emphasis
    0.97, DC removal, ``snip_edges``). That gives ``4 T - 2`` frames for ``640 T`` samples; the
    last frame is repeated (or frames trimmed) to exactly ``stack * T`` 10 ms frames, and every
    ``stack`` consecutive frames are concatenated: ``audio_features`` float32 ``[T, stack * n_mels]``
    (``T`` = video frames, ``stack=4`` → 25 fps).

    ``normalize=True``: per-utterance mean/variance normalisation of each feature dimension over
    the ``T`` frames (population variance, epsilon 1e-5). AV-HuBERT instead layer-normalises each
    frame; use ``normalize=False`` and do that in the model if you want its exact recipe.

    ``audio`` is kept. On a batch, row ``b`` uses ``audio[b, :audio_lengths[b]]`` and
    ``video_lengths[b]`` frames; the output is ``[B, Tmax, D]`` with zeros beyond the length.
    """

    def __init__(self, n_mels: int = 26, stack: int = 4, normalize: bool = True, scale: float = 32768.0) -> None:
        self.n_mels = _check_int("LogFbank", "n_mels", n_mels, minimum=1)
        self.stack = _check_int("LogFbank", "stack", stack, minimum=1)
        self.normalize = check_flag("normalize", normalize, owner="LogFbank")
        self.scale = _check_float("LogFbank", "scale", scale, strict=True)

    def _config(self) -> Dict[str, Any]:
        return {"n_mels": self.n_mels, "stack": self.stack, "normalize": self.normalize, "scale": self.scale}

    @property
    def dim(self) -> int:
        """Feature size ``stack * n_mels``."""
        return self.stack * self.n_mels

    def features(self, audio: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``[num_frames, stack * n_mels]`` float32 from 1-d ``audio`` (on its device)."""
        wanted = self.stack * int(num_frames)
        waveform = audio.reshape(1, -1).to(torch.float32) * self.scale
        if waveform.shape[1] >= 400:  # one 25 ms window
            fbank = _kaldi().fbank(waveform, num_mel_bins=self.n_mels, frame_length=25.0, frame_shift=10.0,
                                   sample_frequency=float(SAMPLE_RATE), dither=0.0)
        else:
            fbank = waveform.new_zeros(0, self.n_mels)
        if fbank.shape[0] == 0:
            fbank = waveform.new_zeros(wanted, self.n_mels)
        elif fbank.shape[0] < wanted:
            fbank = torch.cat([fbank, fbank[-1:].expand(wanted - fbank.shape[0], -1)])
        feats = fbank[:wanted].reshape(int(num_frames), self.dim)
        if self.normalize and num_frames > 0:
            mean = feats.mean(0, keepdim=True)
            var = feats.var(0, unbiased=False, keepdim=True)
            feats = (feats - mean) / torch.sqrt(var + 1e-5)
        return feats.contiguous()

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        audio = _get(sample, "audio", "LogFbank")
        if "video" in sample:
            frames = int(sample["video"].shape[0])
        else:
            frames = -(-int(audio.shape[0]) // SAMPLES_PER_FRAME)
        return {**sample, "audio_features": self.features(audio, frames)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        audio = _get(batch, "audio", "LogFbank", "batch")
        audio_lengths = _audio_lengths(batch, "LogFbank")
        if "video" in batch:
            t_max = int(batch["video"].shape[1])
            frames = _video_lengths(batch, "LogFbank")
        else:
            t_max = -(-int(audio.shape[1]) // SAMPLES_PER_FRAME)
            frames = [-(-n // SAMPLES_PER_FRAME) for n in audio_lengths]
        out = torch.zeros(int(audio.shape[0]), t_max, self.dim, dtype=torch.float32, device=audio.device)
        for b, (n, t) in enumerate(zip(audio_lengths, frames)):
            out[b, :t] = self.features(audio[b, :n], t)
        return {**batch, "audio_features": out}
