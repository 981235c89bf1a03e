"""Building from a config: the split's dataset (transforms bound), sampler, DataLoader and
tokenizer, and :func:`prepare_data` (synthetic splits and a missing tokenizer written first).

Paths are expanded when a part is built (``~`` and ``$VARS``; ``${oc.env:VAR}`` is resolved
when the config is read), relative ones against the current working directory.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

from .load import build_transform, load_config, select_criteria, split_dataset_options
from .schema import ConfigError, ExperimentConfig

__all__ = ["build_dataset", "select_split", "build_sampler", "build_dataloader", "loader_options", "build_tokenizer", "set_epoch",
           "prepare_data"]


_UNSET_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _path(value: str, config: Optional[ExperimentConfig] = None, key: str = "") -> Path:
    """``value`` with ``~`` and ``$VARS`` expanded; a variable that is not set is a
    :class:`ConfigError` naming it and ``key`` (instead of a file named ``$VAR/...``)."""
    expanded = os.path.expandvars(os.path.expanduser(value))
    unset = [a or b for a, b in _UNSET_VAR.findall(expanded) if (a or b) not in os.environ]
    if unset:
        raise ConfigError(config.source if config is not None else "<config>", key,
                          f"environment variable {unset[0]} is not set (the value is {value!r})")
    return Path(expanded)


#: Where :func:`prepare_data` says what it is about to do (one line each; e.g. ``print``).
Say = Optional[Callable[[str], None]]


def _write_synthetic_split(config: ExperimentConfig, name: str, say: Say = None) -> None:
    spec = config.split(name)
    if spec.synthetic is None:
        return
    root = _path(spec.roots[0])
    if (root / ".complete").exists():
        return
    from .. import synthetic

    s = spec.synthetic
    if say is not None:
        say(f"writing the synthetic split splits.{name} ({s.num_sessions} session(s) of {s.num_frames} frames) "
            f"to {root} ...")
    synthetic.make_split(root, s.split, num_sessions=s.num_sessions, seed=s.seed, num_frames=s.num_frames,
                         content=s.content, num_speakers=s.num_speakers, num_conversations=s.num_conversations)
    (root / ".complete").write_text("written by mcorec_torch.config.prepare_data\n")


def _train_missing_tokenizer(config: ExperimentConfig, say: Say = None) -> None:
    spec = config.text.tokenizer
    if spec is None or spec.train_if_missing is None or _path(spec.model, config, "text.tokenizer.model").exists():
        return
    key = "text.tokenizer"
    if "train" not in config.splits:
        raise ConfigError(config.source, f"{key}.train_if_missing", "needs a 'train' split to learn from")
    model = _path(spec.model)
    if model.suffix != ".model":
        raise ConfigError(config.source, f"{key}.model", f"must end in .model, got {spec.model}")
    from ..text.choices import style_of
    from ..text.tokenizer import collect_transcripts, train_tokenizer, write_units

    _write_synthetic_split(config, "train", say)
    if say is not None:
        say(f"training the tokenizer {model} ({spec.train_if_missing.model_type}, vocab_size "
            f"{spec.train_if_missing.vocab_size}) on the train split's transcripts ...")
    train_split = config.split("train")
    style = style_of(config.text.normalizer) if config.text.normalizer is not None else None
    texts = collect_transcripts([_path(r) for r in train_split.roots], style=style,
                                label_dir_name=split_dataset_options(config, "train").label_dir)
    train_tokenizer(texts, model.with_suffix(""), spec.train_if_missing.vocab_size,
                    model_type=spec.train_if_missing.model_type, write_units_file=False)
    if spec.units is not None:
        write_units(model, _path(spec.units))


def prepare_data(config: ExperimentConfig, split: Optional[str] = None, say: Say = None) -> None:
    """Write missing synthetic splits (``splits.<name>.synthetic``) and train a missing
    tokenizer (``text.tokenizer.train_if_missing``); ``split=None`` prepares every split.
    ``say``: called with one line before each of these steps (nothing when all is there).

    Run it in one process before others start (``scripts/train_avsr.py`` does it on rank 0
    before the other ranks build their loaders)."""
    for name in ([split] if split is not None else list(config.splits)):
        _write_synthetic_split(config, name, say)
    _train_missing_tokenizer(config, say)


def build_tokenizer(config: ExperimentConfig) -> Any:
    """The configured :class:`~mcorec_torch.text.tokenizer.Tokenizer`, or None."""
    spec = config.text.tokenizer
    if spec is None:
        return None
    from ..text.tokenizer import Tokenizer

    return Tokenizer(_path(spec.model, config, "text.tokenizer.model"),
                     _path(spec.units, config, "text.tokenizer.units") if spec.units else None)


def build_dataset(config: ExperimentConfig, split: str, *, tokenizer: Any = None) -> Any:
    """The split's :class:`~mcorec_torch.MCoRecDataset` with its transforms bound and set
    to epoch 0 (writes a missing synthetic split first)."""
    from ..data.dataset import MCoRecDataset
    from ..transforms import TRANSFORMS, Compose

    spec = config.split(split)
    prepare_data(config, split)
    options = dataclasses.asdict(split_dataset_options(config, split))
    transforms = [build_transform(t, f"splits.{split}.transforms[{i}]", config.source, TRANSFORMS)
                  for i, t in enumerate(spec.transforms)]
    if tokenizer is None:
        tokenizer = build_tokenizer(config)
    dataset = MCoRecDataset(
        [_path(r, config, f"splits.{split}.roots[{i}]") for i, r in enumerate(spec.roots)], normalizer=config.text.normalizer, tokenizer=tokenizer,
        cache_dir=_path(config.data.cache_dir) if config.data.cache_dir else None, **options)
    dataset = select_split(config, split, dataset)  # before binding: transforms index the view
    if transforms:
        compose = Compose(transforms, seed=config.transforms.seed)
        compose.bind(dataset)
        dataset.transform = compose
    # batches decoded in place (SPEC §5) get the collate function's Tmax
    dataset.batch_pad_to_multiple_of = config.loader.pad_to_multiple_of
    return dataset


def select_split(config: ExperimentConfig, split: str, dataset: Any) -> Any:
    """The view ``splits.<split>.select`` makes of ``dataset`` (``MCoRecDataset.select`` with its
    criteria, then the ``held_out`` part of ``split_by_session``/``split_by_speaker``), or
    ``dataset`` without a ``select`` section. A name that matches nothing, or a view of 0
    segments, is a :class:`ConfigError` naming the key."""
    from ..checks import OptionError
    from ..index.select import HELD_OUT_PARTS

    spec = config.split(split).select
    if spec is None:
        return dataset
    key = f"splits.{split}.select"
    criteria = select_criteria(spec)
    try:
        if criteria:
            dataset = dataset.select(**criteria)
        held_out = spec.held_out
        if held_out is not None:
            key = f"{key}.held_out"
            split_by = dataset.split_by_session if held_out.by == "session" else dataset.split_by_speaker
            dataset = split_by(held_out.fraction, held_out.seed)[HELD_OUT_PARTS.index(held_out.part)]
    except OptionError as exc:
        named = exc.option in {*criteria, "by", "fraction", "seed"}
        raise ConfigError(config.source, f"{key}.{exc.option}" if named else key, str(exc)) from None
    return dataset


def build_sampler(config: ExperimentConfig, split: str, dataset: Any, *,
                  num_replicas: Optional[int] = None, rank: Optional[int] = None) -> Any:
    """The split's :class:`~mcorec_torch.data.samplers.BucketBatchSampler` over ``dataset.lengths``."""
    from ..data.samplers import BucketBatchSampler

    s = config.sampler
    return BucketBatchSampler(dataset.lengths, max_frames=s.max_frames, max_batch_size=s.max_batch_size,
                              shuffle=config.split(split).shuffle, seed=s.seed, drop_last=s.drop_last,
                              num_replicas=num_replicas, rank=rank, num_buckets=s.num_buckets,
                              **({"locality": s.locality, "tracks": dataset.segment_speaker,
                                  "starts": dataset.segment_frame_start} if s.locality > 1 else {}))


def set_epoch(loader: Any, epoch: int) -> None:
    """Set ``epoch`` on a built loader's sampler and transforms; call it before iterating
    (workers receive the transforms' epoch when the iterator starts)."""
    loader.batch_sampler.set_epoch(epoch)
    transform = getattr(loader.dataset, "transform", None)
    if transform is not None and hasattr(transform, "set_epoch"):
        transform.set_epoch(epoch)


def loader_options(config: ExperimentConfig) -> Dict[str, Any]:
    """The DataLoader keyword arguments of the ``loader`` section: ``num_workers``,
    ``pin_memory``, with workers ``prefetch_factor``, ``multiprocessing_context`` and ``timeout``
    (seconds), and ``generator``, a private generator seeded with ``sampler.seed`` for the
    workers' base seed (creating an iterator then leaves the global torch RNG, the training
    loop's dropout, alone, which keeps resumed runs exact). Every loader built from a config
    takes them (:func:`build_dataloader`, :class:`~mcorec_torch.lightning.MCoRecDataModule`)."""
    import torch

    opts = config.loader
    kwargs: Dict[str, Any] = {"num_workers": opts.num_workers, "pin_memory": opts.pin_memory,
                              "generator": torch.Generator().manual_seed(config.sampler.seed)}
    if opts.num_workers > 0:
        if opts.prefetch_factor is not None:
            kwargs["prefetch_factor"] = opts.prefetch_factor
        if opts.multiprocessing_context is not None:
            kwargs["multiprocessing_context"] = opts.multiprocessing_context
        kwargs["timeout"] = opts.timeout
    return kwargs


def build_dataloader(config: Union[ExperimentConfig, str, os.PathLike], split: str, epoch: int = 0, *,
                     num_replicas: Optional[int] = None, rank: Optional[int] = None,
                     tokenizer: Any = None) -> Any:
    """Dataset, transforms, sampler and DataLoader of ``split`` from ``config`` (an
    :class:`ExperimentConfig` or a YAML path), set to ``epoch``: the one way the library's
    training, evaluation and decoding load (:func:`loader_options`; with ``decode.device:
    cuda`` a :class:`~mcorec_torch.gpu.GpuBatchLoader`, SPEC §8).

    ``loader.dataset`` and ``loader.batch_sampler`` give access to the parts (e.g. for the
    sampler's ``state_dict``); :func:`set_epoch` moves a built loader to another epoch.
    ``num_replicas``/``rank`` default to torch.distributed when it is initialised."""
    from torch.utils.data import DataLoader

    from ..data.collate import Collator

    if not isinstance(config, ExperimentConfig):
        config = load_config(config)
    dataset = build_dataset(config, split, tokenizer=tokenizer)
    sampler = build_sampler(config, split, dataset, num_replicas=num_replicas, rank=rank)
    pad = config.loader.pad_to_multiple_of
    if config.decode.device == "cuda":  # video decoded in this process (SPEC §8)
        from ..gpu import GpuBatchLoader

        if config.decode.threads < 1:
            raise ConfigError(config.source, "decode.threads", f"must be >= 1, got {config.decode.threads}")
        loader: Any = GpuBatchLoader(dataset, batch_sampler=sampler, device="cuda", threads=config.decode.threads,
                                     pad_to_multiple_of=pad, **loader_options(config))
    else:
        loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=Collator(pad_to_multiple_of=pad),
                            **loader_options(config))
    set_epoch(loader, epoch)
    return loader
