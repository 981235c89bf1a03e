"""YAML experiment files (SPEC §9): one file builds the dataset, sampler and DataLoader.

A config has these sections (``configs/demo.yaml`` shows every key with a comment):

* ``data``: ``cache_dir``;
* ``dataset``: every SPEC §4 segment option (``crops``, ``view``, ``color``, ``audio``,
  ``missing_video``, ``min_video_coverage``, ``min_duration``, ``max_duration``,
  ``merge_gap``, ``on_error``, ``label_dir``);
* ``text``: ``normalizer`` and ``tokenizer`` (``model``, ``units``, and optionally
  ``train_if_missing`` to train a SentencePiece model from the train split's transcripts);
* ``splits``: per split name (``train``, ``valid``, ...) its ``roots``, ``shuffle``,
  ``transforms`` (a list of ``{name: ..., <argument>: ...}`` from
  :data:`mcorec_torch.transforms.TRANSFORMS`), ``dataset`` overrides, and optionally
  ``synthetic`` (write a synthetic split into ``roots[0]`` when it is missing);
* ``transforms``: ``seed`` of all augmentation randomness;
* ``sampler``: :class:`~mcorec_torch.samplers.BucketBatchSampler` arguments;
* ``loader``: DataLoader options;
* ``decode``: ``device`` (``cpu``; GPU decoding is SPEC §8);
* ``model``, ``train``: read by ``scripts/train_avsr.py``.

Unknown keys and values of the wrong type raise :class:`ConfigError` naming the file and
the key (``configs/demo.yaml: sampler.max_frame: unknown key; known keys: ...``). Relative
paths are relative to the current working directory; ``~`` and ``$VARS`` are expanded.
"""
from __future__ import annotations

import dataclasses
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Sequence, Union

import yaml

__all__ = ["ConfigError", "ExperimentConfig", "load_config", "parse_config", "build_dataset",
           "build_sampler", "build_dataloader", "set_epoch", "prepare_data"]


class ConfigError(ValueError):
    """A config file that is not what :class:`ExperimentConfig` describes; names file and key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


# ---------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------

@dataclass
class DataConfig:
    cache_dir: Optional[str] = None  # index and decoded-audio cache (default ~/.cache/mcorec_torch)


@dataclass
class DatasetConfig:
    """The SPEC §4 segment options (durations in seconds)."""

    crops: Literal["lip", "face"] = "lip"
    view: Literal["central", "ego"] = "central"
    color: Literal["rgb", "gray"] = "rgb"
    audio: Literal["central", "ego"] = "central"
    missing_video: Literal["pad", "drop"] = "pad"
    min_video_coverage: float = 0.5
    min_duration: float = 0.0
    max_duration: Optional[float] = None
    merge_gap: Optional[float] = None
    on_error: Literal["raise", "skip"] = "raise"
    label_dir: str = "labels"


@dataclass
class TokenizerTraining:
    """Train the tokenizer from the ``train`` split's transcripts when ``model`` is missing."""

    vocab_size: int = 64
    model_type: Literal["unigram", "bpe", "char", "word"] = "unigram"


@dataclass
class TokenizerConfig:
    model: str
    units: Optional[str] = None
    train_if_missing: Optional[TokenizerTraining] = None


@dataclass
class TextConfig:
    normalizer: Optional[Literal["default", "train", "official"]] = "default"
    tokenizer: Optional[TokenizerConfig] = None


@dataclass
class SyntheticConfig:
    """Arguments of :func:`mcorec_torch.synthetic.make_split`."""

    split: Literal["train", "dev", "eval"] = "train"
    num_sessions: int = 2
    num_frames: int = 600
    seed: int = 0
    content: Literal["index", "speech"] = "speech"
    num_speakers: int = 4
    num_conversations: int = 2


@dataclass
class SplitConfig:
    roots: List[str]
    shuffle: bool = True
    transforms: List[Dict[str, Any]] = field(default_factory=list)
    dataset: Dict[str, Any] = field(default_factory=dict)  # overrides of the dataset section
    synthetic: Optional[SyntheticConfig] = None


@dataclass
class TransformsConfig:
    seed: int = 0


@dataclass
class SamplerConfig:
    """:class:`~mcorec_torch.samplers.BucketBatchSampler` arguments (frames)."""

    max_frames: int = 2000
    max_batch_size: Optional[int] = None
    seed: int = 0
    drop_last: bool = False
    num_buckets: int = 10


@dataclass
class LoaderConfig:
    num_workers: int = 2
    pin_memory: bool = False
    prefetch_factor: Optional[int] = None
    multiprocessing_context: Optional[Literal["fork", "spawn", "forkserver"]] = None
    timeout: float = 0.0
    pad_to_multiple_of: Optional[int] = None


@dataclass
class DecodeConfig:
    device: Literal["cpu", "cuda"] = "cpu"


@dataclass
class ModelConfig:
    """The small AVSR model of ``scripts/train_avsr.py`` (see :mod:`mcorec_torch.avsr_model`)."""

    modalities: List[Literal["video", "audio"]] = field(default_factory=lambda: ["video", "audio"])
    d_model: int = 128
    video_channels: List[int] = field(default_factory=lambda: [16, 32, 64])
    video_downsample: int = 2
    audio_input: Literal["fbank", "waveform"] = "fbank"
    layers: int = 2
    heads: int = 4
    ff_dim: int = 256
    conv_kernel: int = 15
    dropout: float = 0.1
    modality_dropout: float = 0.0


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping of ``scripts/train_avsr.py`` (minutes, steps, epochs)."""

    out_dir: str = "runs/experiment"
    epochs: int = 10
    max_minutes: Optional[float] = None
    max_steps: Optional[int] = None
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    grad_clip: float = 5.0
    log_every: int = 10
    eval_split: Optional[str] = "valid"
    eval_max_batches: Optional[int] = None
    checkpoint_every: int = 100
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: Optional[int] = None


@dataclass
class ExperimentConfig:
    splits: Dict[str, SplitConfig]
    data: DataConfig = field(default_factory=DataConfig)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    text: TextConfig = field(default_factory=TextConfig)
    transforms: TransformsConfig = field(default_factory=TransformsConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    loader: LoaderConfig = field(default_factory=LoaderConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    source: str = field(default="<dict>", metadata={"internal": True})

    def split(self, name: str) -> SplitConfig:
        if name not in self.splits:
            raise ConfigError(self.source, "splits", f"no split {name!r}; the config has {sorted(self.splits)}")
        return self.splits[name]

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict of the config (what a checkpoint stores)."""
        out = dataclasses.asdict(self)
        out.pop("source")
        return out


# ---------------------------------------------------------------------------------------
# Validation: a small typed reader of plain YAML data into the dataclasses above
# ---------------------------------------------------------------------------------------

_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " or ".join(repr(v) for v in typing.get_args(hint))
    if origin is Union:
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if origin in (list, List):
        item = typing.get_args(hint)[0]
        plural = {str: "strings", int: "integers", float: "numbers", bool: "true/false values"}.get(item)
        if plural is None and (typing.get_origin(item) in (dict, Dict) or dataclasses.is_dataclass(item)):
            plural = "mappings"
        return f"a list of {plural}" if plural else f"a list of ({_type_name(item)})"
    if origin in (dict, Dict):
        return "a mapping"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return {type(None): "null", bool: "true/false", int: "an integer", float: "a number",
            str: "a string"}.get(hint, getattr(hint, "__name__", str(hint)))


def _read(hint: Any, value: Any, key: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    wrong = ConfigError(source, key, f"expected {_type_name(hint)}, got {value!r}")
    if hint is Any:
        return value
    if origin is Union:
        args = typing.get_args(hint)
        if value is None:
            if type(None) in args:
                return None
            raise wrong
        options = [arg for arg in args if arg is not type(None)]
        if len(options) == 1 and isinstance(value, (dict, list)):  # Optional[X]: X's own, more precise error
            return _read(options[0], value, key, source)
        for arg in options:
            try:
                return _read(arg, value, key, source)
            except ConfigError:
                continue
        raise wrong
    if origin is Literal:
        if value in typing.get_args(hint) and not isinstance(value, bool):
            return value
        raise wrong
    if origin in (list, List):
        if not isinstance(value, list):
            raise wrong
        (item,) = typing.get_args(hint)
        return [_read(item, v, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin in (dict, Dict):
        if not isinstance(value, dict):
            raise wrong
        _, item = typing.get_args(hint)
        return {str(k): _read(item, v, f"{key}.{k}", source) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return _read_dataclass(hint, value, key, source)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise wrong
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise wrong
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
            return float(value)  # PyYAML reads 1e-4 (no dot) as a string
        raise wrong
    if hint is str:
        if isinstance(value, str):
            return value
        raise wrong
    raise TypeError(f"unsupported config type {hint!r} at {key}")


def _read_dataclass(cls: Any, value: Any, key: str, source: str) -> Any:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(source, key or "(top level)", f"expected a mapping, got {value!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = [k for k in value if k not in fields]
    if unknown:
        name = f"{key}.{unknown[0]}" if key else str(unknown[0])
        raise ConfigError(source, name, f"unknown key; known keys here: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, spec in fields.items():
        sub = f"{key}.{name}" if key else name
        if name in value:
            kwargs[name] = _read(hints[name], value[name], sub, source)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(source, sub, "missing (this key is required)")
    return cls(**kwargs)


def _set_override(data: Dict[str, Any], assignment: str, source: str) -> None:
    """Apply ``a.b.c=value`` (value parsed as YAML) to nested dict ``data``."""
    if "=" not in assignment:
        raise ConfigError(source, assignment, "an override is KEY=VALUE, e.g. sampler.max_frames=800")
    path, raw = assignment.split("=", 1)
    keys = path.strip().split(".")
    node = data
    for k in keys[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise ConfigError(source, path, f"{k} is not a mapping")
    node[keys[-1]] = yaml.safe_load(raw)


def split_dataset_options(config: ExperimentConfig, split: str) -> DatasetConfig:
    """The ``dataset`` section with ``splits.<split>.dataset`` overrides applied and checked."""
    merged = {**dataclasses.asdict(config.dataset), **config.split(split).dataset}
    return _read_dataclass(DatasetConfig, merged, f"splits.{split}.dataset", config.source)


def parse_config(data: Dict[str, Any], source: str = "<dict>",
                 overrides: Sequence[str] = ()) -> ExperimentConfig:
    """An :class:`ExperimentConfig` from plain data (as loaded from YAML) plus ``KEY=VALUE``
    overrides; raises :class:`ConfigError` naming ``source`` and the key."""
    data = dict(data or {})
    for assignment in overrides:
        _set_override(data, assignment, source)
    config = _read_dataclass(ExperimentConfig, data, "", source)
    config.source = source
    if not config.splits:
        raise ConfigError(source, "splits", "at least one split is needed")
    from .transforms import TRANSFORMS

    for name, split in config.splits.items():
        if not split.roots:
            raise ConfigError(source, f"splits.{name}.roots", "at least one split directory is needed")
        split_dataset_options(config, name)
        for i, spec in enumerate(split.transforms):
            _build_transform(spec, f"splits.{name}.transforms[{i}]", source, TRANSFORMS)
    return config


def load_config(path: Union[str, os.PathLike], overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read and validate a YAML experiment file (``overrides``: ``KEY=VALUE`` strings)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), "", f"not valid YAML: {exc}") from None
    return parse_config(data if data is not None else {}, str(path), overrides)


# ---------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------

def _path(value: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(value)))


def _build_transform(spec: Dict[str, Any], key: str, source: str, registry: Dict[str, Any]) -> Any:
    if "name" not in spec:
        raise ConfigError(source, key, f"a transform needs a name, one of {', '.join(sorted(registry))}")
    name = spec["name"]
    if name not in registry:
        raise ConfigError(source, f"{key}.name", f"unknown transform {name!r}; known: {', '.join(sorted(registry))}")
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    try:
        return registry[name](**kwargs)
    except TypeError as exc:
        raise ConfigError(source, key, f"{name}: {exc}") from None
    except ValueError as exc:  # the transform's own message names the class and the argument
        raise ConfigError(source, key, str(exc)) from None


def _write_synthetic_split(config: ExperimentConfig, name: str) -> None:
    spec = config.split(name)
    if spec.synthetic is None:
        return
    root = _path(spec.roots[0])
    if (root / ".complete").exists():
        return
    from . import synthetic

    s = spec.synthetic
    synthetic.make_split(root, s.split, num_sessions=s.num_sessions, seed=s.seed, num_frames=s.num_frames,
                         content=s.content, num_speakers=s.num_speakers, num_conversations=s.num_conversations)
    (root / ".complete").write_text("written by mcorec_torch.config.prepare_data\n")


def _train_missing_tokenizer(config: ExperimentConfig) -> None:
    spec = config.text.tokenizer
    if spec is None or spec.train_if_missing is None or _path(spec.model).exists():
        return
    key = "text.tokenizer"
    if "train" not in config.splits:
        raise ConfigError(config.source, f"{key}.train_if_missing", "needs a 'train' split to learn from")
    model = _path(spec.model)
    if model.suffix != ".model":
        raise ConfigError(config.source, f"{key}.model", f"must end in .model, got {spec.model}")
    from .tokenizer import collect_transcripts, train_tokenizer, write_units

    _write_synthetic_split(config, "train")
    train_split = config.split("train")
    style = "train" if config.text.normalizer in ("default", "train") else config.text.normalizer
    texts = collect_transcripts([_path(r) for r in train_split.roots], style=style,
                                label_dir_name=train_split.dataset.get("label_dir", config.dataset.label_dir))
    train_tokenizer(texts, model.with_suffix(""), spec.train_if_missing.vocab_size,
                    model_type=spec.train_if_missing.model_type, write_units_file=False)
    if spec.units is not None:
        write_units(model, _path(spec.units))


def prepare_data(config: ExperimentConfig, split: Optional[str] = None) -> None:
    """Write missing synthetic splits (``splits.<name>.synthetic``) and train a missing
    tokenizer (``text.tokenizer.train_if_missing``); ``split=None`` prepares every split.

    Run it in one process before others start (``scripts/train_avsr.py`` does it on rank 0
    before the other ranks build their loaders)."""
    for name in ([split] if split is not None else list(config.splits)):
        _write_synthetic_split(config, name)
    _train_missing_tokenizer(config)


def build_tokenizer(config: ExperimentConfig) -> Any:
    """The configured :class:`~mcorec_torch.tokenizer.Tokenizer`, or None."""
    spec = config.text.tokenizer
    if spec is None:
        return None
    from .tokenizer import Tokenizer

    return Tokenizer(_path(spec.model), _path(spec.units) if spec.units else None)


def build_dataset(config: ExperimentConfig, split: str, *, tokenizer: Any = None) -> Any:
    """The split's :class:`~mcorec_torch.MCoRecDataset` with its transforms bound and set
    to epoch 0 (writes a missing synthetic split first)."""
    from .dataset import MCoRecDataset
    from .transforms import TRANSFORMS, Compose

    if config.decode.device != "cpu":
        raise ConfigError(config.source, "decode.device", f"{config.decode.device!r} decoding is not "
                          "available in this version (SPEC §8 GPU decoding is not built yet); use cpu")
    spec = config.split(split)
    prepare_data(config, split)
    options = dataclasses.asdict(split_dataset_options(config, split))
    transforms = [_build_transform(t, f"splits.{split}.transforms[{i}]", config.source, TRANSFORMS)
                  for i, t in enumerate(spec.transforms)]
    if tokenizer is None:
        tokenizer = build_tokenizer(config)
    dataset = MCoRecDataset(
        [_path(r) for r in spec.roots], normalizer=config.text.normalizer, tokenizer=tokenizer,
        cache_dir=_path(config.data.cache_dir) if config.data.cache_dir else None, **options)
    if transforms:
        compose = Compose(transforms, seed=config.transforms.seed)
        compose.bind(dataset)
        dataset.transform = compose
    return dataset


def build_sampler(config: ExperimentConfig, split: str, dataset: Any, *,
                  num_replicas: Optional[int] = None, rank: Optional[int] = None) -> Any:
    """The split's :class:`~mcorec_torch.samplers.BucketBatchSampler` over ``dataset.lengths``."""
    from .samplers import BucketBatchSampler

    s = config.sampler
    return BucketBatchSampler(dataset.lengths, max_frames=s.max_frames, max_batch_size=s.max_batch_size,
                              shuffle=config.split(split).shuffle, seed=s.seed, drop_last=s.drop_last,
                              num_replicas=num_replicas, rank=rank, num_buckets=s.num_buckets)


def set_epoch(loader: Any, epoch: int) -> None:
    """Set ``epoch`` on a built loader's sampler and transforms; call it before iterating
    (workers receive the transforms' epoch when the iterator starts)."""
    loader.batch_sampler.set_epoch(epoch)
    transform = getattr(loader.dataset, "transform", None)
    if transform is not None and hasattr(transform, "set_epoch"):
        transform.set_epoch(epoch)


def build_dataloader(config: Union[ExperimentConfig, str, os.PathLike], split: str, epoch: int = 0, *,
                     num_replicas: Optional[int] = None, rank: Optional[int] = None,
                     tokenizer: Any = None) -> Any:
    """Dataset, transforms, sampler and DataLoader of ``split`` from ``config`` (an
    :class:`ExperimentConfig` or a YAML path), set to ``epoch``.

    ``loader.dataset`` and ``loader.batch_sampler`` give access to the parts (e.g. for the
    sampler's ``state_dict``); :func:`set_epoch` moves a built loader to another epoch.
    ``num_replicas``/``rank`` default to torch.distributed when it is initialised."""
    import torch
    from torch.utils.data import DataLoader

    from .collate import Collator

    if not isinstance(config, ExperimentConfig):
        config = load_config(config)
    dataset = build_dataset(config, split, tokenizer=tokenizer)
    sampler = build_sampler(config, split, dataset, num_replicas=num_replicas, rank=rank)
    opts = config.loader
    kwargs: Dict[str, Any] = {}
    if opts.num_workers > 0:
        if opts.prefetch_factor is not None:
            kwargs["prefetch_factor"] = opts.prefetch_factor
        if opts.multiprocessing_context is not None:
            kwargs["multiprocessing_context"] = opts.multiprocessing_context
        kwargs["timeout"] = opts.timeout
    # A private generator for the workers' base seed: creating an iterator then leaves the
    # global torch RNG (dropout in the training loop) alone, which keeps resumed runs exact.
    generator = torch.Generator().manual_seed(config.sampler.seed)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=opts.num_workers,
                        collate_fn=Collator(pad_to_multiple_of=opts.pad_to_multiple_of),
                        pin_memory=opts.pin_memory, generator=generator, **kwargs)
    set_epoch(loader, epoch)
    return loader
