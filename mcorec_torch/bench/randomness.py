"""What ``BucketBatchSampler(locality=k)`` changes in the batches training sees, measured on a
corpus of MCoRec's shape (``python -m mcorec_torch.bench.randomness``; figures in the
Performance guide, "Locality").

For each ``k``, over several epochs of one sampler:

* ``distinct_speakers``: distinct speakers in a batch / its size (mean over batches; 1.0 when no
  two segments of a batch share a speaker);
* ``same_speaker_pairs``: the share of pairs of segments of a batch that share a speaker;
* ``pairs_kept``: the share of pairs that share a batch in epoch ``e`` and again in ``e + 1``
  (what the order forgets between epochs; mean over epoch pairs);
* ``order_correlation``: the correlation of each segment's batch position in epoch ``e`` and
  ``e + 1`` (mean over epoch pairs; 0 for independent orders);
* ``real_frames``: frames / padded frames (``size x longest`` summed over batches) and
  ``batches`` per epoch: the padding the batches carry.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..data.samplers import BucketBatchSampler

__all__ = ["BatchRandomness", "batch_randomness", "mcorec_like_corpus", "main"]


@dataclass(frozen=True)
class BatchRandomness:
    """The figures of the module docstring for one sampler configuration."""

    locality: int
    batches: int
    distinct_speakers: float
    same_speaker_pairs: float
    pairs_kept: float
    order_correlation: float
    real_frames: float


def mcorec_like_corpus(seed: int = 0, sessions: int = 56, speakers: int = 6, cues: int = 40
                       ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(speaker, start, length)`` per segment, in a shuffled dataset order: ``sessions`` x
    ``speakers`` speakers (the MCoRec train split's 56 sessions, 4-8 speakers each), ``cues``
    cues each, 1-15 s long (25-375 frames) with 0.2-2 s pauses, one after another in time."""
    rng = np.random.default_rng(seed)
    speaker, start, length = [], [], []
    for who in range(sessions * speakers):
        frame = 0
        for _ in range(cues):
            frame += int(rng.integers(5, 50))
            frames = int(rng.integers(25, 376))
            speaker.append(who)
            start.append(frame)
            length.append(frames)
            frame += frames
    order = rng.permutation(len(speaker))
    return np.asarray(speaker)[order], np.asarray(start)[order], np.asarray(length)[order]


def _pairs(batches: Sequence[Sequence[int]]) -> set:
    """Unordered pairs of segments that share a batch."""
    pairs = set()
    for batch in batches:
        members = sorted(batch)
        pairs.update((a, b) for k, a in enumerate(members) for b in members[k + 1:])
    return pairs


def _positions(batches: Sequence[Sequence[int]], size: int) -> np.ndarray:
    """Batch number of every segment."""
    position = np.zeros(size, dtype=np.float64)
    for number, batch in enumerate(batches):
        position[list(batch)] = number
    return position


def batch_randomness(speaker: np.ndarray, start: np.ndarray, length: np.ndarray, locality: int, *,
                     max_frames: int = 6000, max_batch_size: Optional[int] = 64, epochs: int = 4,
                     seed: int = 0) -> BatchRandomness:
    """The figures of ``BucketBatchSampler(length, max_frames, max_batch_size, locality=...)``
    over ``epochs`` epochs (``speaker``/``start``: the sampler's ``tracks``/``starts``)."""
    sampler = BucketBatchSampler(length, max_frames=max_frames, max_batch_size=max_batch_size, seed=seed,
                                 locality=locality, tracks=speaker, starts=start)
    per_epoch: List[List[List[int]]] = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        per_epoch.append(list(sampler))
    first = per_epoch[0]
    distinct = [len(set(speaker[b].tolist())) / len(b) for b in first]
    same = total = 0
    for batch in first:
        _, counts = np.unique(speaker[batch], return_counts=True)
        same += int((counts * (counts - 1) // 2).sum())
        total += len(batch) * (len(batch) - 1) // 2
    kept, correlation = [], []
    for before, after in zip(per_epoch[:-1], per_epoch[1:]):
        pairs = _pairs(before)
        kept.append(len(pairs & _pairs(after)) / max(len(pairs), 1))
        correlation.append(float(np.corrcoef(_positions(before, length.size), _positions(after, length.size))[0, 1]))
    real = sum(int(length[b].sum()) for b in first)
    padded = sum(len(b) * int(length[b].max()) for b in first)
    return BatchRandomness(locality, len(first), float(np.mean(distinct)), same / max(total, 1),
                           float(np.mean(kept)), float(np.mean(correlation)), real / padded)


def main(argv: Optional[Sequence[str]] = None) -> Dict[int, Dict[str, float]]:
    """Print the figures for ``--locality`` values on :func:`mcorec_like_corpus`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locality", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    speaker, start, length = mcorec_like_corpus(args.seed)
    print(f"{length.size} segments of {np.unique(speaker).size} speakers; max_frames 6000, max_batch_size 64, "
          f"{args.epochs} epochs")
    print(f"{'locality':>8} {'batches':>8} {'distinct spk':>12} {'same-spk pairs':>14} {'pairs kept':>10} "
          f"{'order r':>8} {'real frames':>11}")
    out = {}
    for k in args.locality:
        r = batch_randomness(speaker, start, length, k, epochs=args.epochs, seed=args.seed)
        out[k] = asdict(r)
        print(f"{k:>8} {r.batches:>8} {r.distinct_speakers:>12.3f} {r.same_speaker_pairs:>14.4f} "
              f"{r.pairs_kept:>10.3f} {r.order_correlation:>8.3f} {r.real_frames:>11.3f}")
    return out


if __name__ == "__main__":
    main()
