"""The example trainer: the small audio-visual CTC model of :mod:`mcorec_torch.train.model`
trained from a YAML config (``mcorec-torch train``; ``scripts/train_avsr.py`` is the same
command as a script).

    mcorec-torch train --config configs/demo.yaml
    torchrun --nproc_per_node 2 scripts/train_avsr.py --config configs/demo.yaml
    mcorec-torch train --config configs/demo.yaml --resume      # continue runs/demo/last.pt
    mcorec-torch train --config configs/demo.yaml --set train.epochs=2 --set sampler.max_frames=800

Logs the training loss (CTC per target token) and, on the ``train.eval_split`` split, the
loss and the greedy-CTC character error rate (CER: character edits / reference characters,
spaces included); with ``train.eval_challenge`` also the challenge metric on that split's ASD
chunks (speaker WER, conversation F1, joint error: :mod:`mcorec_torch.train.challenge`).
Checkpoints (model, optimizer, schedule, sampler position, config) go to
``<train.out_dir>/last.pt`` every ``train.checkpoint_every`` steps and at each epoch end;
``--resume`` continues with exactly the batches an uninterrupted run would have seen. A
checkpoint saved by another number of processes continues at an epoch boundary with this
run's world size (said in one line): at once when it was saved at one, with ``--next-epoch``
(the rest of the interrupted epoch skipped) when it was saved mid-epoch; without the flag that
is an ``error:`` naming it. While it writes synthetic data, trains a tokenizer, indexes a
split or waits for the first batch, it says so first.
Under torchrun it uses gloo on CPU and NCCL on GPU; every rank gets the same number of
batches (SPEC §5) and rank 0 evaluates, logs and saves.

:func:`run_training` reads the config and runs a :class:`Trainer` (its steps: :meth:`~Trainer.resume`,
:meth:`~Trainer.train_step`, :meth:`~Trainer.evaluate`, :meth:`~Trainer.checkpoint`,
:meth:`~Trainer.should_stop`). Bad input raises :class:`~mcorec_torch.config.ConfigError` or
:class:`~mcorec_torch.errors.MCoRecDataError`; the command turns them into exit 2.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import IO, Any, Dict, Iterator, Optional, Sequence, Tuple

import torch
import torch.distributed as dist

from ..config import ExperimentConfig, build_dataloader, build_sampler, load_config, prepare_data, set_epoch
from ..data.collate import to_device
from .model import ctc_loss
from .resume import claim_run_folder, resume_position, run_folder, save_checkpoint
from .runtime import Run, build_model, ctc_classes, first_sample, greedy_texts, model_outputs, require_tokenizer

__all__ = ["run_training", "Trainer", "claim_run_folder", "run_folder", "lr_factor", "loss_and_cer",
           "save_checkpoint"]


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 10% at ``total`` steps."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


def loss_and_cer(model: torch.nn.Module, loader: Any, tokenizer: Any, blank: int, device: torch.device,
             max_batches: Optional[int]) -> Dict[str, Any]:
    """Mean CTC loss per token and greedy CER over (up to ``max_batches`` of) ``loader``, the
    number of segments and one ``(reference, hypothesis)`` example."""
    from torchaudio.functional import edit_distance

    loss_sum, token_sum, edits, ref_chars, segments = 0.0, 0, 0, 0, 0
    example = None
    for batch, log_probs, lengths in model_outputs(model, loader, device, max_batches):
        tokens = int(batch["token_lengths"].sum())
        loss_sum += float(ctc_loss(log_probs, lengths, batch["tokens"], batch["token_lengths"], blank)) * tokens
        token_sum += tokens
        for hypothesis, reference in zip(greedy_texts(log_probs, lengths, tokenizer, blank), batch["text"]):
            edits += edit_distance(list(reference), list(hypothesis))
            ref_chars += len(reference)
            segments += 1
            if example is None:
                example = (reference, hypothesis)
    return {"loss": loss_sum / max(token_sum, 1), "cer": edits / max(ref_chars, 1), "segments": segments,
            "example": example}


def run_training(config_path: "str | os.PathLike[str]", overrides: Sequence[str] = (), *,
                 resume: Optional[str] = None, overwrite: bool = False, next_epoch: bool = False) -> int:
    """Train the example model of the YAML experiment ``config_path`` (``overrides``: ``KEY=VALUE``
    items); ``resume``: a checkpoint path, or ``"auto"`` for ``<train.out_dir>/last.pt``;
    ``next_epoch``: resume at the start of the epoch after the checkpoint's (``--next-epoch``);
    ``overwrite``: start over in a folder that holds a run. Returns 0. Bad input raises
    :class:`ConfigError` / :class:`~mcorec_torch.errors.MCoRecDataError` before any step; the
    process group (torchrun) is ended however the run ends."""
    config = load_config(config_path, list(overrides))
    out_dir = run_folder(config)
    claim_run_folder(config, out_dir, resume, overwrite, next_epoch)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    if config.train.eval_challenge:
        from .challenge import check_challenge_config
        check_challenge_config(config)  # before any data is written or read
    run = Run(config)
    try:
        trainer = Trainer(config, run, out_dir)
        if resume:
            trainer.resume(trainer.checkpoint_path if resume == "auto" else Path(resume), next_epoch=next_epoch)
        trainer.fit(overwrite=overwrite)
    finally:
        run.close()
    return 0


class _Window:
    """Loss and frames since the last ``train`` log line (seconds from :func:`time.perf_counter`)."""

    def __init__(self) -> None:
        self.loss, self.batches, self.frames, self.start = 0.0, 0, 0, time.perf_counter()

    def add(self, loss: float, frames: int) -> None:
        self.loss += loss
        self.batches += 1
        self.frames += frames


class Trainer:
    """One training run of the example model: data, model and optimizer built from ``config``
    on every rank of ``run``; :meth:`fit` trains, evaluates, checkpoints and logs into
    ``out_dir`` (rank 0).

    Attributes: ``epoch`` and ``step`` (optimizer steps so far), ``model`` (unwrapped),
    ``train_loader`` and its ``sampler``, ``eval_loader`` (rank 0 with ``train.eval_split``),
    ``challenge`` (a :class:`~mcorec_torch.train.challenge.ChallengeEval` or None).
    """

    def __init__(self, config: ExperimentConfig, run: Run, out_dir: Path) -> None:
        self.config, self.cfg, self.run = config, config.train, run
        self.out_dir, self.checkpoint_path = out_dir, out_dir / "last.pt"
        # The same seed on every rank: rank 0's checkpoint then restores every rank's dropout
        # stream exactly (ranks see different batches, so their masks still differ in effect).
        torch.manual_seed(self.cfg.seed)
        if run.main:  # synthetic splits and tokenizer, once, before other ranks read them
            prepare_data(config, say=run.log)
        run.barrier()
        self.tokenizer = require_tokenizer(config)
        self.num_classes, self.blank = ctc_classes(self.tokenizer)
        self._build_loaders()
        probe = first_sample(config, self.train_loader.dataset, "train")
        self.model = build_model(config, probe, self.num_classes, self.blank).to(run.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        self.epoch, self.step = 0, 0
        self.ddp_model: torch.nn.Module = self.model  # wrapped by DDP in :meth:`fit` (after a resume)
        self.total_steps = 0
        self.started, self.deadline, self.window = time.perf_counter(), None, _Window()
        self.log_file: Optional[IO[str]] = None

    def _build_loaders(self) -> None:
        """The challenge evaluation (every rank decodes its share), this rank's train loader
        and, on rank 0, the evaluation split's loader: all built by :func:`build_dataloader`."""
        config, run = self.config, self.run
        self.challenge = None
        if self.cfg.eval_challenge:
            from .challenge import ChallengeEval
            self._say_indexing(self.cfg.eval_split, "in ASD chunks for the challenge metric")
            self.challenge = ChallengeEval(config, self.tokenizer, self.blank, run.device, self.out_dir,
                                           run.rank, run.world)
        self._say_indexing("train", "and building its loader")
        self.train_loader = build_dataloader(config, "train", 0, num_replicas=run.world, rank=run.rank,
                                             tokenizer=self.tokenizer)
        self.sampler = self.train_loader.batch_sampler
        self.eval_loader = None
        if run.main and self.cfg.eval_split:
            self._say_indexing(self.cfg.eval_split, "and building its loader")
            self.eval_loader = build_dataloader(config, self.cfg.eval_split, 0, num_replicas=1, rank=0,
                                                tokenizer=self.tokenizer)

    def _say_indexing(self, split: str, what: str) -> None:
        """The line before a split is indexed (read from its cache when built before)."""
        roots = ", ".join(self.config.split(split).roots)
        self.run.log(f"indexing splits.{split} ({roots}) {what} ...")

    def resume(self, path: Path, next_epoch: bool = False) -> None:
        """Continue from the checkpoint at ``path``: model, optimizer, sampler position, step and
        the torch RNG (dropout continues as if never interrupted).

        ``next_epoch``: start at the first batch of the epoch after the checkpoint's (when it
        was saved mid-epoch). A checkpoint saved by another number of processes continues at an
        epoch boundary with this run's (:func:`~mcorec_torch.train.resume.resume_position`,
        which refuses a mid-epoch one without ``next_epoch``), said in the resume line."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        sampler_state, moved = resume_position(path, state["sampler"], self.run.world, next_epoch,
                                               self._batches_per_rank)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.sampler.load_state_dict(sampler_state)
        self.epoch, self.step = int(sampler_state["epoch"]), int(state["step"])
        torch.set_rng_state(state["torch_rng"])
        self.run.log(f"resumed {path}: epoch {self.epoch}, batch {self.sampler.resume_from} of the epoch, "
                     f"step {self.step}" + (f"; {moved}" if moved else ""))

    def _batches_per_rank(self, epoch: int, world: int) -> int:
        """Batches of ``epoch`` on each of ``world`` processes (the train sampler as a run of
        that many processes builds it)."""
        sampler = build_sampler(self.config, "train", self.train_loader.dataset, num_replicas=world, rank=0)
        sampler.set_epoch(epoch)
        return len(sampler)

    def fit(self, overwrite: bool = False) -> None:
        """Train until ``train.epochs``, ``train.max_steps`` or ``train.max_minutes``; evaluate at
        the start, after each epoch and at a stop; ``overwrite``: replace the folder's
        ``last.pt`` and ``log.jsonl`` (else the log is appended to)."""
        run, cfg = self.run, self.cfg
        if run.distributed:
            self.ddp_model = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[run.device.index] if run.device.type == "cuda" else None)
        # steps of the whole run: those taken before this epoch, then this and the later epochs'
        # batches (as many per epoch as this world size gives; the same as epochs x batches per
        # epoch unless a resume changed the world size or skipped to the next epoch)
        per_epoch = len(self.sampler) + self.sampler.resume_from
        self.total_steps = self.step - self.sampler.resume_from + max(cfg.epochs - self.epoch, 0) * per_epoch
        params = sum(p.numel() for p in self.model.parameters())
        run.log(f"config {self.config.source}: {len(self.train_loader.dataset)} train segments, {len(self.sampler)} "
                f"batches per epoch on each of {run.world} process(es), model {params / 1e6:.2f} M parameters, "
                f"{self.num_classes} classes (blank {self.blank}), device {run.device}")
        with self._open_log(overwrite):
            if self.step == 0:
                if self.eval_loader is not None or self.challenge is not None:
                    run.log(f"evaluating on {cfg.eval_split} before the first step ...")
                self.evaluate("start")
            run.barrier()
            self.started = time.perf_counter()
            self.deadline: Optional[float] = self.started + 60.0 * cfg.max_minutes if cfg.max_minutes else None
            stop = cfg.max_steps is not None and self.step >= cfg.max_steps  # max_steps=0: no step
            consumed = self.sampler.resume_from
            self.window = _Window()
            self.model.train()
            if self.epoch < cfg.epochs and not stop:
                workers = getattr(self.train_loader, "num_workers", 0)
                run.log(f"epoch {self.epoch}: waiting for the first batch"
                        + (f" ({workers} loader worker(s) starting)" if workers else "") + " ...")
            while self.epoch < cfg.epochs and not stop:
                stop, consumed = self.train_epoch()
                if not stop:
                    self.end_epoch()
            if stop:
                self.checkpoint(consumed)
                self.evaluate("end")
            self._log_done()

    @contextlib.contextmanager
    def _open_log(self, overwrite: bool) -> Iterator[None]:
        """``log.jsonl`` open as :attr:`log_file` on rank 0 for the block (closed however it
        ends); with ``overwrite`` the folder's checkpoint is removed and the log replaced."""
        if not self.run.main:
            yield
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if overwrite:
            self.checkpoint_path.unlink(missing_ok=True)
        with open(self.out_dir / "log.jsonl", "w" if overwrite else "a", encoding="utf-8") as handle:
            self.log_file = handle
            try:
                yield
            finally:
                self.log_file = None

    def record(self, record: Dict[str, Any]) -> None:
        """One line of ``log.jsonl`` (rank 0)."""
        if self.log_file is not None:
            self.log_file.write(json.dumps(record) + "\n")
            self.log_file.flush()

    def train_epoch(self) -> Tuple[bool, int]:
        """The rest of the current epoch's batches; returns ``(stopped, batches of the epoch
        consumed)``."""
        set_epoch(self.train_loader, self.epoch)
        consumed = self.sampler.resume_from
        for batch in self.train_loader:
            self.train_step(batch)
            consumed += 1
            if self.step % self.cfg.log_every == 0:
                self._log_progress()
            if self.step % self.cfg.checkpoint_every == 0:
                self.checkpoint(consumed)
            if self.should_stop():
                return True, consumed
        return False, consumed

    def train_step(self, batch: Dict[str, Any]) -> None:
        """One optimizer step on ``batch`` (learning rate from :func:`lr_factor`, gradient norm
        clipped to ``train.grad_clip``); its loss and frames go to the log window."""
        cfg = self.cfg
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr * lr_factor(self.step, cfg.warmup_steps, self.total_steps)
        batch = to_device(batch, self.run.device)
        if batch["id"]:
            log_probs, lengths = self.ddp_model(batch)
            loss = ctc_loss(log_probs, lengths, batch["tokens"], batch["token_lengths"], self.blank)
        else:  # every sample skipped: keep the ranks in step with a zero loss
            loss = sum(p.sum() for p in self.model.parameters()) * 0.0
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.step += 1
        self.window.add(loss.item(), int(batch["video_lengths"].sum()))

    def _log_progress(self) -> None:
        """The ``train`` log line and record of the window since the last one."""
        window, run = self.window, self.run
        seconds = time.perf_counter() - window.start
        loss = window.loss / window.batches
        run.log(f"epoch {self.epoch} step {self.step}: loss {loss:.3f}  "
                f"lr {self.optimizer.param_groups[0]['lr']:.2e}  {window.frames * run.world / seconds:.0f} frames/s  "
                f"[{time.perf_counter() - self.started:.0f} s]")
        self.record({"event": "train", "step": self.step, "epoch": self.epoch, "loss": loss})
        self.window = _Window()

    def should_stop(self) -> bool:
        """Whether ``train.max_steps`` is reached or ``train.max_minutes`` have passed (every rank
        stops at the same step)."""
        cfg, run = self.cfg, self.run
        if cfg.max_steps is not None and self.step >= cfg.max_steps:
            run.log(f"reached train.max_steps={cfg.max_steps}")
            return True
        if self.deadline is None:
            return False
        over = torch.tensor([float(time.perf_counter() > self.deadline)])
        if run.distributed:
            dist.all_reduce(over, op=dist.ReduceOp.MAX)
        if over.item():
            run.log(f"time limit of {cfg.max_minutes} min reached at step {self.step}")
            return True
        return False

    def end_epoch(self) -> None:
        """After a whole epoch: the next epoch's order, a checkpoint at its start, an evaluation."""
        self.epoch += 1
        self.sampler.set_epoch(self.epoch)
        self.checkpoint(0)
        self.evaluate(f"epoch {self.epoch}")
        self.run.barrier()

    def checkpoint(self, consumed: int) -> None:
        """Save model, optimizer, sampler position (``consumed`` batches of the epoch), step, torch
        RNG and config to ``last.pt`` (rank 0)."""
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "sampler": self.sampler.state_dict(batches_consumed=consumed), "step": self.step,
                 "torch_rng": torch.get_rng_state(), "config": self.config.to_dict()}
        if self.run.main:
            save_checkpoint(self.checkpoint_path, state)

    def evaluate(self, label: str) -> None:
        """Validation on rank 0 (loss and CER on ``train.eval_split``); with the challenge metric
        on, a collective (every rank calls it). Logs a line and an ``eval`` record."""
        if self.eval_loader is None and self.challenge is None:
            return
        started = time.perf_counter()
        result: Dict[str, Any] = {}
        if self.eval_loader is not None:
            result = loss_and_cer(self.model, self.eval_loader, self.tokenizer, self.blank, self.run.device,
                              self.cfg.eval_max_batches)
            ref, hyp = result.pop("example") or ("", "")
            self.run.log(f"[eval {label}] step {self.step}: {self.cfg.eval_split} loss {result['loss']:.3f}  "
                         f"CER {result['cer']:.3f} on {result['segments']} segments "
                         f"({time.perf_counter() - started:.1f} s)\n    ref: {ref}\n    hyp: {hyp}")
        figures = self.challenge(self.model) if self.challenge is not None else None
        if figures is not None:
            self.run.log(self.challenge.describe(figures))
            result.update(figures)
        self.record({"event": "eval", "label": label, "step": self.step, "epoch": self.epoch, **result})

    def _log_done(self) -> None:
        skipped = self.train_loader.dataset.report().total()["skipped"]  # workers' skips included (shared counts)
        self.run.log(f"done: {self.step} steps in {time.perf_counter() - self.started:.0f} s; checkpoint "
                     f"{self.checkpoint_path}" + (f"; {skipped} train samples skipped (on_error=skip, see the "
                                                  "log's warnings)" if skipped else ""))
