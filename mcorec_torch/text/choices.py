"""The names of the text choices, declared once and cheap to import (no normalizer or tokenizer
library loads with them): the normalization styles, the dataset's normalizer names and the
SentencePiece model types. The command line's flags and the config schema list them."""
from __future__ import annotations

from typing import Tuple

from ..checks import check_choice

__all__ = ["STYLES", "NORMALIZERS", "MODEL_TYPES", "style_of"]

#: Normalization styles (SPEC §6): ``"official"`` (the official scorer's) and ``"train"`` (targets).
STYLES: Tuple[str, ...] = ("official", "train")
#: The named normalizers of the dataset's ``normalizer=`` (and of configs and flags): ``"default"``
#: is the ``"train"`` style.
NORMALIZERS: Tuple[str, ...] = ("default", "train", "official")
#: SentencePiece model types the tokenizer trains (its ``model_type``).
MODEL_TYPES: Tuple[str, ...] = ("unigram", "bpe", "char", "word")


def style_of(normalizer: str) -> str:
    """The :data:`STYLES` entry a named normalizer applies (``"default"`` -> ``"train"``);
    :class:`~mcorec_torch.checks.OptionError` for a name not in :data:`NORMALIZERS`."""
    check_choice("normalizer", normalizer, NORMALIZERS)
    return "train" if normalizer == "default" else normalizer
