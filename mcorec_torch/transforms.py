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
"""
from __future__ import annotations

import abc
import math
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .timeline import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME

__all__ = [
    "Transform", "Compose", "make_generator", "seed_for",
    "CenterCrop", "RandomCrop", "Gray", "Normalize", "HorizontalFlip", "VideoTimeMask",
    "AudioTimeMask", "AddNoise", "InterferingSpeech", "LogFbank", "TRANSFORMS",
]

Sample = Dict[str, Any]
Batch = Dict[str, Any]

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


# -- argument checks (errors name the argument) -------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_int(owner: str, name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_float(owner: str, name: str, value: Any, minimum: float = 0.0,
                 maximum: float = math.inf, strict: bool = False) -> float:
    ok = _is_number(value) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > minimum if strict else v >= minimum) and v <= maximum
    if not ok:
        bound = f"> {minimum}" if strict else f">= {minimum}"
        upper = "" if maximum == math.inf else f" and <= {maximum}"
        raise ValueError(f"{owner}: {name} must be a finite number {bound}{upper}, got {value!r}")
    return float(value)


def _check_probability(owner: str, value: Any) -> float:
    return _check_float(owner, "p", value, 0.0, 1.0)


def _check_size(owner: str, value: Any) -> Tuple[int, int]:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                                   for v in value):
            return int(value[0]), int(value[1])
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0:
        return int(value), int(value)
    raise ValueError(f"{owner}: size must be a positive integer or [height, width] of positive integers "
                     f"(pixels), got {value!r}")


def _check_range(owner: str, name: str, value: Any) -> Tuple[float, float]:
    if _is_number(value) and math.isfinite(float(value)):
        return float(value), float(value)
    if (isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value)
            and all(math.isfinite(float(v)) for v in value) and float(value[0]) <= float(value[1])):
        return float(value[0]), float(value[1])
    raise ValueError(f"{owner}: {name} must be a number or [low, high] with low <= high, got {value!r}")


def _check_channels(owner: str, name: str, value: Any, minimum: float, strict: bool) -> Tuple[float, ...]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ValueError(f"{owner}: {name} must be a number or a list of per-channel numbers, got {value!r}")
    return tuple(_check_float(owner, name, v, minimum=minimum, strict=strict) for v in values)


def _uniform(generator: torch.Generator, bounds: Tuple[float, float]) -> float:
    """A uniform draw in ``[low, high]``; always consumes one number so draws stay aligned."""
    u = _rand(generator)
    return bounds[0] + (bounds[1] - bounds[0]) * u


# -- sample / batch access -----------------------------------------------------------------------
def _get(data: Dict[str, Any], key: str, owner: str, what: str = "sample") -> Any:
    if key not in data:
        raise KeyError(f"{owner} needs {what}[{key!r}], which is missing (keys: {sorted(data)})")
    return data[key]


def _video_lengths(batch: Batch, owner: str) -> List[int]:
    return [int(n) for n in _get(batch, "video_lengths", owner, "batch").tolist()]


def _audio_lengths(batch: Batch, owner: str) -> List[int]:
    return [int(n) for n in _get(batch, "audio_lengths", owner, "batch").tolist()]


def _check_generators(owner: str, generators: Sequence[Any], rows: int) -> None:
    if len(generators) != rows:
        raise ValueError(f"{owner}: got {len(generators)} generators for a batch of {rows} rows")


def _valid_frames(batch: Batch, owner: str) -> torch.Tensor:
    """``[B, Tmax]`` bool: frames that are real (``video_mask``) and inside ``video_lengths``."""
    video = _get(batch, "video", owner, "batch")
    lengths = _get(batch, "video_lengths", owner, "batch").to(video.device)
    inside = torch.arange(video.shape[1], device=video.device)[None, :] < lengths[:, None]
    mask = batch.get("video_mask")
    return inside if mask is None else inside & mask.to(video.device, torch.bool)


def _sample_valid_frames(sample: Sample, owner: str) -> torch.Tensor:
    video = _get(sample, "video", owner)
    mask = sample.get("video_mask")
    if mask is None:
        return torch.ones(video.shape[0], dtype=torch.bool, device=video.device)
    return mask.to(video.device, torch.bool)


def _check_video(owner: str, video: torch.Tensor, dims: int) -> None:
    if video.dim() != dims:
        layout = "[T, C, H, W]" if dims == 4 else "[B, T, C, H, W]"
        raise ValueError(f"{owner}: video must be {layout}, got shape {tuple(video.shape)}")


def _num_masks(length: int, rate: float, per_second: float) -> int:
    """``int(length / rate * per_second)`` masks, at least one for a non-empty signal (none when
    ``per_second`` is 0)."""
    if length <= 0 or per_second <= 0:
        return 0
    return max(1, int(length / rate * per_second))


def _draw_spans(generator: torch.Generator, length: int, count: int, max_len: int) -> List[Tuple[int, int]]:
    """``count`` spans ``[start, end)`` inside ``[0, length)``: span length uniform in
    ``[0, max_len]`` (clipped to ``length``), start uniform among the positions where it fits."""
    spans = []
    for _ in range(count):
        n = min(_randint(generator, 0, max_len), length)
        start = _randint(generator, 0, length - n)
        spans.append((start, start + n))
    return spans


def _spans_mask(rows: Sequence[Sequence[Tuple[int, int]]], width: int) -> torch.Tensor:
    """``[len(rows), width]`` bool (CPU), True inside the spans of each row."""
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for b, spans in enumerate(rows):
        for start, end in spans:
            mask[b, start:end] = True
    return mask


def _padded_rows(rows: Sequence[Optional[torch.Tensor]], width: int, dtype: torch.dtype) -> torch.Tensor:
    """Stack 1-d CPU tensors (``None`` = all zero) into ``[len(rows), width]``, zero padded."""
    out = torch.zeros(len(rows), width, dtype=dtype)
    for b, row in enumerate(rows):
        if row is not None:
            out[b, : row.shape[0]] = row
    return out


def _scale_to_snr(target: torch.Tensor, added: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """Gain per row (``[..., L]`` → ``[...]``) so that ``energy(target) / energy(gain * added)`` is
    ``snr_db``. Energies are sums over the row (padding is zero in both), in float64. A silent
    target or a silent ``added`` gives gain 0 (nothing is added, no NaN)."""
    e_target = target.double().pow(2).sum(-1)
    e_added = added.double().pow(2).sum(-1)
    ratio = e_target / (e_added * torch.pow(10.0, snr_db.double() / 10.0))
    gain = torch.where(e_added > 0, ratio, torch.zeros_like(ratio)).sqrt()
    return gain.to(target.dtype)


def _torchvision_functional():
    try:
        import torchvision.transforms.v2.functional as F
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the video transforms need torchvision: pip install 'mcorec_torch[train]'") from exc
    return F


def _kaldi():
    try:
        import torchaudio.compliance.kaldi as kaldi
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("LogFbank needs torchaudio: pip install 'mcorec_torch[train]'") from exc
    return kaldi


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
    """Applies ``transforms`` in order, seeding each random one per sample (see module docstring).

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


# -- video ---------------------------------------------------------------------------------------
class _Crop(Transform):
    def __init__(self, size: Any = 88) -> None:
        self.size = _check_size(type(self).__name__, size)

    def _config(self) -> Dict[str, Any]:
        return {"size": list(self.size)}

    def _check_frame(self, video: torch.Tensor) -> Tuple[int, int]:
        height, width = int(video.shape[-2]), int(video.shape[-1])
        if height < self.size[0] or width < self.size[1]:
            raise ValueError(f"{type(self).__name__}: frames are {height}x{width} (HxW), smaller than the "
                             f"crop size {self.size[0]}x{self.size[1]}")
        return height, width

    @staticmethod
    def _window(video: torch.Tensor, top: int, left: int, size: Tuple[int, int]) -> torch.Tensor:
        F = _torchvision_functional()
        # a copy, so that a worker does not ship the whole uncropped storage to the main process
        return F.crop(video, top, left, size[0], size[1]).clone(memory_format=torch.contiguous_format)


class CenterCrop(_Crop):
    """Crop ``size`` pixels (int, or ``[height, width]``) from the centre of every frame — the window
    of :func:`torchvision.transforms.v2.functional.center_crop` (top ``round((H - h) / 2)``).
    Frames smaller than ``size`` are an error (nothing is padded)."""

    def _top_left(self, video: torch.Tensor) -> Tuple[int, int]:
        height, width = self._check_frame(video)
        return int(round((height - self.size[0]) / 2.0)), int(round((width - self.size[1]) / 2.0))

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "CenterCrop")
        _check_video("CenterCrop", video, 4)
        top, left = self._top_left(video)
        return {**sample, "video": self._window(video, top, left, self.size)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "CenterCrop", "batch")
        _check_video("CenterCrop", video, 5)
        top, left = self._top_left(video)
        return {**batch, "video": self._window(video, top, left, self.size)}


class RandomCrop(_Crop):
    """Crop ``size`` pixels (int, or ``[height, width]``) at a random position, the same window for
    every frame of a clip (top and left uniform among the positions where it fits). Frames smaller
    than ``size`` are an error (nothing is padded)."""

    random = True

    def _top_left(self, generator: torch.Generator, height: int, width: int) -> Tuple[int, int]:
        top = _randint(generator, 0, height - self.size[0])
        left = _randint(generator, 0, width - self.size[1])
        return top, left

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "RandomCrop")
        _check_video("RandomCrop", video, 4)
        top, left = self._top_left(generator, *self._check_frame(video))
        return {**sample, "video": self._window(video, top, left, self.size)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "RandomCrop", "batch")
        _check_video("RandomCrop", video, 5)
        _check_generators("RandomCrop", generators, video.shape[0])
        height, width = self._check_frame(video)
        F = _torchvision_functional()
        out = video.new_empty(tuple(video.shape[:3]) + self.size)
        for b, generator in enumerate(generators):
            top, left = self._top_left(generator, height, width)
            out[b] = F.crop(video[b], top, left, self.size[0], self.size[1])
        return {**batch, "video": out}


class Gray(Transform):
    """RGB frames to one gray channel with :func:`torchvision.transforms.v2.functional.rgb_to_grayscale`
    (``0.2989 R + 0.587 G + 0.114 B``, truncated back to uint8 for uint8 frames). One-channel
    frames pass unchanged. Note: ``MCoRecDataset(color="gray")`` gives the decoded luma instead
    (SPEC §8), which is not the same numbers."""

    def _gray(self, video: torch.Tensor) -> torch.Tensor:
        channels = int(video.shape[-3])
        if channels == 1:
            return video
        if channels != 3:
            raise ValueError(f"Gray: frames must have 1 or 3 channels, got {channels} (shape {tuple(video.shape)})")
        return _torchvision_functional().rgb_to_grayscale(video, num_output_channels=1)

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "Gray")
        _check_video("Gray", video, 4)
        return {**sample, "video": self._gray(video)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "Gray", "batch")
        _check_video("Gray", video, 5)
        return {**batch, "video": self._gray(video)}


class Normalize(Transform):
    """uint8 frames to float32 ``(x / 255 - mean) / std``; float frames are taken to be in
    ``[0, 1]`` already: ``(x - mean) / std``.

    ``mean`` and ``std`` are numbers or per-channel lists. The defaults 0.421 / 0.165 are the LRS3
    gray lip-ROI statistics used by auto_avsr. Padding frames (``video_mask`` False) and, on a
    batch, frames beyond ``video_lengths`` are set to 0 (the normalised mean)."""

    def __init__(self, mean: Any = 0.421, std: Any = 0.165) -> None:
        self.mean = _check_channels("Normalize", "mean", mean, minimum=-math.inf, strict=False)
        self.std = _check_channels("Normalize", "std", std, minimum=0.0, strict=True)

    def _config(self) -> Dict[str, Any]:
        simplify = (lambda v: v[0] if len(v) == 1 else list(v))
        return {"mean": simplify(self.mean), "std": simplify(self.std)}

    def _normalize(self, video: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        channels = int(video.shape[-3])
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: {name} has {len(values)} values, frames have {channels} channels")
        x = video.to(torch.float32)
        if not video.is_floating_point():
            x = x / 255.0
        mean = torch.tensor(self.mean, dtype=torch.float32, device=video.device).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=video.device).view(-1, 1, 1)
        x = (x - mean) / std
        keep = valid.view(tuple(valid.shape) + (1, 1, 1))
        return torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "Normalize")
        _check_video("Normalize", video, 4)
        return {**sample, "video": self._normalize(video, _sample_valid_frames(sample, "Normalize"))}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "Normalize", "batch")
        _check_video("Normalize", video, 5)
        return {**batch, "video": self._normalize(video, _valid_frames(batch, "Normalize"))}


class HorizontalFlip(Transform):
    """Mirror every frame left-right with probability ``p`` — one decision per clip, so either all
    frames of a clip are flipped or none."""

    random = True

    def __init__(self, p: float = 0.5) -> None:
        self.p = _check_probability("HorizontalFlip", p)

    def _config(self) -> Dict[str, Any]:
        return {"p": self.p}

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "HorizontalFlip")
        _check_video("HorizontalFlip", video, 4)
        if _rand(generator) < self.p:
            video = _torchvision_functional().horizontal_flip(video)
        return {**sample, "video": video}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "HorizontalFlip", "batch")
        _check_video("HorizontalFlip", video, 5)
        _check_generators("HorizontalFlip", generators, video.shape[0])
        flips = torch.tensor([_rand(g) < self.p for g in generators], dtype=torch.bool)
        if not bool(flips.any()):
            return dict(batch)
        flipped = _torchvision_functional().horizontal_flip(video)
        where = flips.to(video.device).view(-1, 1, 1, 1, 1)
        return {**batch, "video": torch.where(where, flipped, video)}


class VideoTimeMask(Transform):
    """Replace random spans of frames by the clip's mean frame (auto_avsr's adaptive time mask).

    - number of masks: ``int(T / 25 * masks_per_second)`` for a clip of ``T`` frames, **at least
      one** for any non-empty clip (auto_avsr uses about one per second, rounded up);
      ``masks_per_second=0`` disables the transform;
    - each mask is ``0 .. max_frames`` frames long (uniform, inclusive; clipped to ``T``) and lies
      inside ``[0, T)`` (start uniform among the positions where it fits); masks may overlap;
    - fill value: the mean frame (per pixel and channel) over the clip's *valid* frames
      (``video_mask`` True, inside the length), rounded to the nearest integer for uint8 video. On
      a batch each row uses its own valid frames, so the result equals the per-sample one;
    - padding frames (``video_mask`` False) inside a mask are left as they are (zero), so they stay
      recognisable as padding; frames beyond the length are never touched.

    Works on uint8 or float video (before or after :class:`Normalize`).
    """

    random = True

    def __init__(self, max_frames: int = 10, masks_per_second: float = 1.0) -> None:
        self.max_frames = _check_int("VideoTimeMask", "max_frames", max_frames)
        self.masks_per_second = _check_float("VideoTimeMask", "masks_per_second", masks_per_second)

    def _config(self) -> Dict[str, Any]:
        return {"max_frames": self.max_frames, "masks_per_second": self.masks_per_second}

    def num_masks(self, num_frames: int) -> int:
        """How many masks a clip of ``num_frames`` frames gets."""
        return _num_masks(int(num_frames), FPS, self.masks_per_second)

    def _spans(self, generator: torch.Generator, length: int) -> List[Tuple[int, int]]:
        return _draw_spans(generator, length, self.num_masks(length), self.max_frames)

    @staticmethod
    def _mask(video: torch.Tensor, valid: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        """``video [B, T, C, H, W]``, ``valid``/``spans`` ``[B, T]`` bool (spans may be on CPU)."""
        weights = valid.view(tuple(valid.shape) + (1, 1, 1))
        zero = torch.zeros((), dtype=video.dtype, device=video.device)
        count = valid.sum(1).clamp_min(1).view(-1, 1, 1, 1)
        if video.is_floating_point():
            total = torch.where(weights, video, zero).sum(1, dtype=torch.float64)
            fill = (total / count).to(video.dtype)
        else:  # integer sum: exact, so every device and padding gives the same fill
            total = torch.where(weights, video, zero).sum(1, dtype=torch.int64)
            fill = torch.round(total.double() / count).to(video.dtype)
        hit = (spans.to(video.device) & valid).view(tuple(valid.shape) + (1, 1, 1))
        return torch.where(hit, fill[:, None], video)

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        video = _get(sample, "video", "VideoTimeMask")
        _check_video("VideoTimeMask", video, 4)
        spans = _spans_mask([self._spans(generator, int(video.shape[0]))], int(video.shape[0]))
        valid = _sample_valid_frames(sample, "VideoTimeMask")[None]
        return {**sample, "video": self._mask(video[None], valid, spans)[0]}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        video = _get(batch, "video", "VideoTimeMask", "batch")
        _check_video("VideoTimeMask", video, 5)
        _check_generators("VideoTimeMask", generators, video.shape[0])
        lengths = _video_lengths(batch, "VideoTimeMask")
        spans = _spans_mask([self._spans(g, n) for g, n in zip(generators, lengths)], int(video.shape[1]))
        return {**batch, "video": self._mask(video, _valid_frames(batch, "VideoTimeMask"), spans)}


# -- audio ---------------------------------------------------------------------------------------
class AudioTimeMask(Transform):
    """Set random spans of the audio to zero.

    Number of masks: ``int(L / 16000 * masks_per_second)`` for ``L`` samples, at least one for
    non-empty audio (``masks_per_second=0`` disables it). Each span is ``0 .. round(max_seconds *
    16000)`` samples long (uniform, inclusive; clipped to ``L``) and lies inside ``[0, L)``."""

    random = True

    def __init__(self, max_seconds: float = 0.4, masks_per_second: float = 1.0) -> None:
        self.max_seconds = _check_float("AudioTimeMask", "max_seconds", max_seconds)
        self.masks_per_second = _check_float("AudioTimeMask", "masks_per_second", masks_per_second)
        self.max_samples = int(round(self.max_seconds * SAMPLE_RATE))

    def _config(self) -> Dict[str, Any]:
        return {"max_seconds": self.max_seconds, "masks_per_second": self.masks_per_second}

    def num_masks(self, num_samples: int) -> int:
        """How many masks audio of ``num_samples`` samples gets."""
        return _num_masks(int(num_samples), SAMPLE_RATE, self.masks_per_second)

    def _spans(self, generator: torch.Generator, length: int) -> List[Tuple[int, int]]:
        return _draw_spans(generator, length, self.num_masks(length), self.max_samples)

    @staticmethod
    def _zero(audio: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        return torch.where(spans.to(audio.device), torch.zeros((), dtype=audio.dtype, device=audio.device), audio)

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        audio = _get(sample, "audio", "AudioTimeMask")
        length = int(audio.shape[0])
        spans = _spans_mask([self._spans(generator, length)], length)[0]
        return {**sample, "audio": self._zero(audio, spans)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        audio = _get(batch, "audio", "AudioTimeMask", "batch")
        _check_generators("AudioTimeMask", generators, audio.shape[0])
        lengths = _audio_lengths(batch, "AudioTimeMask")
        spans = _spans_mask([self._spans(g, n) for g, n in zip(generators, lengths)], int(audio.shape[1]))
        return {**batch, "audio": self._zero(audio, spans)}


class AddNoise(Transform):
    """Add white Gaussian noise with probability ``p`` at an SNR (dB) drawn uniformly from
    ``snr_db = [low, high]`` (a single number means that SNR).

    The SNR is exact over the valid samples: signal and noise energies are measured on
    ``[0, L)`` and the noise is scaled to match, so ``10 log10(E_signal / E_noise) == snr``.
    Silent audio stays silent (the noise gain is 0), padding stays zero."""

    random = True

    def __init__(self, snr_db: Any = (5.0, 20.0), p: float = 1.0) -> None:
        self.snr_db = _check_range("AddNoise", "snr_db", snr_db)
        self.p = _check_probability("AddNoise", p)

    def _config(self) -> Dict[str, Any]:
        return {"snr_db": list(self.snr_db), "p": self.p}

    def _draw(self, generator: torch.Generator, length: int) -> Tuple[Optional[torch.Tensor], float]:
        """The unscaled noise (``None`` when not applied) and the SNR."""
        apply = _rand(generator) < self.p
        snr = _uniform(generator, self.snr_db)
        if not apply or length == 0:
            return None, snr
        return torch.randn(length, generator=generator), snr

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        audio = _get(sample, "audio", "AddNoise")
        noise, snr = self._draw(generator, int(audio.shape[0]))
        if noise is None:
            return dict(sample)
        noise = noise.to(audio.device, audio.dtype)
        gain = _scale_to_snr(audio, noise, torch.tensor(snr, dtype=torch.float64, device=audio.device))
        return {**sample, "audio": audio + gain * noise}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        audio = _get(batch, "audio", "AddNoise", "batch")
        _check_generators("AddNoise", generators, audio.shape[0])
        lengths = _audio_lengths(batch, "AddNoise")
        draws = [self._draw(g, n) for g, n in zip(generators, lengths)]
        if all(noise is None for noise, _ in draws):
            return dict(batch)
        noise = _padded_rows([d[0] for d in draws], int(audio.shape[1]), torch.float32)
        noise = noise.to(audio.device, audio.dtype)
        snr = torch.tensor([d[1] for d in draws], dtype=torch.float64, device=audio.device)
        gain = _scale_to_snr(audio, noise, snr)
        return {**batch, "audio": audio + gain[:, None] * noise}


class InterferingSpeech(Transform):
    """With probability ``p``, add the audio of another speaker of the same session at an SNR (dB)
    drawn uniformly from ``snr_db = [low, high]`` (a single number means that SNR) — the
    overlapped speech of a multi-party conversation.

    Needs :meth:`bind` (``compose.bind(dataset)``): it uses ``dataset.segment_session``,
    ``dataset.segment_speaker`` and ``dataset.load_audio(j)`` (audio only, no video decoded), and
    the sample's ``index`` into that dataset.

    - interferer: a segment ``j`` chosen uniformly among the dataset's segments of the same session
      whose speaker differs from the sample's. If there is none (a single-speaker session), the
      sample is returned **unchanged**;
    - placement, for a target of ``L`` samples and an interferer of ``M``: if ``M >= L`` a random
      window of ``L`` samples of the interferer (start uniform in ``[0, M - L]``); otherwise the whole
      interferer at a random offset (uniform in ``[0, L - M]``) with zeros around it;
    - level: ``10 log10(E_target / E_interferer) == snr``, energies over the target's ``L`` samples.
      A silent target or silent interferer window leaves the sample unchanged.

    The candidate table (one sort of the dataset's session/speaker arrays) is built on first use
    in each process and is O(1) per sample afterwards.
    """

    random = True

    def __init__(self, snr_db: Any = (0.0, 10.0), p: float = 0.5) -> None:
        self.snr_db = _check_range("InterferingSpeech", "snr_db", snr_db)
        self.p = _check_probability("InterferingSpeech", p)
        self.dataset: Any = None
        self._table: Optional[Tuple[np.ndarray, ...]] = None

    def _config(self) -> Dict[str, Any]:
        return {"snr_db": list(self.snr_db), "p": self.p}

    def bind(self, dataset: Any) -> None:
        for name in ("segment_session", "segment_speaker", "load_audio"):
            if not hasattr(dataset, name):
                raise TypeError(f"InterferingSpeech.bind: the dataset has no {name!r} (an MCoRecDataset is expected)")
        self.dataset = dataset
        self._table = None

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_table"] = None  # rebuilt lazily where it is used
        return state

    def _candidates(self) -> Tuple[np.ndarray, ...]:
        """``(order, session_lo, session_hi, speaker_lo, speaker_hi)``: segments sorted by
        (session, speaker) and, per segment, the ranges of its session and of its own speaker in
        that order. Its candidates are the session range minus the speaker range."""
        if self._table is None:
            session = np.asarray(self.dataset.segment_session, dtype=np.int64)
            speaker = np.asarray(self.dataset.segment_speaker, dtype=np.int64)
            if session.shape != speaker.shape or session.ndim != 1:
                raise ValueError(f"InterferingSpeech: segment_session {session.shape} and segment_speaker "
                                 f"{speaker.shape} must be 1-d arrays of the same length")
            n = len(session)
            order = np.lexsort((speaker, session))
            s_sorted, p_sorted = session[order], speaker[order]
            new_session = np.ones(n, dtype=bool)
            new_session[1:] = s_sorted[1:] != s_sorted[:-1]
            new_speaker = new_session.copy()
            new_speaker[1:] |= p_sorted[1:] != p_sorted[:-1]

            def ranges(starts_flag: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
                starts = np.flatnonzero(starts_flag)
                ends = np.append(starts[1:], n)
                block = np.cumsum(starts_flag) - 1
                lo, hi = np.empty(n, np.int64), np.empty(n, np.int64)
                lo[order], hi[order] = starts[block], ends[block]
                return lo, hi

            session_lo, session_hi = ranges(new_session)
            speaker_lo, speaker_hi = ranges(new_speaker)
            self._table = (order.astype(np.int64), session_lo, session_hi, speaker_lo, speaker_hi)
        return self._table

    def candidates(self, index: int) -> np.ndarray:
        """All segments ``index`` may take its interferer from (sorted; for inspection and tests)."""
        order, s_lo, s_hi, p_lo, p_hi = self._candidates()
        i = int(index)
        return np.sort(np.concatenate([order[s_lo[i]:p_lo[i]], order[p_hi[i]:s_hi[i]]]))

    def _draw(self, generator: torch.Generator, index: Any, length: int) -> Tuple[Optional[torch.Tensor], float]:
        """The placed interferer ``[length]`` (CPU float32; ``None`` = unchanged) and the SNR."""
        if self.dataset is None:
            raise RuntimeError("InterferingSpeech is not bound to a dataset: call compose.bind(dataset) "
                               "(or transform.bind(dataset)) before using it")
        if index is None:
            raise KeyError("InterferingSpeech needs the sample's 'index' (its position in the bound dataset)")
        order, s_lo, s_hi, p_lo, p_hi = self._candidates()
        i = int(index)
        if not 0 <= i < len(order):
            raise IndexError(f"InterferingSpeech: sample index {i} is outside the bound dataset "
                             f"({len(order)} segments); bind the dataset the samples come from")
        apply = _rand(generator) < self.p
        snr = _uniform(generator, self.snr_db)
        before = int(p_lo[i] - s_lo[i])
        count = before + int(s_hi[i] - p_hi[i])
        if not apply or count == 0 or length == 0:
            return None, snr
        k = _randint(generator, 0, count - 1)
        position = s_lo[i] + k if k < before else p_hi[i] + (k - before)
        other = self.dataset.load_audio(int(order[position]))
        other = torch.as_tensor(other, dtype=torch.float32).reshape(-1).cpu()
        m = int(other.shape[0])
        if m >= length:
            start = _randint(generator, 0, m - length)
            return other[start:start + length].clone(), snr
        placed = torch.zeros(length, dtype=torch.float32)
        offset = _randint(generator, 0, length - m)
        placed[offset:offset + m] = other
        return placed, snr

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        audio = _get(sample, "audio", "InterferingSpeech")
        other, snr = self._draw(generator, sample.get("index"), int(audio.shape[0]))
        if other is None:
            return dict(sample)
        other = other.to(audio.device, audio.dtype)
        gain = _scale_to_snr(audio, other, torch.tensor(snr, dtype=torch.float64, device=audio.device))
        return {**sample, "audio": audio + gain * other}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        audio = _get(batch, "audio", "InterferingSpeech", "batch")
        _check_generators("InterferingSpeech", generators, audio.shape[0])
        lengths = _audio_lengths(batch, "InterferingSpeech")
        indices = _get(batch, "index", "InterferingSpeech", "batch")
        draws = [self._draw(g, i, n) for g, i, n in zip(generators, indices, lengths)]
        if all(other is None for other, _ in draws):
            return dict(batch)
        other = _padded_rows([d[0] for d in draws], int(audio.shape[1]), torch.float32)
        other = other.to(audio.device, audio.dtype)
        snr = torch.tensor([d[1] for d in draws], dtype=torch.float64, device=audio.device)
        gain = _scale_to_snr(audio, other, snr)
        return {**batch, "audio": audio + gain[:, None] * other}


# -- features ------------------------------------------------------------------------------------
class LogFbank(Transform):
    """AV-HuBERT-style log mel filterbank features at the video frame rate, in ``audio_features``.

    :func:`torchaudio.compliance.kaldi.fbank` on the (transformed) audio times ``scale``
    (default 32768: Kaldi and AV-HuBERT read 16-bit integers), with ``n_mels`` bins, 25 ms windows
    every 10 ms at 16 kHz, ``dither=0`` and Kaldi's other defaults (povey window, pre-emphasis
    0.97, DC removal, ``snip_edges``). That gives ``4 T - 2`` frames for ``640 T`` samples; the
    last frame is repeated (or frames trimmed) to exactly ``stack * T`` 10 ms frames, and every
    ``stack`` consecutive frames are concatenated: ``audio_features`` float32 ``[T, stack * n_mels]``
    (``T`` = video frames, ``stack=4`` → 25 fps).

    ``normalize=True``: per-utterance mean/variance normalisation of each feature dimension over
    the ``T`` frames (population variance, epsilon 1e-5). AV-HuBERT instead layer-normalises each
    frame; use ``normalize=False`` and do that in the model if you want its exact recipe.

    ``audio`` is kept. On a batch, row ``b`` uses ``audio[b, :audio_lengths[b]]`` and
    ``video_lengths[b]`` frames; the output is ``[B, Tmax, D]`` with zeros beyond the length.
    """

    def __init__(self, n_mels: int = 26, stack: int = 4, normalize: bool = True, scale: float = 32768.0) -> None:
        self.n_mels = _check_int("LogFbank", "n_mels", n_mels, minimum=1)
        self.stack = _check_int("LogFbank", "stack", stack, minimum=1)
        if not isinstance(normalize, bool):
            raise ValueError(f"LogFbank: normalize must be true or false, got {normalize!r}")
        self.normalize = normalize
        self.scale = _check_float("LogFbank", "scale", scale, strict=True)

    def _config(self) -> Dict[str, Any]:
        return {"n_mels": self.n_mels, "stack": self.stack, "normalize": self.normalize, "scale": self.scale}

    @property
    def dim(self) -> int:
        """Feature size ``stack * n_mels``."""
        return self.stack * self.n_mels

    def features(self, audio: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``[num_frames, stack * n_mels]`` float32 from 1-d ``audio`` (on its device)."""
        wanted = self.stack * int(num_frames)
        waveform = audio.reshape(1, -1).to(torch.float32) * self.scale
        if waveform.shape[1] >= 400:  # one 25 ms window
            fbank = _kaldi().fbank(waveform, num_mel_bins=self.n_mels, frame_length=25.0, frame_shift=10.0,
                                   sample_frequency=float(SAMPLE_RATE), dither=0.0)
        else:
            fbank = waveform.new_zeros(0, self.n_mels)
        if fbank.shape[0] == 0:
            fbank = waveform.new_zeros(wanted, self.n_mels)
        elif fbank.shape[0] < wanted:
            fbank = torch.cat([fbank, fbank[-1:].expand(wanted - fbank.shape[0], -1)])
        feats = fbank[:wanted].reshape(int(num_frames), self.dim)
        if self.normalize and num_frames > 0:
            mean = feats.mean(0, keepdim=True)
            var = feats.var(0, unbiased=False, keepdim=True)
            feats = (feats - mean) / torch.sqrt(var + 1e-5)
        return feats.contiguous()

    def apply(self, sample: Sample, generator: Optional[torch.Generator]) -> Sample:
        audio = _get(sample, "audio", "LogFbank")
        if "video" in sample:
            frames = int(sample["video"].shape[0])
        else:
            frames = -(-int(audio.shape[0]) // SAMPLES_PER_FRAME)
        return {**sample, "audio_features": self.features(audio, frames)}

    def apply_batch(self, batch: Batch, generators: Sequence[Optional[torch.Generator]]) -> Batch:
        audio = _get(batch, "audio", "LogFbank", "batch")
        audio_lengths = _audio_lengths(batch, "LogFbank")
        if "video" in batch:
            t_max = int(batch["video"].shape[1])
            frames = _video_lengths(batch, "LogFbank")
        else:
            t_max = -(-int(audio.shape[1]) // SAMPLES_PER_FRAME)
            frames = [-(-n // SAMPLES_PER_FRAME) for n in audio_lengths]
        out = torch.zeros(int(audio.shape[0]), t_max, self.dim, dtype=torch.float32, device=audio.device)
        for b, (n, t) in enumerate(zip(audio_lengths, frames)):
            out[b, :t] = self.features(audio[b, :n], t)
        return {**batch, "audio_features": out}


#: Config names (YAML) to transform classes.
TRANSFORMS: Dict[str, type] = {
    "center_crop": CenterCrop,
    "random_crop": RandomCrop,
    "gray": Gray,
    "normalize": Normalize,
    "hflip": HorizontalFlip,
    "video_time_mask": VideoTimeMask,
    "audio_time_mask": AudioTimeMask,
    "noise": AddNoise,
    "interfering_speech": InterferingSpeech,
    "fbank": LogFbank,
}
