"""The example trainer: a small audio-visual CTC model (:mod:`.model`) and its training loop
(:mod:`.loop`, run by ``mcorec-torch train`` and ``scripts/train_avsr.py``)."""
from .model import AVSRModel, ctc_greedy_decode, ctc_loss

__all__ = ["AVSRModel", "ctc_greedy_decode", "ctc_loss"]
