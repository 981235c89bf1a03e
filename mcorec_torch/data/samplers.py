"""Length-bucketed, DDP-aware, resumable batch sampling (SPEC §5).

:class:`BucketBatchSampler` yields lists of dataset indices for
``DataLoader(dataset, batch_sampler=sampler, collate_fn=mcorec_torch.collate)``.
Batches are bounded by *padded frames*: ``len(batch) * max(lengths in batch) <= max_frames``,
so a batch of long segments holds fewer of them than a batch of short ones.

How an epoch's batches are made (the same on every rank):

1. Segments are split once into ``num_buckets`` length buckets holding about the same number
   of segments each (boundaries at length quantiles).
2. ``shuffle=True``: from a generator seeded by ``(seed, epoch)``, each bucket's segments
   are shuffled, packed greedily into batches in that order, and all batches of all
   buckets are shuffled together. ``shuffle=False``: segments sorted by (length, index),
   packed greedily, batches in that order.
3. The global batch list is shared among ``num_replicas`` ranks: rank ``r`` takes batches
   ``r, r + R, r + 2R, ...``. So that every rank gets the same number of batches,
   ``drop_last=True`` drops the last ``n mod R`` batches of the list (their segments are
   not seen that epoch); ``drop_last=False`` (default) pads the list by repeating its first
   ``(-n) mod R`` batches (those segments are seen twice that epoch).

A segment longer than ``max_frames`` on its own is the one exception to the bound: it gets a
batch of its own (nothing is dropped silently).

Locality (``locality=k > 1``, with ``tracks`` and ``starts``): each speaker's segments, in time
order, are cut into runs of ``k`` neighbours, and step 2 shuffles and packs *runs* (bucketed by
their longest segment) instead of single segments, keeping each run in time order. A worker
then reads up to ``k`` segments of one track front to back, decoding on instead of seeking
back to a keyframe per segment; batches hold runs of neighbouring segments of one speaker
(less random within a batch, and a little more padding).
"""
from __future__ import annotations

import hashlib
import math
from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np
from torch.utils.data import Sampler

from ..checks import check_int

__all__ = ["BucketBatchSampler"]

STATE_VERSION = 1


def _distributed_defaults(num_replicas: Optional[int], rank: Optional[int]) -> tuple:
    """``(num_replicas, rank)``: the given values, else torch.distributed's, else ``(1, 0)``."""
    if num_replicas is None or rank is None:
        import torch.distributed as dist

        initialised = dist.is_available() and dist.is_initialized()
        if num_replicas is None:
            num_replicas = dist.get_world_size() if initialised else 1
        if rank is None:
            rank = dist.get_rank() if initialised else 0
    return int(num_replicas), int(rank)


def _pack(indices: np.ndarray, lengths: np.ndarray, max_frames: int,
          max_batch_size: Optional[int]) -> List[List[int]]:
    """Greedy batches of ``indices`` in the given order, each within ``max_frames`` padded
    frames (``size * longest``) and ``max_batch_size`` segments."""
    batches: List[List[int]] = []
    current: List[int] = []
    longest = 0
    limit = max_batch_size if max_batch_size is not None else math.inf
    for index, length in zip(indices.tolist(), lengths[indices].tolist()):
        longer = max(longest, length)
        if current and ((len(current) + 1) * longer > max_frames or len(current) >= limit):
            batches.append(current)
            current, longer = [], length
        current.append(index)
        longest = longer
    if current:
        batches.append(current)
    return batches


def _runs(tracks: np.ndarray, starts: np.ndarray, size: int) -> List[np.ndarray]:
    """Segment indices cut into runs of at most ``size`` neighbours of one track, in time order."""
    order = np.lexsort((np.arange(tracks.size), starts, tracks))
    runs: List[np.ndarray] = []
    for track_indices in np.split(order, np.flatnonzero(np.diff(tracks[order])) + 1):
        runs += [track_indices[k: k + size] for k in range(0, track_indices.size, size)]
    return [run for run in runs if run.size]


class BucketBatchSampler(Sampler[List[int]]):
    """Batches of dataset indices bucketed by length (SPEC §5); see the module docstring.

    ``lengths``: frames per segment (``dataset.lengths``); ``max_frames``: the most padded
    frames in a batch (``batch size * longest segment``); ``max_batch_size``: the most
    segments in a batch (None: no limit); ``shuffle``/``seed``: order drawn from
    ``(seed, epoch)``, see :meth:`set_epoch`; ``drop_last``: how ranks are evened out (module
    docstring); ``num_replicas``/``rank``: default to ``torch.distributed`` when initialised,
    else 1 and 0; ``num_buckets``: length buckets used when shuffling; ``locality``,
    ``tracks``, ``starts``: runs of neighbouring segments of one track kept together (module
    docstring; ``tracks``: a track or speaker id per segment, ``starts``: its first frame).

    Resume: ``state_dict(batches_consumed=n)`` records (seed, epoch, batches of this epoch
    consumed on this rank, configuration, a fingerprint of ``lengths``);
    :meth:`load_state_dict` restores it, and the next ``__iter__`` continues with exactly the
    batches an uninterrupted run would have produced, without touching the skipped ones.
    ``len(sampler)`` is the number of batches the next ``__iter__`` yields on this rank.
    """

    def __init__(self, lengths: Sequence[int], max_frames: int, max_batch_size: Optional[int] = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False,
                 num_replicas: Optional[int] = None, rank: Optional[int] = None,
                 num_buckets: int = 10, locality: int = 1, tracks: Optional[Sequence[int]] = None,
                 starts: Optional[Sequence[int]] = None) -> None:
        lengths = np.asarray(lengths)
        if lengths.ndim != 1:
            raise ValueError(f"lengths must be one-dimensional, got shape {lengths.shape}")
        if lengths.size and (not np.issubdtype(lengths.dtype, np.integer) or lengths.min() < 0):
            raise ValueError("lengths must be non-negative integers (frames per segment)")
        # int() first, as before the checks existed: 3000.0 and "64" are still taken
        max_frames = check_int("max_frames", int(max_frames), minimum=1)
        max_batch_size = check_int("max_batch_size", None if max_batch_size is None else int(max_batch_size),
                                   minimum=1, optional=True)
        seed = check_int("seed", int(seed), minimum=0)
        num_buckets = check_int("num_buckets", int(num_buckets), minimum=1)
        locality = check_int("locality", int(locality), minimum=1)
        if locality > 1 and (tracks is None or starts is None
                                  or len(tracks) != lengths.size or len(starts) != lengths.size):
            raise ValueError("locality > 1 needs tracks and starts, one per segment (e.g. "
                             "dataset.segment_speaker and dataset.segment_frame_start)")
        num_replicas, rank = _distributed_defaults(num_replicas, rank)
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"need num_replicas >= 1 and 0 <= rank < num_replicas, "
                             f"got num_replicas={num_replicas}, rank={rank}")
        # a zero-length segment still takes a slot in a batch
        self.lengths = np.maximum(lengths.astype(np.int64), 1)
        self.max_frames, self.max_batch_size = max_frames, max_batch_size
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.drop_last = bool(drop_last)
        self.num_replicas = num_replicas
        self.rank = rank
        self.num_buckets, self.locality = num_buckets, locality
        self._runs = _runs(np.asarray(tracks), np.asarray(starts), self.locality) if self.locality > 1 else None
        self.epoch = 0
        self._start = 0      # batches of this epoch the next __iter__ skips (after a resume)
        self._position = 0   # batches of this epoch yielded so far on this rank
        self._cache: Optional[tuple] = None  # (epoch, this rank's batches)
        self._buckets = self._make_buckets()
        self._fingerprint = {
            "num_segments": int(lengths.size),
            "lengths_sha1": hashlib.sha1(np.ascontiguousarray(lengths, dtype="<i8").tobytes()).hexdigest(),
        }

    # -- construction of an epoch -------------------------------------------------------
    def _make_buckets(self) -> List[np.ndarray]:
        """Indices grouped into length buckets of about equal size (stable by index)."""
        order = np.lexsort((np.arange(self.lengths.size), self.lengths))
        if order.size == 0:
            return []
        buckets = np.array_split(order, min(self.num_buckets, order.size))
        return [b for b in buckets if b.size]

    def _run_buckets(self) -> List[np.ndarray]:
        """Run numbers grouped into buckets by each run's longest segment (stable)."""
        longest = np.array([int(self.lengths[run].max()) for run in self._runs], dtype=np.int64)
        order = np.lexsort((np.arange(longest.size), longest))
        return [b for b in np.array_split(order, min(self.num_buckets, max(order.size, 1))) if b.size]

    def _global_batches(self, epoch: int) -> List[List[int]]:
        """Every batch of ``epoch`` before it is shared among ranks (identical on all ranks)."""
        if not self.shuffle:
            order = np.lexsort((np.arange(self.lengths.size), self.lengths))
            return _pack(order, self.lengths, self.max_frames, self.max_batch_size)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, int(epoch)]))
        batches: List[List[int]] = []
        if self._runs is not None:
            for bucket in self._run_buckets():
                runs = [self._runs[k] for k in bucket[rng.permutation(bucket.size)]]
                batches += _pack(np.concatenate(runs), self.lengths, self.max_frames, self.max_batch_size)
            return [batches[k] for k in rng.permutation(len(batches))]
        for bucket in self._buckets:
            batches += _pack(bucket[rng.permutation(bucket.size)], self.lengths,
                             self.max_frames, self.max_batch_size)
        return [batches[k] for k in rng.permutation(len(batches))]

    def _rank_batches(self) -> List[List[int]]:
        if self._cache is None or self._cache[0] != self.epoch:
            batches = self._global_batches(self.epoch)
            total, replicas = len(batches), self.num_replicas
            if self.drop_last:
                batches = batches[: total // replicas * replicas]
            elif total % replicas:
                batches = batches + [batches[k % total] for k in range(replicas - total % replicas)]
            self._cache = (self.epoch, batches[self.rank::replicas])
        return self._cache[1]

    # -- Sampler protocol -----------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch``. Setting the epoch a loaded state is in keeps its resume
        position; any other epoch starts from its first batch."""
        epoch = check_int("epoch", int(epoch), minimum=0)  # int() as before: 2.0 is epoch 2
        if epoch != self.epoch:
            self.epoch = epoch
            self._start = 0
            self._position = 0

    def __len__(self) -> int:
        return len(self._rank_batches()) - self._start

    def __iter__(self) -> Iterator[List[int]]:
        batches = self._rank_batches()
        start, self._start = self._start, 0  # a later __iter__ of the same epoch starts over
        self._position = start
        for k in range(start, len(batches)):
            self._position = k + 1
            yield list(batches[k])

    # -- resume ---------------------------------------------------------------------------
    @property
    def resume_from(self) -> int:
        """Batches of the current epoch that the next ``__iter__`` skips (0 unless resumed)."""
        return self._start

    def _config(self) -> Dict[str, Any]:
        config = {"max_frames": self.max_frames, "max_batch_size": self.max_batch_size,
                  "shuffle": self.shuffle, "drop_last": self.drop_last, "num_buckets": self.num_buckets}
        if self.locality > 1:  # only then: states saved before the option existed still load
            config["locality"] = self.locality
        return config

    def state_dict(self, batches_consumed: Optional[int] = None) -> Dict[str, Any]:
        """The resume state. ``batches_consumed``: batches of the current epoch this rank's
        training loop has finished, counted from the epoch's start (including any before a
        resume). Default: the batches this sampler has yielded, which runs ahead of the loop
        when DataLoader workers prefetch; pass the loop's own count then."""
        consumed = self._position if batches_consumed is None else int(batches_consumed)
        total = len(self._rank_batches())
        if not 0 <= consumed <= total:
            raise ValueError(f"batches_consumed={consumed} outside [0, {total}] for epoch {self.epoch}")
        return {"version": STATE_VERSION, "seed": self.seed, "epoch": self.epoch,
                "batches_consumed": consumed, "num_replicas": self.num_replicas,
                "config": self._config(), "dataset": dict(self._fingerprint)}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Continue from ``state`` (from :meth:`state_dict` of any rank of the same run).

        Raises ``ValueError`` when the state comes from a different world size, different
        lengths (another dataset or other dataset options) or another sampler configuration:
        the batches would not be those of the interrupted run."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError(f"not a BucketBatchSampler state (version {STATE_VERSION}): {state!r:.200}")
        if int(state["num_replicas"]) != self.num_replicas:
            raise ValueError(f"sampler state was saved with world size {state['num_replicas']}, this run has "
                             f"{self.num_replicas}: the global batch list is shared differently, so the "
                             "interrupted epoch cannot be continued exactly; start the next epoch instead "
                             "(set_epoch) or run with the same number of processes")
        if state["dataset"] != self._fingerprint:
            saved, here = state["dataset"], self._fingerprint
            raise ValueError(f"sampler state belongs to a different dataset: it had {saved['num_segments']} "
                             f"segments (lengths sha1 {saved['lengths_sha1'][:12]}), this one has "
                             f"{here['num_segments']} (lengths sha1 {here['lengths_sha1'][:12]}); same data "
                             "roots and dataset options are needed to resume")
        differing = {key: (state["config"].get(key), value) for key, value in self._config().items()
                     if state["config"].get(key) != value}
        if differing or int(state["seed"]) != self.seed:
            if int(state["seed"]) != self.seed:
                differing["seed"] = (state["seed"], self.seed)
            described = ", ".join(f"{key}: saved {old!r}, now {new!r}" for key, (old, new) in differing.items())
            raise ValueError(f"sampler state has a different configuration ({described})")
        self.epoch = int(state["epoch"])
        total = len(self._rank_batches())
        consumed = int(state["batches_consumed"])
        if not 0 <= consumed <= total:
            raise ValueError(f"batches_consumed={consumed} outside [0, {total}] for epoch {self.epoch}")
        self._start = consumed
        self._position = consumed

    def __repr__(self) -> str:
        return (f"BucketBatchSampler(segments={self.lengths.size}, max_frames={self.max_frames}, "
                f"max_batch_size={self.max_batch_size}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last}, num_replicas={self.num_replicas}, rank={self.rank}, "
                f"epoch={self.epoch})")
