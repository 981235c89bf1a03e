"""The :class:`Transform` base class, :class:`Compose`, and the seeding of all randomness by
``(seed, epoch, index, position)`` (:func:`seed_for`, :func:`make_generator`)."""
from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ._access import Batch, Sample
from ._checks import _check_int

_SEED_MASK = (1 << 63) - 1


# -- seeding -----------------------------------------------------------------------------------
def seed_for(seed: int, epoch: int, index: int, position: int) -> int:
    """The 63-bit seed of transform ``position`` for dataset sample ``index`` in ``epoch``.

    ``numpy.random.SeedSequence([seed, epoch, index, position]).generate_state(2)`` joined into one
    integer: well mixed, and the same on every machine, process and numpy version."""
    words = np.random.SeedSequence([int(seed), int(epoch), int(index), int(position)]).generate_state(2)
    return ((int(words[0]) << 32) | int(words[1])) & _SEED_MASK


def make_generator(seed: int, epoch: int, index: int, position: int) -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded with :func:`seed_for`."""
    generator = torch.Generator()
    generator.manual_seed(seed_for(seed, epoch, index, position))
    return generator


def _rand(generator: torch.Generator) -> float:
    """One uniform float in ``[0, 1)``."""
    return float(torch.rand((), generator=generator))


def _randint(generator: torch.Generator, low: int, high: int) -> int:
    """One uniform integer in ``[low, high]`` (both inclusive)."""
    return int(torch.randint(low, high + 1, (), generator=generator))


def _uniform(generator: torch.Generator, bounds: Tuple[float, float]) -> float:
    """A uniform draw in ``[low, high]``; always consumes one number so draws stay aligned."""
    u = _rand(generator)
    return bounds[0] + (bounds[1] - bounds[0]) * u


# -- base classes --------------------------------------------------------------------------------
class Transform(abc.ABC):
    """Abstract base class. Subclasses implement :meth:`apply` and :meth:`apply_batch`.

    ``random`` (class attribute): whether the transform draws random numbers. Deterministic
    transforms are called with ``generator=None`` by :class:`Compose`.

    Neither method modifies its input dict or tensors: they return a new (shallow-copied) dict.
    """

    random: bool = False

    @abc.abstractmethod
    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        """Transform one sample dict (``video [T, C, H, W]``, ``audio [640 * T]``, ...)."""

    @abc.abstractmethod
    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        """Transform a padded batch (one generator per row, seeded as the per-sample path)."""

    def bind(self, dataset: Any) -> None:
        """Give the transform access to the dataset (only :class:`InterferingSpeech` needs it)."""

    def __call__(self, sample: Sample) -> Sample:
        """Standalone use: seeded with ``(0, 0, sample.get("index", 0), 0)``."""
        return self.apply(sample, make_generator(0, 0, int(sample.get("index") or 0), 0))

    def batch(self, batch: Batch) -> Batch:
        """Standalone batch use, seeded per row as :meth:`__call__` seeds that row's sample."""
        rows = int(batch["video"].shape[0]) if "video" in batch else int(batch["audio"].shape[0])
        indices = batch.get("index") or [0] * rows
        return self.apply_batch(batch, [make_generator(0, 0, int(i), 0) for i in indices])

    def _config(self) -> Dict[str, Any]:
        """Constructor arguments, for ``repr``."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"


class Compose:
    """Applies ``transforms`` in order, seeding each random one per sample (see the
    :mod:`mcorec_torch.transforms` docstring).

    - ``compose(sample)``: per sample; reads ``sample["index"]`` (the dataset adds it).
    - ``compose.batch(batch)``: on a padded batch from :func:`mcorec_torch.collate` on any device;
      reads ``batch["index"]`` (a list).
    - ``set_epoch(epoch)``: new random draws each epoch; ``seed`` fixes the whole run.
    - ``bind(dataset)``: forwarded to every transform (needed by :class:`InterferingSpeech`).

    **Epochs and DataLoader workers.** Workers get a copy of the dataset (and so of this Compose)
    when the DataLoader *iterator* is created (``iter(loader)``, i.e. the start of a ``for`` loop).
    Call ``set_epoch(epoch)`` before iterating each epoch. With ``persistent_workers=True`` the
    workers keep the copy of the first epoch and never see a later ``set_epoch``: use
    non-persistent workers (the default) with random transforms, or apply the random transforms
    on the batch (:meth:`batch`) in the training process, where ``set_epoch`` is always seen.

    Picklable (spawn workers): it holds only its transforms, seed and epoch.
    """

    def __init__(self, transforms: Sequence[Transform], seed: int = 0) -> None:
        if isinstance(transforms, Transform) or not isinstance(transforms, (list, tuple)):
            raise TypeError(f"Compose: transforms must be a list of Transform objects, got {transforms!r}")
        for position, transform in enumerate(transforms):
            if not isinstance(transform, Transform):
                raise TypeError(f"Compose: transforms[{position}] is {transform!r}, not a mcorec_torch "
                                f"Transform (it needs apply/apply_batch)")
        self.transforms: List[Transform] = list(transforms)
        self.seed = _check_int("Compose", "seed", seed)
        self.epoch = 0

    @property
    def random(self) -> bool:
        return any(t.random for t in self.transforms)

    def set_epoch(self, epoch: int) -> None:
        """Select the random draws of ``epoch`` (call before creating the DataLoader iterator)."""
        self.epoch = _check_int("Compose", "epoch", epoch)

    def bind(self, dataset: Any) -> "Compose":
        for transform in self.transforms:
            transform.bind(dataset)
        return self

    def generator(self, index: int, position: int) -> torch.Generator:
        """The generator transform ``position`` uses for dataset sample ``index`` this epoch."""
        return make_generator(self.seed, self.epoch, index, position)

    def __call__(self, sample: Optional[Sample]) -> Optional[Sample]:
        if sample is None:  # a sample skipped by on_error="skip"
            return None
        index = sample.get("index")
        if index is None and self.random:
            raise KeyError("Compose: random transforms are seeded by sample['index'] (the dataset index), "
                           "which this sample lacks; MCoRecDataset adds it, add it to hand-made samples")
        for position, transform in enumerate(self.transforms):
            generator = self.generator(int(index), position) if transform.random else None
            sample = transform.apply(sample, generator)
        return sample

    def batch(self, batch: Batch) -> Batch:
        """Apply to a padded batch (any device); random draws per row from ``batch["index"]``."""
        indices = batch.get("index")
        if indices is None:
            if self.random:
                raise KeyError("Compose.batch: random transforms are seeded by batch['index'] (dataset "
                               "indices), which this batch lacks; mcorec_torch.collate keeps it")
            rows = int(batch["video"].shape[0]) if "video" in batch else int(batch["audio"].shape[0])
            indices = [0] * rows
        indices = [int(i) for i in indices]
        for position, transform in enumerate(self.transforms):
            if transform.random:
                generators = [self.generator(i, position) for i in indices]
            else:
                generators = [None] * len(indices)
            batch = transform.apply_batch(batch, generators)
        return batch

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, position: int) -> Transform:
        return self.transforms[position]

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n], seed={self.seed}, epoch={self.epoch})"
