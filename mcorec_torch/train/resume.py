"""The trainer's run folder and checkpoints: where a run lives (:func:`run_folder`), the refusal
to train over a run without ``--resume`` or ``--overwrite`` (:func:`claim_run_folder`), atomic
checkpoint writes (:func:`save_checkpoint`) and the position a checkpoint resumes at
(:func:`resume_position`), also when it was saved by another number of processes.

The checkpoint's sampler state (:meth:`~mcorec_torch.data.samplers.BucketBatchSampler.state_dict`,
rank 0's) records the world size, the epoch and the batches of that epoch each process had
consumed. Another world size shares an epoch's batches differently, so such a checkpoint can
only continue at an epoch boundary: at once when it was saved at one (its next batch is an
epoch's first, or it stopped after an epoch's last), with ``--next-epoch`` when it was saved
mid-epoch (the rest of that epoch skipped); otherwise :func:`resume_position` refuses it naming
the flag.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from .._io import atomic_write_bytes
from ..config import ConfigError, ExperimentConfig
from ..errors import MCoRecDataError

__all__ = ["run_folder", "claim_run_folder", "save_checkpoint", "resume_position"]


def run_folder(config: ExperimentConfig) -> Path:
    """``train.out_dir`` with ``~`` and ``$VARS`` expanded: where ``last.pt``, ``log.jsonl``,
    the challenge hypotheses and ``decode``'s default hypotheses go."""
    return Path(os.path.expandvars(os.path.expanduser(config.train.out_dir)))


def claim_run_folder(config: ExperimentConfig, out_dir: Path, resume: Optional[str], overwrite: bool,
                     next_epoch: bool = False) -> None:
    """Refuse to train into a folder that holds a run unless ``--resume`` or ``--overwrite``
    says which; a ``--resume`` without a checkpoint to resume from, and ``--next-epoch``
    without ``--resume``, are refused too."""
    if resume and overwrite:
        raise ConfigError(config.source, "", "--resume and --overwrite exclude each other")
    if next_epoch and not resume:
        raise ConfigError(config.source, "", "--next-epoch continues a checkpoint: it needs --resume")
    held = [p.name for p in (out_dir / "last.pt", out_dir / "log.jsonl") if p.exists()]
    if held and not resume and not overwrite:
        raise ConfigError(config.source, "train.out_dir", f"{out_dir} already holds a run ({', '.join(held)}); "
                          "pass --resume to continue it or --overwrite to start over")
    if resume == "auto" and not (out_dir / "last.pt").is_file():
        raise ConfigError(config.source, "train.out_dir", f"--resume: {out_dir / 'last.pt'} does not exist")


def save_checkpoint(path: Path, state: Dict[str, Any]) -> None:
    """``torch.save(state)`` to ``path``, written atomically (a reader never sees a part)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def resume_position(path: Path, saved: Dict[str, Any], world: int, next_epoch: bool,
                    batches_per_rank: Callable[[int, int], int]) -> Tuple[Dict[str, Any], str]:
    """The sampler state a run of ``world`` processes continues from, given the checkpoint
    ``path``'s sampler state ``saved``, and what changed as one clause (``""`` when nothing).

    ``next_epoch`` (``--next-epoch``): a mid-epoch position moves to the next epoch's first
    batch. With another world size than the checkpoint's, a position after the epoch's last
    batch (``batches_per_rank(epoch, saved world)``: batches of an epoch on each process) moves
    there too, and one at an epoch's first batch continues as it is; a mid-epoch position
    without ``next_epoch`` raises :class:`MCoRecDataError` naming ``path`` and ``--next-epoch``.
    The returned state has this run's world size (the sampler then checks the rest: seed,
    dataset, configuration)."""
    saved_world = int(saved["num_replicas"])
    epoch, consumed = int(saved["epoch"]), int(saved["batches_consumed"])
    changes: List[str] = []
    if saved_world != world and consumed > 0 and consumed == batches_per_rank(epoch, saved_world):
        changes.append(f"epoch {epoch} was complete")  # stopped (max_steps) after its last batch
        epoch, consumed = epoch + 1, 0
    elif next_epoch and consumed > 0:
        changes.append(f"skipped the rest of epoch {epoch} (saved after its batch {consumed} on each process)")
        epoch, consumed = epoch + 1, 0
    if saved_world != world:
        if consumed > 0:
            raise MCoRecDataError(path, f"saved by {saved_world} process(es) after batch {consumed} of epoch "
                                  f"{epoch} on each; this run has {world}, which shares the epoch's batches "
                                  f"differently. Pass --next-epoch to continue at the start of epoch {epoch + 1} "
                                  f"with {world} process(es) (the rest of epoch {epoch} is skipped), or run "
                                  f"with {saved_world} process(es) to continue exactly")
        changes.append(f"saved by {saved_world} process(es), continuing at the start of epoch {epoch} with {world}")
    return dict(saved, epoch=epoch, batches_consumed=consumed, num_replicas=world), "; ".join(changes)
