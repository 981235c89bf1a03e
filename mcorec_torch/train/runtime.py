"""What the trainer and the decoder share: process group, device and rank bookkeeping
(:class:`Run`), the tokenizer a CTC model needs (:func:`require_tokenizer`) and its class count
(:func:`ctc_classes`), the sample the model's input sizes are read from (:func:`first_sample`),
the example model built from a config (:func:`build_model`) and greedy CTC from a loader to
text (:func:`model_outputs`, :func:`greedy_texts`). :mod:`mcorec_torch.train.loop` and
:mod:`mcorec_torch.train.decode` import it."""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import torch
import torch.distributed as dist

from ..config import ConfigError, ExperimentConfig, build_tokenizer
from ..data.collate import to_device
from .model import AVSRModel, ctc_greedy_decode

__all__ = ["Run", "build_model", "require_tokenizer", "ctc_classes", "first_sample", "model_outputs",
           "greedy_texts"]


class Run:
    """Process group, device and rank bookkeeping; :meth:`close` ends the process group."""

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
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def require_tokenizer(config: ExperimentConfig) -> Any:
    """The configured tokenizer (:func:`~mcorec_torch.config.build_tokenizer`); a config
    without ``text.tokenizer`` raises :class:`ConfigError` naming that key (CTC training and
    decoding turn text into ids and ids into text)."""
    tokenizer = build_tokenizer(config)
    if tokenizer is None:
        raise ConfigError(config.source, "text.tokenizer", "is needed to turn text into CTC ids and back "
                          "(training and decoding the example model)")
    return tokenizer


def ctc_classes(tokenizer: Any) -> Tuple[int, int]:
    """``(num_classes, blank)`` of a CTC head over ``tokenizer``'s ids: with ESPnet units the
    tokenizer's own blank (0; the last id is ``<eos>``), with a bare SentencePiece model one
    extra class for the blank."""
    if tokenizer.blank_id is not None:
        return int(tokenizer.vocab_size), int(tokenizer.blank_id)
    return int(tokenizer.vocab_size) + 1, int(tokenizer.vocab_size)


def first_sample(config: ExperimentConfig, dataset: Any, split: str) -> Dict[str, Any]:
    """The first sample of ``dataset`` (split ``split`` of ``config``) that loads: under
    ``on_error="skip"`` a sample that fails is None, and the model's input sizes are read from
    this one. Raises :class:`ConfigError` naming ``splits.<split>`` when none loads."""
    for i in range(len(dataset)):
        sample = dataset[i]
        if sample is not None:
            return sample
    roots = ", ".join(config.split(split).roots)
    raise ConfigError(config.source, f"splits.{split}", f"no sample of {roots} loads ({len(dataset)} segments; "
                      "see the skip warnings above and `mcorec-torch check`)")


def build_model(config: ExperimentConfig, probe: Dict[str, Any], num_classes: int, blank: int) -> AVSRModel:
    """The ``model`` section's :class:`AVSRModel`; input channels and feature size are read
    from ``probe`` (one sample of the split, :func:`first_sample`)."""
    m = config.model
    features = probe.get("audio_features")
    return AVSRModel(num_classes, blank=blank, modalities=m.modalities,
                     video_in_channels=int(probe["video"].shape[1]), video_channels=m.video_channels,
                     video_downsample=m.video_downsample, audio_input=m.audio_input,
                     audio_feature_dim=int(features.shape[1]) if features is not None else 104,
                     d_model=m.d_model, layers=m.layers, heads=m.heads, ff_dim=m.ff_dim, conv_kernel=m.conv_kernel,
                     dropout=m.dropout, modality_dropout=m.modality_dropout)


@torch.no_grad()
def model_outputs(model: torch.nn.Module, loader: Iterable[Dict[str, Any]], device: torch.device,
                  max_batches: Optional[int] = None) -> Iterator[Tuple[Dict[str, Any], torch.Tensor, torch.Tensor]]:
    """``(batch on device, log_probs [B, T, C], lengths [B])`` of the model in eval mode for
    each non-empty batch of (the first ``max_batches`` batches of) ``loader``; the model's
    training mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        for number, batch in enumerate(loader):
            if max_batches is not None and number >= max_batches:
                break
            if not batch["id"]:  # every sample of the batch skipped
                continue
            batch = to_device(batch, device)
            log_probs, lengths = model(batch)
            yield batch, log_probs, lengths
    finally:
        model.train(was_training)


def greedy_texts(log_probs: torch.Tensor, lengths: torch.Tensor, tokenizer: Any, blank: int) -> List[str]:
    """Greedy CTC (:func:`~mcorec_torch.train.model.ctc_greedy_decode`) to text: the best path's
    ids without blanks and ``<eos>``, decoded by ``tokenizer``; one string per sequence."""
    drop = [tokenizer.eos_id] if tokenizer.eos_id is not None else []
    return [tokenizer.decode(ids) for ids in ctc_greedy_decode(log_probs, lengths, blank, drop)]
