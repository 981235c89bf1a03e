"""What the trainer and the decoder share: process group, device and rank bookkeeping
(:class:`Run`), moving a batch to the device, and the example model built from a config and a
probe sample (:mod:`mcorec_torch.train.loop` and :mod:`mcorec_torch.train.decode` import it)."""
from __future__ import annotations

import os
from typing import Any, Dict

import torch
import torch.distributed as dist

from ..config import ExperimentConfig
from .model import AVSRModel

__all__ = ["Run", "to_device", "build_model"]


class Run:
    """Process group, device and rank bookkeeping."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
        want = config.train.device
        use_cuda = want == "cuda" or (want == "auto" and torch.cuda.is_available())
        if self.distributed:
            dist.init_process_group("nccl" if use_cuda else "gloo")
            self.rank, self.world = dist.get_rank(), dist.get_world_size()
        else:
            self.rank, self.world = 0, 1
        if use_cuda:
            local = int(os.environ.get("LOCAL_RANK", 0))
            torch.cuda.set_device(local)
            self.device = torch.device("cuda", local)
        else:
            self.device = torch.device("cpu")
        self.main = self.rank == 0

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def log(self, message: str) -> None:
        if self.main:
            print(message, flush=True)

    def close(self) -> None:
        if self.distributed:
            dist.destroy_process_group()


def to_device(batch: Dict[str, Any], device: torch.device) -> Dict[str, Any]:
    """``batch`` with its tensors on ``device`` (other values as they are)."""
    return {k: (v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}


def build_model(config: ExperimentConfig, probe: Dict[str, Any], num_classes: int, blank: int) -> AVSRModel:
    """The ``model`` section's :class:`AVSRModel`; input channels and feature size are read
    from ``probe`` (one sample of the split)."""
    m = config.model
    features = probe.get("audio_features")
    return AVSRModel(num_classes, blank=blank, modalities=m.modalities,
                     video_in_channels=int(probe["video"].shape[1]), video_channels=m.video_channels,
                     video_downsample=m.video_downsample, audio_input=m.audio_input,
                     audio_feature_dim=int(features.shape[1]) if features is not None else 104,
                     d_model=m.d_model, layers=m.layers, heads=m.heads, ff_dim=m.ff_dim, conv_kernel=m.conv_kernel,
                     dropout=m.dropout, modality_dropout=m.modality_dropout)
