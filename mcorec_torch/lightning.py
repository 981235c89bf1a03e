"""``MCoRecDataModule``: the loaders of a YAML experiment config as a Lightning ``LightningDataModule``
(the ``lightning`` extra; import this module only when you use it).

    dm = MCoRecDataModule("configs/demo.yaml")
    lightning.Trainer(strategy="ddp", devices=2).fit(model, datamodule=dm)

What it takes care of:

* **DDP.** Batches come from :class:`~mcorec_torch.data.samplers.BucketBatchSampler` built
  for the trainer's world size and rank. The loader's sampler is that batch sampler behind a
  ``DistributedSampler`` subclass, so Lightning's ``use_distributed_sampler`` (on by default)
  sees a distributed sampler and keeps it: no wrapping of a sampler it cannot rebuild and no
  need for ``use_distributed_sampler=False``.
* **Epochs.** Lightning calls the sampler's ``set_epoch`` before every epoch; it sets the
  epoch on the batch sampler (a new order) and on the split's transforms (new augmentation).
* **Resuming.** The module's ``state_dict`` (saved in Lightning checkpoints) holds the batch
  sampler's state at the batches the fit loop has processed, so ``fit(ckpt_path=...)`` of a
  mid-epoch checkpoint continues with the batches an uninterrupted run would have given.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List, Optional, Union

import lightning as L
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .config import ExperimentConfig, build_dataset, build_sampler, build_tokenizer, load_config, prepare_data
from .config.build import loader_options
from .data.collate import Collator


class _SampleLists(Dataset):
    """``dataset[[i, j, ...]]`` = the samples of one batch (collated by the loader's collate_fn)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, indices: List[int]) -> List[Any]:
        return self.dataset.__getitems__(list(indices))  # decoded into the batch (SPEC §5)


class EpochBatchSampler(DistributedSampler):
    """A ``BucketBatchSampler`` (batches of segment indices) in the shape Lightning expects under
    DDP; ``set_epoch`` moves the batch sampler and the dataset's transforms to the epoch."""

    def __init__(self, batches: Any, dataset: Any) -> None:  # noqa: D107 - no DistributedSampler set-up needed
        self.batches, self.dataset = batches, dataset
        self.num_replicas, self.rank = batches.num_replicas, batches.rank
        self.shuffle, self.epoch, self.seed, self.drop_last = batches.shuffle, batches.epoch, batches.seed, batches.drop_last

    def __iter__(self) -> Iterator[List[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        """Batches of the whole epoch, those a resume skips included: Lightning counts the
        epoch's batches from its start (it restores how many it has processed)."""
        return len(self.batches) + self.batches.resume_from

    def set_epoch(self, epoch: int) -> None:
        """Order and augmentation of ``epoch`` (a resumed epoch keeps its position)."""
        self.epoch = int(epoch)
        self.batches.set_epoch(epoch)
        transform = getattr(self.dataset, "transform", None)
        if transform is not None and hasattr(transform, "set_epoch"):
            transform.set_epoch(epoch)


class MCoRecDataModule(L.LightningDataModule):
    """Train and validation loaders of ``config`` (an :class:`~mcorec_torch.config.ExperimentConfig`
    or a YAML path); ``train_split``/``val_split`` name its splits (``val_split=None``: no
    validation loader)."""

    def __init__(self, config: Union[ExperimentConfig, str, os.PathLike], train_split: str = "train",
                 val_split: Optional[str] = "valid") -> None:
        super().__init__()
        self.config = config if isinstance(config, ExperimentConfig) else load_config(config)
        self.train_split, self.val_split = train_split, val_split
        self.datasets: Dict[str, Any] = {}
        self.samplers: Dict[str, EpochBatchSampler] = {}
        self._pending: Dict[str, Dict[str, Any]] = {}

    def prepare_data(self) -> None:
        """Write missing synthetic splits and train a missing tokenizer (rank 0 only)."""
        prepare_data(self.config)

    def setup(self, stage: Optional[str] = None) -> None:
        tokenizer = build_tokenizer(self.config)
        for split in (self.train_split, self.val_split):
            if split is not None and split not in self.datasets:
                self.datasets[split] = build_dataset(self.config, split, tokenizer=tokenizer)

    def _attached_trainer(self) -> Any:
        """The trainer this module is attached to (``LightningDataModule.trainer``), or None."""
        return getattr(self, "trainer", None)

    def _world(self) -> tuple:
        """``(world size, global rank)`` of the attached trainer; ``(1, 0)`` without one."""
        trainer = self._attached_trainer()
        if trainer is None:
            return 1, 0
        return int(trainer.world_size), int(trainer.global_rank)

    def _loader(self, split: str) -> DataLoader:
        if split not in self.datasets:
            self.setup()
        dataset = self.datasets[split]
        replicas, rank = self._world()
        batches = build_sampler(self.config, split, dataset, num_replicas=replicas, rank=rank)
        if split in self._pending:
            batches.load_state_dict(self._pending.pop(split))
        sampler = EpochBatchSampler(batches, dataset)
        sampler.set_epoch(batches.epoch)
        self.samplers[split] = sampler
        return DataLoader(_SampleLists(dataset), sampler=sampler, batch_size=None,
                          collate_fn=Collator(pad_to_multiple_of=self.config.loader.pad_to_multiple_of),
                          **loader_options(self.config))

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_split)

    def val_dataloader(self) -> Any:
        return self._loader(self.val_split) if self.val_split is not None else []

    def state_dict(self) -> Dict[str, Any]:
        """The train sampler's resume state at the batches the fit loop has processed."""
        sampler = self.samplers.get(self.train_split)
        if sampler is None:
            return {}
        trainer = self._attached_trainer()
        consumed = None if trainer is None else int(trainer.fit_loop.epoch_loop.batch_progress.current.processed)
        return {"train": sampler.batches.state_dict(consumed)}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Resume the train loader from :meth:`state_dict` (applied when it is built)."""
        if "train" in state:
            self._pending[self.train_split] = state["train"]
