"""Augmentations and features for audio-visual speech recognition training.

Every transform works in two places with the same result:

* **per sample** (:meth:`Transform.apply`), on CPU in DataLoader workers, on the sample dict of
  :class:`mcorec_torch.MCoRecDataset` — ``video`` ``[T, C, H, W]``, ``video_mask`` ``[T]``,
  ``audio`` ``[640 * T]``;
* **per batch** (:meth:`Transform.apply_batch`), on the padded batch of
  :func:`mcorec_torch.collate`, on whatever device its tensors are on (CPU or CUDA) —
  ``video`` ``[B, Tmax, C, H, W]`` with ``video_lengths`` / ``video_mask``, ``audio``
  ``[B, 640 * Tmax]`` with ``audio_lengths``. Padding beyond the lengths is never read into a
  result and stays zero.

``collate([compose(s) for s in samples])`` equals ``compose.batch(collate(samples))``: exactly for
the integer and deterministic transforms, to float rounding for the others.

Units: video time in **frames** (25 fps), audio time in **samples** (16 kHz, 640 per frame)
unless an argument says **seconds**; levels in **dB**; pixel sizes in **pixels**.

Randomness
----------
A random transform draws everything from a CPU :class:`torch.Generator` seeded by
``(seed, epoch, index, position)`` — the :class:`Compose` seed, its epoch, the sample's dataset
index (``sample["index"]``, ``batch["index"][b]``) and the transform's position in the Compose
(see :func:`make_generator`). The draws therefore do not depend on the number of workers, the
rank, the batch a sample lands in, or where a run was resumed; on the batch path the numbers are
drawn on CPU per row and moved to the batch's device, so a GPU batch gets the parameters the
per-sample path would have used.

Usage
-----
Per sample, in DataLoader workers::

    from mcorec_torch import MCoRecDataset, collate
    from mcorec_torch.transforms import (Compose, RandomCrop, Gray, HorizontalFlip, VideoTimeMask,
                                         Normalize, AudioTimeMask, AddNoise, InterferingSpeech, LogFbank)

    augment = Compose([RandomCrop(88), Gray(), HorizontalFlip(), VideoTimeMask(), Normalize(),
                       AudioTimeMask(), InterferingSpeech(), AddNoise(), LogFbank()], seed=0)
    dataset = MCoRecDataset("train", transform=augment)   # binds it: InterferingSpeech reads
                                             # other segments' audio (set later: augment.bind(dataset))
    loader = DataLoader(dataset, collate_fn=collate, num_workers=4)
    for epoch in range(epochs):
        augment.set_epoch(epoch)             # before the loop creates the iterator
        for batch in loader: ...

Or on the batch, e.g. on the GPU: build the dataset without ``transform``, move the collated
batch's tensors to the device and call ``augment.batch(batch)`` — same numbers.

Configs
-------
:data:`TRANSFORMS` maps the names used in YAML configs to the classes; every constructor takes
plain values (numbers, lists, booleans) and checks them, naming the argument in the error.

``torchvision`` and ``torchaudio`` (the ``train`` extra) are imported only by the transforms that
use them (crops, gray, flip: torchvision; :class:`LogFbank`: torchaudio).

Layout
------
:mod:`~mcorec_torch.transforms.base` (:class:`Transform`, :class:`Compose`, the seeding),
:mod:`~mcorec_torch.transforms.video` (crops, gray, normalize, flip, video time mask),
:mod:`~mcorec_torch.transforms.audio` (audio time mask, noise at an SNR),
:mod:`~mcorec_torch.transforms.mixing` (interfering speech of the same session),
:mod:`~mcorec_torch.transforms.features` (:class:`LogFbank`) and
:mod:`~mcorec_torch.transforms.registry` (:data:`TRANSFORMS`); every public name is importable
from ``mcorec_torch.transforms``.
"""
from __future__ import annotations

from ._access import Batch, Sample  # noqa: F401 - the type names of the old module (not in __all__)
from .audio import AddNoise, AudioTimeMask
from .base import Compose, Transform, make_generator, seed_for
from .features import LogFbank
from .mixing import InterferingSpeech
from .registry import TRANSFORMS
from .video import CenterCrop, Gray, HorizontalFlip, Normalize, RandomCrop, VideoTimeMask

__all__ = [
    "Transform", "Compose", "make_generator", "seed_for",
    "CenterCrop", "RandomCrop", "Gray", "Normalize", "HorizontalFlip", "VideoTimeMask",
    "AudioTimeMask", "AddNoise", "InterferingSpeech", "LogFbank", "TRANSFORMS",
]
