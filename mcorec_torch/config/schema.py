"""The experiment schema: OmegaConf structured-config dataclasses, one per config section.

Closed choices (OmegaConf has no ``Literal``) are plain ``str`` fields whose metadata holds
``choices``; :mod:`mcorec_torch.config.load` checks them after interpolations are resolved.
The ``dataset`` section is not written here: :class:`DatasetConfig` is derived from
:class:`~mcorec_torch.index.options.DatasetOptions` (same names, types, defaults, choices).
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Optional

from ..corpus.layout import SPLITS
from ..index.asd_chunks import DEFAULT_CHUNK_SIZE
from ..index.options import DatasetOptions
from ..index.select import HELD_OUT_PARTS, SPLIT_UNITS
from ..text.choices import MODEL_TYPES, NORMALIZERS

__all__ = ["ConfigError", "DataConfig", "DatasetConfig", "TokenizerTraining", "TokenizerConfig", "TextConfig",
           "SyntheticConfig", "HeldOutConfig", "SelectConfig", "SplitConfig", "TransformsConfig", "SamplerConfig", "LoaderConfig",
           "DecodeConfig", "ModelConfig", "TrainConfig", "ExperimentConfig", "make_dataset_config"]


class ConfigError(ValueError):
    """A config file that is not what :class:`ExperimentConfig` describes; names file and key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


def _choice(default: Any, *choices: str) -> Any:
    """A field that takes one of ``choices`` (each item, for a list-valued ``default``)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"choices": choices})
    return field(default=default, metadata={"choices": choices})


@dataclass
class DataConfig:
    cache_dir: Optional[str] = None  # index and decoded-audio cache (default ~/.cache/mcorec_torch)


def _plain(hint: Any) -> Any:
    """``hint`` with ``Literal[...]`` of strings as ``str`` (OmegaConf has no Literal; the choices
    travel in the field metadata): ``Literal["lip", "face"]`` -> ``str``, ``Optional[...]`` kept."""
    if typing.get_origin(hint) is typing.Literal:
        return str
    if typing.get_origin(hint) is typing.Union:
        return typing.Union[tuple(_plain(arg) for arg in typing.get_args(hint))]
    return hint


def make_dataset_config(options: type = DatasetOptions, name: str = "DatasetConfig") -> type:
    """A structured-config dataclass with the fields of ``options`` (a DatasetOptions-like
    frozen dataclass whose fields carry an ``OptionInfo`` under ``metadata["option"]``): same
    names, types and defaults, with the option's ``choices`` and ``help`` as field metadata."""
    hints = typing.get_type_hints(options)
    specs = []
    for spec in dataclasses.fields(options):
        info = spec.metadata["option"]
        metadata = {"choices": info.choices, "help": info.help} if info.choices else {"help": info.help}
        default = ({"default": spec.default} if spec.default is not dataclasses.MISSING
                   else {"default_factory": spec.default_factory})
        specs.append((spec.name, _plain(hints[spec.name]), field(metadata=metadata, **default)))
    cls = dataclasses.make_dataclass(name, specs)
    cls.__module__ = __name__  # importable by name (pickling, OmegaConf's object_type)
    cls.__doc__ = f"The SPEC §4 segment options (durations in seconds), derived from {options.__name__}."
    return cls


DatasetConfig = make_dataset_config()


@dataclass
class TokenizerTraining:
    """Train the tokenizer from the ``train`` split's transcripts when ``model`` is missing."""

    vocab_size: int = 64
    model_type: str = _choice("unigram", *MODEL_TYPES)


@dataclass
class TokenizerConfig:
    model: str
    units: Optional[str] = None
    train_if_missing: Optional[TokenizerTraining] = None


@dataclass
class TextConfig:
    normalizer: Optional[str] = _choice("default", *NORMALIZERS)
    tokenizer: Optional[TokenizerConfig] = None


@dataclass
class SyntheticConfig:
    """Arguments of :func:`mcorec_torch.synthetic.make_split`."""

    split: str = _choice("train", *SPLITS)
    num_sessions: int = 2
    num_frames: int = 600
    seed: int = 0
    content: str = _choice("speech", "index", "speech")
    num_speakers: int = 4
    num_conversations: int = 2


@dataclass
class HeldOutConfig:
    """One part of a held-out split of the (selected) segments: ``MCoRecDataset.split_by_session``
    (``by: session``) or ``split_by_speaker`` with ``fraction`` (the held-out share of the
    segments) and ``seed``; ``part``: ``rest`` or ``held_out``. Two splits of one config with the
    same roots, ``by``, ``fraction`` and ``seed`` get the two parts (no session or speaker in both)."""

    by: str = _choice("session", *SPLIT_UNITS)
    fraction: float = 0.1
    seed: int = 0
    part: str = _choice("rest", *HELD_OUT_PARTS)


@dataclass
class SelectConfig:
    """The arguments of ``MCoRecDataset.select`` (``where``, a callable, is Python only): the
    split's dataset is that view; then ``held_out`` takes one part of a held-out split of it."""

    sessions: Optional[List[str]] = None
    speakers: Optional[List[str]] = None        # SESSION/SPEAKER
    conversations: Optional[List[Any]] = None   # SESSION/ID or an id
    min_duration: Optional[float] = None        # seconds of the cue, bound included
    max_duration: Optional[float] = None
    held_out: Optional[HeldOutConfig] = None


@dataclass
class SplitConfig:
    roots: List[str]
    shuffle: bool = True
    # [{name: <TRANSFORMS key>, <argument>: <value>, ...}], checked by building them
    transforms: List[Dict[str, Any]] = field(default_factory=list)
    # overrides of the dataset section, checked against DatasetConfig and DatasetOptions
    dataset: Dict[str, Any] = field(default_factory=dict)
    synthetic: Optional[SyntheticConfig] = None
    # a view of the split's segments (MCoRecDataset.select, split_by_session/speaker)
    select: Optional[SelectConfig] = None


@dataclass
class TransformsConfig:
    seed: int = 0


@dataclass
class SamplerConfig:
    """:class:`~mcorec_torch.data.samplers.BucketBatchSampler` arguments (frames)."""

    max_frames: int = 2000
    max_batch_size: Optional[int] = None
    seed: int = 0
    drop_last: bool = False
    num_buckets: int = 10
    locality: int = 1  # > 1: runs of this many neighbouring segments of one speaker stay together


@dataclass
class LoaderConfig:
    num_workers: int = 2
    pin_memory: bool = False
    prefetch_factor: Optional[int] = None
    multiprocessing_context: Optional[str] = _choice(None, "fork", "spawn", "forkserver")
    timeout: float = 0.0
    pad_to_multiple_of: Optional[int] = None


@dataclass
class DecodeConfig:
    """Where the crop streams are decoded (SPEC §8): ``cpu`` in the DataLoader workers, or
    ``cuda`` in the training process (:class:`mcorec_torch.gpu.GpuBatchLoader`, NVDEC where
    it works, the CPU decoder with a logged reason where not) with ``threads`` decode lanes."""

    device: str = _choice("cpu", "cpu", "cuda")
    threads: int = 4


@dataclass
class ModelConfig:
    """The small AVSR model of ``scripts/train_avsr.py`` (see :mod:`mcorec_torch.train.model`)."""

    modalities: List[str] = _choice(["video", "audio"], "video", "audio")
    d_model: int = 128
    video_channels: List[int] = field(default_factory=lambda: [16, 32, 64])
    video_downsample: int = 2
    audio_input: str = _choice("fbank", "fbank", "waveform")
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
    # also decode eval_split in ASD chunks as `mcorec-torch decode` does and score it as `score`
    # does (speaker WER, conversation F1, joint error); hypotheses go to <out_dir>/challenge/<split>
    eval_challenge: bool = False
    eval_challenge_chunk_size: float = DEFAULT_CHUNK_SIZE  # seconds: the longest ASD chunk (decode's --chunk-size)
    checkpoint_every: int = 100
    seed: int = 0
    device: str = _choice("auto", "auto", "cpu", "cuda")
    threads: Optional[int] = None


@dataclass
class ExperimentConfig:
    splits: Dict[str, SplitConfig]
    data: DataConfig = field(default_factory=DataConfig)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)  # type: ignore[valid-type]
    text: TextConfig = field(default_factory=TextConfig)
    transforms: TransformsConfig = field(default_factory=TransformsConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    loader: LoaderConfig = field(default_factory=LoaderConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    #: The file the config was read from ("<dict>" for parse_config); not a config key.
    source: ClassVar[str] = "<dict>"

    def split(self, name: str) -> SplitConfig:
        if name not in self.splits:
            raise ConfigError(self.source, "splits", f"no split {name!r}; the config has {sorted(self.splits)}")
        return self.splits[name]

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict of the config (what a checkpoint stores)."""
        return dataclasses.asdict(self)
