"""YAML experiment files (SPEC §9): one file builds the dataset, sampler and DataLoader.

A config has these sections (``configs/demo.yaml`` shows every key with a comment):

* ``data``: ``cache_dir``;
* ``dataset``: every SPEC §4 segment option, derived from
  :class:`~mcorec_torch.index.options.DatasetOptions` (``crops``, ``view``, ``color``,
  ``audio``, ``missing_video``, ``min_video_coverage``, ``min_duration``, ``max_duration``,
  ``merge_gap``, ``on_error``, ``label_dir``) and checked by it;
* ``text``: ``normalizer`` and ``tokenizer`` (``model``, ``units``, and optionally
  ``train_if_missing`` to train a SentencePiece model from the train split's transcripts);
* ``splits``: per split name (``train``, ``valid``, ...) its ``roots``, ``shuffle``,
  ``transforms`` (a list of ``{name: ..., <argument>: ...}`` from
  :data:`mcorec_torch.transforms.TRANSFORMS`), ``dataset`` overrides, and optionally
  ``synthetic`` (write a synthetic split into ``roots[0]`` when it is missing);
* ``transforms``: ``seed`` of all augmentation randomness;
* ``sampler``: :class:`~mcorec_torch.data.samplers.BucketBatchSampler` arguments;
* ``loader``: DataLoader options;
* ``decode``: ``device`` (``cpu``; GPU decoding is SPEC §8);
* ``model``, ``train``: read by ``scripts/train_avsr.py``.

Files are read with OmegaConf onto the structured configs of :mod:`.schema`
(:func:`load_config`; ``KEY=VALUE`` overrides are an OmegaConf dotlist, ``null`` = None) and
come back as plain dataclasses (:class:`ExperimentConfig`). Unknown keys, values of the wrong
type or outside the allowed ones raise :class:`ConfigError` naming the file and the key
(``configs/demo.yaml: sampler.max_frame: unknown key; known keys here: ...``). Values may use
``${oc.env:VAR}`` / ``${oc.env:VAR,default}`` and other OmegaConf interpolations; relative
paths are relative to the current working directory, and ``~`` and ``$VARS`` in paths are
expanded when the parts are built.

Modules: :mod:`.schema` (the sections), :mod:`.load` (reading and checking), :mod:`.build`
(dataset, sampler, loader, tokenizer).
"""
from .build import build_dataloader, build_dataset, build_sampler, build_tokenizer, prepare_data, set_epoch
from .load import build_transform, load_config, parse_config, split_dataset_options
from .schema import (ConfigError, DataConfig, DatasetConfig, DecodeConfig, ExperimentConfig, LoaderConfig,
                     ModelConfig, SamplerConfig, SplitConfig, SyntheticConfig, TextConfig, TokenizerConfig,
                     TokenizerTraining, TrainConfig, TransformsConfig, make_dataset_config)

__all__ = ["ConfigError", "ExperimentConfig", "load_config", "parse_config", "build_dataset",
           "build_sampler", "build_dataloader", "build_tokenizer", "set_epoch", "prepare_data",
           "split_dataset_options", "build_transform", "make_dataset_config", "DataConfig", "DatasetConfig",
           "DecodeConfig", "LoaderConfig", "ModelConfig", "SamplerConfig", "SplitConfig", "SyntheticConfig",
           "TextConfig", "TokenizerConfig", "TokenizerTraining", "TrainConfig", "TransformsConfig"]
