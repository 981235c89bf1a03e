"""mcorec_torch: frame-exact MCoRec (CHiME-9 Task 1) audio-visual segments for PyTorch."""
from .collate import Collator, collate
from .dataset import MCoRecDataset
from .errors import MCoRecDataError
from .samplers import BucketBatchSampler
from .timeline import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME

__all__ = ["MCoRecDataset", "collate", "Collator", "BucketBatchSampler", "MCoRecDataError", "FPS", "SAMPLE_RATE",
           "SAMPLES_PER_FRAME", "Tokenizer"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "Tokenizer":  # sentencepiece is imported only when a tokenizer is wanted
        from .tokenizer import Tokenizer
        return Tokenizer
    raise AttributeError(f"module 'mcorec_torch' has no attribute {name!r}")
