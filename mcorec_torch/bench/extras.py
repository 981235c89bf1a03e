"""Figures beside the rows: index build time (cold: a fresh cache directory; cached: the second
start) and DataLoader worker RSS after a number of samples."""
from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from torch.utils.data import DataLoader

from ..data import MCoRecDataset, collate
from .rows import BATCH_SIZE, random_order, vm_rss_kib, worker_init

__all__ = ["index_times", "worker_rss", "vm_rss_kib"]


def index_times(roots: Sequence[str], **options: Any) -> Dict[str, float]:
    """Seconds to construct ``MCoRecDataset`` with a fresh cache directory (``cold_s``: headers
    probed, cues read, index written) and again on the same directory (``cached_s``)."""
    with tempfile.TemporaryDirectory(prefix="mcorec-bench-index-") as cache:
        times = []
        for _ in range(2):
            started = time.perf_counter()
            MCoRecDataset(list(roots), cache_dir=cache, **options).close()
            times.append(time.perf_counter() - started)
    return {"cold_s": times[0], "cached_s": times[1]}


def _collate_with_rss(samples: List[Any]) -> Tuple[int, int, int]:
    """Runs in the worker: collates like the loader rows, then reports ``(pid, VmRSS KiB,
    samples)`` of that worker."""
    batch = collate(samples)
    return os.getpid(), vm_rss_kib(), int(batch["video_lengths"].numel())


def worker_rss(dataset: MCoRecDataset, samples: int, workers: int = 2, seed: int = 0) -> Dict[str, Any]:
    """Worker RSS over ``samples`` samples (random order, repeated as needed) through a
    ``DataLoader`` with ``workers`` workers: per worker the RSS (MiB) at its first batch and
    its last, and the most any worker reached."""
    order = random_order(np.random.default_rng(seed), len(dataset), samples)
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, sampler=order, num_workers=workers,
                        collate_fn=_collate_with_rss, worker_init_fn=worker_init)
    first: Dict[int, int] = {}
    last: Dict[int, int] = {}
    delivered = 0
    started = time.perf_counter()
    for pid, rss, n in loader:
        first.setdefault(pid, rss)
        last[pid] = rss
        delivered += n
    seconds = time.perf_counter() - started
    mib = 1.0 / 1024.0
    return {"samples": delivered, "workers": workers, "wall_s": seconds,
            "first_mib": [first[p] * mib for p in sorted(first)],
            "last_mib": [last[p] * mib for p in sorted(last)],
            "max_last_mib": max(last.values()) * mib if last else None,
            "main_mib": vm_rss_kib() * mib}


