"""Transcript text (SPEC §6) and scores (SPEC §11): normalization in the official and the
training style, SentencePiece tokens, and the official metrics. The tokenizer (sentencepiece,
torch) and the scorer (jiwer) load on first use."""
from __future__ import annotations

import importlib
from typing import Any

from .choices import MODEL_TYPES, NORMALIZERS, STYLES, style_of
# eager, so that ``mcorec_torch.text.normalize`` is the function, not the submodule of that name
from .normalize import (DISFLUENCIES, WhisperEnglishNormalizer, get_normalizer, normalize, normalize_official,
                        normalize_train, remove_disfluencies)

_LAZY = {
    "Tokenizer": "tokenizer", "load_tokenizer": "tokenizer", "train_tokenizer": "tokenizer",
    "train_named_tokenizer": "tokenizer", "piece_count": "tokenizer",
    "collect_transcripts": "tokenizer", "read_units": "tokenizer", "write_units": "tokenizer",
    "score_split": "scoring", "score_session": "scoring", "format_score_report": "scoring",
    "pairwise_f1": "scoring", "pairwise_f1_per_speaker": "scoring",
}

__all__ = ["MODEL_TYPES", "NORMALIZERS", "STYLES", "style_of", "DISFLUENCIES", "WhisperEnglishNormalizer",
           "get_normalizer", "normalize", "normalize_official", "normalize_train", "remove_disfluencies", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcorec_torch.text' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
