"""The example trainer: the small audio-visual CTC model of :mod:`mcorec_torch.train.model`
trained from a YAML config (``scripts/train_avsr.py`` is its entry point).

    python scripts/train_avsr.py --config configs/demo.yaml
    torchrun --nproc_per_node 2 scripts/train_avsr.py --config configs/demo.yaml
    python scripts/train_avsr.py --config configs/demo.yaml --resume      # continue runs/demo/last.pt
    python scripts/train_avsr.py --config configs/demo.yaml --set train.epochs=2 --set sampler.max_frames=800

Logs the training loss (CTC per target token) and, on the ``train.eval_split`` split, the
loss and the greedy-CTC character error rate (CER: character edits / reference characters,
spaces included); with ``train.eval_challenge`` also the challenge metric on that split's ASD
chunks (speaker WER, conversation F1, joint error: :mod:`mcorec_torch.train.challenge`).
Checkpoints (model, optimizer, schedule, sampler position, config) go to
``<train.out_dir>/last.pt`` every ``train.checkpoint_every`` steps and at each epoch end;
``--resume`` continues with exactly the batches an uninterrupted run would have seen.
Under torchrun it uses gloo on CPU and NCCL on GPU; every rank gets the same number of
batches (SPEC §5) and rank 0 evaluates, logs and saves.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Dict, Optional

import torch
import torch.distributed as dist

from .._io import atomic_write_bytes
from ..config import ExperimentConfig, build_dataloader, build_tokenizer, load_config, prepare_data, set_epoch
from ..config.schema import ConfigError, bad_input_exit
from .model import ctc_greedy_decode, ctc_loss
from .runtime import Run, build_model, to_device


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="YAML experiment file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. train.epochs=3 (repeatable)")
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                        help="continue from a checkpoint (default: <out_dir>/last.pt)")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over in an existing run folder (its last.pt and log.jsonl are replaced)")
    return parser.parse_args(argv)


def first_sample(config: ExperimentConfig, dataset) -> Dict[str, Any]:
    """The first sample that loads (the model's input sizes are read from it)."""
    for i in range(len(dataset)):
        sample = dataset[i]
        if sample is not None:
            return sample
    raise ConfigError(config.source, "splits.train", f"no train sample loads ({len(dataset)} segments; see "
                      "the skip warnings above and `mcorec-torch check`)")


def claim_run_folder(config: ExperimentConfig, out_dir: Path, resume: Optional[str], overwrite: bool) -> None:
    """Refuse to train into a folder that holds a run unless ``--resume`` or ``--overwrite``
    says which; a ``--resume`` without a checkpoint to resume from is refused too."""
    if resume and overwrite:
        raise ConfigError(config.source, "", "--resume and --overwrite exclude each other")
    held = [p.name for p in (out_dir / "last.pt", out_dir / "log.jsonl") if p.exists()]
    if held and not resume and not overwrite:
        raise ConfigError(config.source, "train.out_dir", f"{out_dir} already holds a run ({', '.join(held)}); "
                          "pass --resume to continue it or --overwrite to start over")
    if resume == "auto" and not (out_dir / "last.pt").is_file():
        raise ConfigError(config.source, "train.out_dir", f"--resume: {out_dir / 'last.pt'} does not exist")


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 10% at ``total`` steps."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader, tokenizer, blank: int, device: torch.device,
             max_batches: Optional[int]) -> Dict[str, float]:
    """Mean CTC loss per token and greedy CER over (up to ``max_batches`` of) ``loader``."""
    from torchaudio.functional import edit_distance

    model.eval()
    loss_sum, token_sum, edits, ref_chars, segments = 0.0, 0, 0, 0, 0
    drop = [tokenizer.eos_id] if tokenizer.eos_id is not None else []
    example = None
    for number, batch in enumerate(loader):
        if max_batches is not None and number >= max_batches:
            break
        if not batch["id"]:
            continue
        batch = to_device(batch, device)
        log_probs, lengths = model(batch)
        tokens = int(batch["token_lengths"].sum())
        loss_sum += float(ctc_loss(log_probs, lengths, batch["tokens"], batch["token_lengths"], blank)) * tokens
        token_sum += tokens
        for ids, reference in zip(ctc_greedy_decode(log_probs, lengths, blank, drop), batch["text"]):
            hypothesis = tokenizer.decode(ids)
            edits += edit_distance(list(reference), list(hypothesis))
            ref_chars += len(reference)
            segments += 1
            if example is None:
                example = (reference, hypothesis)
    model.train()
    return {"loss": loss_sum / max(token_sum, 1), "cer": edits / max(ref_chars, 1), "segments": segments,
            "example": example}


def save_checkpoint(path: Path, state: Dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def main(argv=None) -> int:
    """Train; a data or config error prints its message and returns 2 (SPEC §9)."""
    try:
        return _main(argv)
    except Exception as exc:
        code = bad_input_exit(exc)
        if code is None:
            raise
        return code


def _main(argv=None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    train_cfg = config.train
    claim_run_folder(config, Path(os.path.expandvars(os.path.expanduser(train_cfg.out_dir))), args.resume,
                     args.overwrite)
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)
    if train_cfg.eval_challenge:
        from .challenge import check_challenge_config
        check_challenge_config(config)  # before any data is written or read
    run = Run(config)
    # The same seed on every rank: rank 0's checkpoint then restores every rank's dropout
    # stream exactly (ranks see different batches, so their masks still differ in effect).
    torch.manual_seed(train_cfg.seed)
    if run.main:
        prepare_data(config)  # synthetic splits and tokenizer, once, before other ranks read them
    run.barrier()

    tokenizer = build_tokenizer(config)
    if tokenizer is None:
        raise SystemExit(f"{config.source}: text.tokenizer is needed for CTC training")
    if tokenizer.blank_id is not None:  # ESPnet units: 0 is the blank, the last id <eos>
        num_classes, blank = tokenizer.vocab_size, tokenizer.blank_id
    else:                               # a bare SentencePiece model: one extra class for the blank
        num_classes, blank = tokenizer.vocab_size + 1, tokenizer.vocab_size

    out_dir = Path(os.path.expandvars(os.path.expanduser(train_cfg.out_dir)))
    challenge = None
    if train_cfg.eval_challenge:  # every rank: each decodes its share of the ASD chunks
        from .challenge import ChallengeEval
        challenge = ChallengeEval(config, tokenizer, blank, run.device, out_dir, run.rank, run.world)
    train_loader = build_dataloader(config, "train", 0, tokenizer=tokenizer)
    sampler = train_loader.batch_sampler
    eval_loader = None
    if run.main and train_cfg.eval_split:
        eval_loader = build_dataloader(config, train_cfg.eval_split, 0, num_replicas=1, rank=0, tokenizer=tokenizer)

    probe = first_sample(config, train_loader.dataset)
    model = build_model(config, probe, num_classes, blank).to(run.device)
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=train_cfg.lr, weight_decay=train_cfg.weight_decay)
    checkpoint_path = out_dir / "last.pt"

    epoch, step = 0, 0
    if args.resume:
        path = checkpoint_path if args.resume == "auto" else Path(args.resume)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.load_state_dict(state["sampler"])
        epoch, step = int(state["sampler"]["epoch"]), int(state["step"])
        torch.set_rng_state(state["torch_rng"])  # dropout continues as if never interrupted
        run.log(f"resumed {path}: epoch {epoch}, batch {sampler.resume_from} of the epoch, step {step}")

    ddp_model = model
    if run.distributed:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[run.device.index] if run.device.type == "cuda" else None)
    total_steps = train_cfg.epochs * (len(sampler) + sampler.resume_from)
    run.log(f"config {config.source}: {len(train_loader.dataset)} train segments, {len(sampler)} batches per "
            f"epoch on each of {run.world} process(es), model {params / 1e6:.2f} M parameters, "
            f"{num_classes} classes (blank {blank}), device {run.device}")
    log_file = None
    if run.main:
        out_dir.mkdir(parents=True, exist_ok=True)
        if args.overwrite:
            checkpoint_path.unlink(missing_ok=True)
        log_file = open(out_dir / "log.jsonl", "w" if args.overwrite else "a", encoding="utf-8")

    def log_record(record: Dict[str, Any]) -> None:
        if log_file is not None:
            log_file.write(json.dumps(record) + "\n")
            log_file.flush()

    def run_eval(label: str) -> None:
        """Validation on rank 0; with the challenge metric on, a collective (every rank calls it)."""
        if eval_loader is None and challenge is None:
            return
        started = time.perf_counter()
        result: Dict[str, Any] = {}
        if eval_loader is not None:
            result = evaluate(model, eval_loader, tokenizer, blank, run.device, train_cfg.eval_max_batches)
            ref, hyp = result.pop("example") or ("", "")
            run.log(f"[eval {label}] step {step}: {train_cfg.eval_split} loss {result['loss']:.3f}  "
                    f"CER {result['cer']:.3f} on {result['segments']} segments "
                    f"({time.perf_counter() - started:.1f} s)\n    ref: {ref}\n    hyp: {hyp}")
        figures = challenge(model) if challenge is not None else None
        if figures is not None:
            run.log(challenge.describe(figures))
            result.update(figures)
        log_record({"event": "eval", "label": label, "step": step, "epoch": epoch, **result})

    def checkpoint(consumed: int) -> None:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "sampler": sampler.state_dict(batches_consumed=consumed), "step": step,
                 "torch_rng": torch.get_rng_state(), "config": config.to_dict()}
        if run.main:
            save_checkpoint(checkpoint_path, state)

    if step == 0:
        run_eval("start")
    run.barrier()
    started = time.perf_counter()
    deadline = started + 60.0 * train_cfg.max_minutes if train_cfg.max_minutes else None
    stop = train_cfg.max_steps is not None and step >= train_cfg.max_steps  # max_steps=0: no step
    consumed = sampler.resume_from
    running_loss, running_n, frames = 0.0, 0, 0
    window_start = time.perf_counter()
    model.train()
    while epoch < train_cfg.epochs and not stop:
        set_epoch(train_loader, epoch)
        consumed = sampler.resume_from
        for batch in train_loader:
            for group in optimizer.param_groups:
                group["lr"] = train_cfg.lr * lr_factor(step, train_cfg.warmup_steps, total_steps)
            batch = to_device(batch, run.device)
            if batch["id"]:
                log_probs, lengths = ddp_model(batch)
                loss = ctc_loss(log_probs, lengths, batch["tokens"], batch["token_lengths"], blank)
            else:  # every sample skipped: keep the ranks in step with a zero loss
                loss = sum(p.sum() for p in model.parameters()) * 0.0
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.grad_clip)
            optimizer.step()
            step += 1
            consumed += 1
            running_loss += loss.item()
            running_n += 1
            frames += int(batch["video_lengths"].sum())
            if step % train_cfg.log_every == 0:
                seconds = time.perf_counter() - window_start
                run.log(f"epoch {epoch} step {step}: loss {running_loss / running_n:.3f}  "
                        f"lr {optimizer.param_groups[0]['lr']:.2e}  {frames * run.world / seconds:.0f} frames/s  "
                        f"[{time.perf_counter() - started:.0f} s]")
                log_record({"event": "train", "step": step, "epoch": epoch, "loss": running_loss / running_n})
                running_loss, running_n, frames, window_start = 0.0, 0, 0, time.perf_counter()
            if step % train_cfg.checkpoint_every == 0:
                checkpoint(consumed)
            if train_cfg.max_steps is not None and step >= train_cfg.max_steps:
                run.log(f"reached train.max_steps={train_cfg.max_steps}")
                stop = True
                break
            if deadline is not None:
                over = torch.tensor([float(time.perf_counter() > deadline)])
                if run.distributed:
                    dist.all_reduce(over, op=dist.ReduceOp.MAX)  # every rank stops at the same step
                if over.item():
                    run.log(f"time limit of {train_cfg.max_minutes} min reached at step {step}")
                    stop = True
                    break
        if not stop:
            epoch += 1
            sampler.set_epoch(epoch)
            consumed = 0
            checkpoint(0)
            run_eval(f"epoch {epoch}")
            run.barrier()
    if stop:
        checkpoint(consumed)
        run_eval("end")
    skipped = train_loader.dataset.report().total()["skipped"]  # workers' skips included (shared counts)
    run.log(f"done: {step} steps in {time.perf_counter() - started:.0f} s; checkpoint {checkpoint_path}"
            + (f"; {skipped} train samples skipped (on_error=skip, see the log's warnings)" if skipped else ""))
    if log_file is not None:
        log_file.close()
    run.close()
    return 0
