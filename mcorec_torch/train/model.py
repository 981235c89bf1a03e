"""A small audio-visual CTC model for ``scripts/train_avsr.py`` (a working example, not a
state-of-the-art recogniser).

* video: ``[B, T, C, H, W]`` normalized frames → average-pool by ``video_downsample`` → a
  3D-conv stem (3 frames x 5x5, stride 2 in space) → 2D residual blocks per frame
  (stride 2 each) → spatial average → ``d_model`` per frame (25 per second);
* audio: ``audio_features [B, T, D]`` (:class:`mcorec_torch.transforms.LogFbank`, 25 per
  second) through a two-layer MLP, or the raw 16 kHz waveform ``[B, 640 T]`` through strided
  1-D convolutions (total stride 640 samples = one video frame);
* fusion: concatenation and a linear layer (``modality_dropout`` zeroes one modality of a
  training sample at random);
* encoder: :class:`torchaudio.models.Conformer`; head: per-frame logits over the tokenizer's
  units plus the CTC blank.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["AVSRModel", "ctc_greedy_decode", "ctc_loss"]


class _ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x))


class VideoFrontend(nn.Module):
    """``[B, T, C, H, W]`` float frames → ``[B, T, d_model]``."""

    def __init__(self, in_channels: int, channels: Sequence[int], d_model: int, downsample: int) -> None:
        super().__init__()
        self.downsample = int(downsample)
        self.stem = nn.Sequential(
            nn.Conv3d(in_channels, channels[0], (3, 5, 5), (1, 2, 2), (1, 2, 2), bias=False),
            nn.BatchNorm3d(channels[0]), nn.ReLU())
        self.blocks = nn.Sequential(*[_ResBlock(channels[i - 1], channels[i], 2) for i in range(1, len(channels))])
        self.proj = nn.Linear(channels[-1], d_model)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = video.shape
        x = video.reshape(b * t, c, h, w)
        if self.downsample > 1:
            x = F.avg_pool2d(x, self.downsample)
        x = x.reshape(b, t, c, x.shape[-2], x.shape[-1]).transpose(1, 2)  # B, C, T, H, W
        x = self.stem(x)
        x = x.transpose(1, 2).reshape(b * t, x.shape[1], x.shape[-2], x.shape[-1])
        x = self.blocks(x).mean(dim=(2, 3))
        return self.proj(x.reshape(b, t, -1))


class WaveformFrontend(nn.Module):
    """``[B, 640 T]`` 16 kHz samples → ``[B, T, d_model]`` (strides 5*4*4*8 = 640)."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        cin = 1
        for cout, kernel, stride in ((32, 10, 5), (64, 8, 4), (64, 8, 4), (d_model, 8, 8)):
            layers += [nn.Conv1d(cin, cout, kernel, stride, padding=(kernel - stride) // 2), nn.GroupNorm(1, cout),
                       nn.GELU()]
            cin = cout
        self.net = nn.Sequential(*layers)

    def forward(self, audio: torch.Tensor, num_frames: int) -> torch.Tensor:
        x = self.net(audio.unsqueeze(1)).transpose(1, 2)
        if x.shape[1] < num_frames:
            x = F.pad(x, (0, 0, 0, num_frames - x.shape[1]))
        return x[:, :num_frames]


class AVSRModel(nn.Module):
    """Audio-visual CTC model; :meth:`forward` takes a collated batch and returns
    ``(log_probs [B, T, num_classes], lengths [B])`` at 25 frames per second.

    ``num_classes`` includes the blank (index ``blank``)."""

    def __init__(self, num_classes: int, *, blank: int = 0, modalities: Sequence[str] = ("video", "audio"),
                 video_in_channels: int = 1, video_channels: Sequence[int] = (16, 32, 64), video_downsample: int = 2,
                 audio_input: str = "fbank", audio_feature_dim: int = 104, d_model: int = 128, layers: int = 2,
                 heads: int = 4, ff_dim: int = 256, conv_kernel: int = 15, dropout: float = 0.1,
                 modality_dropout: float = 0.0) -> None:
        super().__init__()
        modalities = tuple(modalities)
        if not modalities or set(modalities) - {"video", "audio"}:
            raise ValueError(f"modalities must be a non-empty subset of ('video', 'audio'), got {modalities}")
        if audio_input not in ("fbank", "waveform"):
            raise ValueError(f"audio_input must be 'fbank' or 'waveform', got {audio_input!r}")
        self.modalities, self.audio_input, self.blank = modalities, audio_input, int(blank)
        self.modality_dropout = float(modality_dropout)
        if "video" in modalities:
            self.video = VideoFrontend(video_in_channels, video_channels, d_model, video_downsample)
        if "audio" in modalities:
            self.audio = (nn.Sequential(nn.LayerNorm(audio_feature_dim), nn.Linear(audio_feature_dim, d_model),
                                        nn.GELU(), nn.Linear(d_model, d_model))
                          if audio_input == "fbank" else WaveformFrontend(d_model))
        self.fuse = nn.Linear(d_model * len(modalities), d_model)
        self.encoder = _conformer(d_model, heads, ff_dim, layers, conv_kernel, dropout)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, batch: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        lengths = batch["video_lengths"]
        t = int(batch["video"].shape[1]) if "video" in batch else int(batch["audio_features"].shape[1])
        streams = []
        if "video" in self.modalities:
            streams.append(self.video(batch["video"].float()))
        if "audio" in self.modalities:
            if self.audio_input == "fbank":
                if "audio_features" not in batch:
                    raise KeyError("audio_input='fbank' needs batch['audio_features']: add the 'fbank' transform")
                streams.append(self.audio(batch["audio_features"]))
            else:
                streams.append(self.audio(batch["audio"], t))
        if self.training and self.modality_dropout > 0 and len(streams) == 2:
            drop = torch.rand(lengths.shape[0], device=lengths.device) < self.modality_dropout
            which = torch.rand(lengths.shape[0], device=lengths.device) < 0.5
            for k, keep_mask in enumerate((~(drop & which), ~(drop & ~which))):
                streams[k] = streams[k] * keep_mask[:, None, None].to(streams[k].dtype)
        x = self.fuse(torch.cat(streams, dim=-1))
        x, lengths = self.encoder(x, lengths.to(x.device))
        return F.log_softmax(self.head(x), dim=-1), lengths


def _conformer(d_model: int, heads: int, ff_dim: int, layers: int, kernel: int, dropout: float) -> nn.Module:
    from torchaudio.models import Conformer

    return Conformer(input_dim=d_model, num_heads=heads, ffn_dim=ff_dim, num_layers=layers,
                     depthwise_conv_kernel_size=kernel, dropout=dropout)


def ctc_loss(log_probs: torch.Tensor, lengths: torch.Tensor, tokens: torch.Tensor, token_lengths: torch.Tensor,
             blank: int) -> torch.Tensor:
    """Mean CTC loss per target token (``tokens`` padded with -1). Impossible alignments
    (more tokens than frames) contribute 0 instead of inf."""
    targets = tokens.clamp(min=0)
    loss = F.ctc_loss(log_probs.transpose(0, 1).float(), targets, lengths, token_lengths, blank=blank,
                      reduction="sum", zero_infinity=True)
    return loss / token_lengths.sum().clamp(min=1)


def ctc_greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor, blank: int,
                      drop: Optional[Sequence[int]] = None) -> List[List[int]]:
    """Best-path ids per sequence: argmax per frame, repeats merged, blanks (and ``drop``
    ids) removed."""
    best = log_probs.argmax(dim=-1).cpu()
    skip = {int(blank)} | {int(d) for d in (drop or ())}
    out = []
    for row, n in zip(best, lengths.cpu().tolist()):
        ids, previous = [], None
        for token in row[:n].tolist():
            if token != previous and token not in skip:
                ids.append(token)
            previous = token
        out.append(ids)
    return out
