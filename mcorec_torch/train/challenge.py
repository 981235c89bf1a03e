"""The challenge metric during training (``train.eval_challenge``): the evaluation split
decoded in ASD chunks exactly as ``mcorec-torch decode`` decodes it
(:func:`~mcorec_torch.train.decode.decode_config`, :func:`~mcorec_torch.train.decode.decode_texts`,
the baseline clustering) and scored by the official scorer
(:func:`~mcorec_torch.text.scoring.score_split`, what ``mcorec-torch score`` computes).

Hypotheses are written under the run folder, never into the data:
``<train.out_dir>/challenge/<split>/<session>/output/`` beside links to the session's
``metadata.json`` and labels (:func:`~mcorec_torch.hypotheses.mirror_session`), so that
``mcorec-torch score <train.out_dir>/challenge/<split>`` gives the logged figures again.
Under torchrun every rank decodes its share of the chunks; rank 0 gathers, writes and scores.
"""
from __future__ import annotations

import copy
import shutil
import time
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from ..config import ConfigError, ExperimentConfig, build_dataloader, split_dataset_options
from ..corpus.layout import DEFAULT_HYPOTHESIS_DIR, labels_dir_exists
from ..hypotheses import HypothesisCollector
from .decode import decode_config, decode_texts

KEY = "train.eval_challenge"

#: The figures of an eval record that come from the official scorer (averages of ``score_split``).
FIGURES = ("speaker_wer", "conversation_f1", "joint_error")


def check_challenge_config(config: ExperimentConfig) -> None:
    """Refuse ``train.eval_challenge`` without an evaluation split, a tokenizer (CTC ids must
    become text) or a positive chunk size; raises :class:`ConfigError` naming the key."""
    train = config.train
    if not train.eval_split:
        raise ConfigError(config.source, KEY, "needs train.eval_split (the labelled split to decode and score)")
    config.split(train.eval_split)
    if config.text.tokenizer is None:
        raise ConfigError(config.source, KEY, "needs text.tokenizer to turn the model's CTC ids into text")
    if not train.eval_challenge_chunk_size > 0:
        raise ConfigError(config.source, "train.eval_challenge_chunk_size",
                          f"must be > 0 seconds, got {train.eval_challenge_chunk_size}")


class ChallengeEval:
    """The eval split in ASD chunks (``chunk_size`` seconds at most), its loader over this
    rank's share, and the scoreable copy of the split under ``out_dir/challenge/<split>``.

    Built on every rank (a collective use follows). Raises :class:`ConfigError` naming
    ``train.eval_challenge`` when a session of the split has no labels folder.
    """

    def __init__(self, config: ExperimentConfig, tokenizer: Any, blank: int, device: torch.device,
                 out_dir: Path, rank: int = 0, world: int = 1) -> None:
        check_challenge_config(config)
        split = config.train.eval_split
        self.config = copy.deepcopy(config)  # the eval split itself keeps its cue segments for CER
        self.name = decode_config(self.config, split, "asd", config.train.eval_challenge_chunk_size)
        self.label_dir = split_dataset_options(config, split).label_dir
        self.loader = build_dataloader(self.config, self.name, 0, num_replicas=world, rank=rank, tokenizer=tokenizer)
        self.dataset = self.loader.dataset
        unlabelled = [entry.path for entry in self.dataset.index.sessions
                      if not labels_dir_exists(entry.path, self.label_dir)]
        if unlabelled:
            raise ConfigError(config.source, KEY, f"splits.{split} cannot be scored: {len(unlabelled)} session(s) "
                              f"have no {self.label_dir}/ folder, e.g. {unlabelled[0]} (an eval split has no "
                              "labels; decode it with `mcorec-torch decode` instead)")
        names = [entry.name for entry in self.dataset.index.sessions]
        if len(set(names)) != len(names):
            raise ConfigError(config.source, KEY, f"splits.{split}: two roots hold sessions of the same name; "
                              "their hypotheses would overwrite each other")
        self.tokenizer, self.blank, self.device, self.rank = tokenizer, blank, device, rank
        self.root = Path(out_dir) / "challenge" / split
        if rank == 0 and self.root.exists():
            shutil.rmtree(self.root)  # a previous run's sessions must not be scored with this one's

    def __call__(self, model: torch.nn.Module) -> Optional[Dict[str, Any]]:
        """Decode, write and score (a collective under torch.distributed: every rank calls it).
        Returns on rank 0 ``{"speaker_wer", "conversation_f1", "joint_error",
        "challenge_chunks", "challenge_sessions", "challenge_seconds"}`` (seconds of wall
        time), else ``None``."""
        from ..text.scoring import score_split

        started = time.perf_counter()
        collector = HypothesisCollector(self.dataset, hyp_dir_name=DEFAULT_HYPOTHESIS_DIR, out_root=self.root,
                                        label_dir_name=self.label_dir)
        decode_texts(model, self.loader, self.tokenizer, self.blank, self.device, collector)
        written = collector.finish()
        if self.rank != 0:
            return None
        average = score_split(self.root, hyp_dir_name=DEFAULT_HYPOTHESIS_DIR, label_dir_name=self.label_dir)["average"]
        return {**{k: average[k] for k in FIGURES}, "challenge_chunks": len(self.dataset),
                "challenge_sessions": len(written), "challenge_seconds": time.perf_counter() - started}

    def describe(self, figures: Dict[str, Any]) -> str:
        """One log line of ``figures`` (what :meth:`__call__` returned)."""
        def fmt(value: Any) -> str:
            return "-" if value is None else f"{value:.3f}"
        return (f"    challenge: speaker WER {fmt(figures['speaker_wer'])}  conversation F1 "
                f"{fmt(figures['conversation_f1'])}  joint error {fmt(figures['joint_error'])} on "
                f"{figures['challenge_chunks']} ASD chunks of {figures['challenge_sessions']} session(s) "
                f"({figures['challenge_seconds']:.1f} s; hypotheses in {self.root})")
