"""The tiny experiment config the training and decoding tests run (one synthetic "speech"
session per split, a 1-layer model, no workers): the ``tiny_config_file`` fixture."""
from pathlib import Path
from typing import Any, Callable, Dict

import pytest
import yaml

EVAL_TRANSFORMS = [{"name": "center_crop", "size": 88}, {"name": "normalize"}, {"name": "fbank"}]
TRAIN_AUGMENT = [{"name": "random_crop", "size": 88}, {"name": "hflip"}, {"name": "normalize"},
                 {"name": "noise", "snr_db": [10.0, 30.0], "p": 0.5}, {"name": "fbank"}]


def tiny_config(base: Path, *, augment: bool = True, **sections: Any) -> Dict[str, Any]:
    """A config over a 1-session train split (``base/data/train``, 450 frames = 18 s) and a
    1-session valid split (``base/data/valid``), a char tokenizer trained on first use
    (``base/tok``), a tiny model; ``augment=False`` gives the train split the valid split's
    transforms. ``sections`` replace whole top-level sections (e.g. ``train={...}``)."""
    config = {
        "data": {"cache_dir": str(base / "cache")},
        "dataset": {"crops": "lip", "color": "gray", "min_duration": 0.5, "max_duration": 6.0},
        "text": {"normalizer": "train",
                 "tokenizer": {"model": str(base / "tok" / "chars.model"), "units": str(base / "tok" / "chars_units.txt"),
                               "train_if_missing": {"vocab_size": 40, "model_type": "char"}}},
        "splits": {
            "train": {"roots": [str(base / "data" / "train")],
                      "synthetic": {"split": "dev", "num_sessions": 1, "num_frames": 450, "seed": 3, "content": "speech"},
                      "transforms": TRAIN_AUGMENT if augment else EVAL_TRANSFORMS},
            "valid": {"roots": [str(base / "data" / "valid")], "shuffle": False,
                      "synthetic": {"split": "dev", "num_sessions": 1, "num_frames": 450, "seed": 4, "content": "speech"},
                      "transforms": EVAL_TRANSFORMS},
        },
        "sampler": {"max_frames": 300, "max_batch_size": 8},
        "loader": {"num_workers": 0},
        "model": {"d_model": 32, "video_channels": [8, 16], "video_downsample": 4, "layers": 1, "heads": 2,
                  "ff_dim": 64, "conv_kernel": 7, "dropout": 0.1},
        "train": {"epochs": 100, "lr": 0.003, "warmup_steps": 5, "log_every": 1, "checkpoint_every": 1000,
                  "eval_max_batches": 2, "threads": 1},
    }
    config.update(sections)
    return config


def write_tiny_config(base: Path, *, augment: bool = True, name: str = "tiny.yaml", **sections: Any) -> Path:
    """:func:`tiny_config` written as YAML to ``base/name``; returns the path."""
    path = base / name
    path.write_text(yaml.safe_dump(tiny_config(base, augment=augment, **sections)))
    return path


@pytest.fixture(scope="session")
def tiny_config_file() -> Callable[..., Path]:
    """:func:`write_tiny_config` (a fixture, so that test modules need not import a conftest)."""
    return write_tiny_config
