"""What a dataset needs in DataLoader worker processes: skip counts that reach the main
process, and a worker heap that does not keep freed frame arrays.

- :class:`SkipCounts`: one counter per dataset item in shared memory (4 bytes a segment),
  created with the dataset; workers, forked or spawned, increment the same pages, so the
  main process's ``dataset.report()`` sees every skip.
- :func:`tune_worker_process`: glibc raises its mmap threshold dynamically (up to 32 MiB)
  after a large block is freed, so freed multi-MB frame arrays stay on a worker's heap. A
  fixed threshold (``mallopt``) returns them at once, but the pages are then faulted in anew
  for every sample. Measured on the 2-core machine, 2 workers, 2 x 1,000 samples of the
  synthetic dev split (the loop of ``tests/data/test_long_run.py``, longer): face/rgb workers held 384-393 MiB
  without it and 357-362 MiB with 128 KiB, at 1.7x the epoch time (17.5 s against 30-33 s);
  lip/gray 346-349 against 344-345 MiB at 1.1x. Without it the RSS is flat after the first
  100 samples too, so it is off by default: set ``MCOREC_TORCH_WORKER_MMAP_THRESHOLD`` (bytes,
  e.g. 131072) to trade the speed for the memory.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Dict, Iterator, Optional, Tuple

import torch
from torch.utils.data import get_worker_info

#: ``M_MMAP_THRESHOLD`` of glibc's ``mallopt``.
M_MMAP_THRESHOLD = -3
#: Environment variable: the mmap threshold (bytes) to fix in each DataLoader worker.
THRESHOLD_ENV = "MCOREC_TORCH_WORKER_MMAP_THRESHOLD"

_tuned_pid: Optional[int] = None


def set_mmap_threshold(nbytes: int) -> bool:
    """Fix glibc's mmap threshold at ``nbytes`` in this process; ``False`` where the C
    library is not glibc (nothing changed)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    return bool(mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(int(nbytes))))


def tune_worker_process() -> None:
    """Once per DataLoader worker process: :func:`set_mmap_threshold` of ``$MCOREC_TORCH_WORKER_MMAP_THRESHOLD``
    when it is set. Cheap to call on every sample; does nothing in the main process."""
    global _tuned_pid
    pid = os.getpid()
    if _tuned_pid == pid:
        return
    _tuned_pid = pid
    value = os.environ.get(THRESHOLD_ENV)
    if value and get_worker_info() is not None:
        set_mmap_threshold(int(value))


class SkipCounts:
    """How often each item of a dataset was skipped (``on_error="skip"``), in shared memory so
    that the counts of DataLoader workers (fork or spawn, persistent or not) add up in every
    process that holds the dataset. Two workers never load the same item at once, so the
    unlocked increments do not race."""

    def __init__(self, size: int) -> None:
        self._counts = torch.zeros(max(int(size), 1), dtype=torch.int32).share_memory_()

    def add(self, item: int) -> None:
        self._counts[int(item)] += 1

    def items(self) -> Iterator[Tuple[int, int]]:
        """``(item, times skipped)`` of every item skipped at least once."""
        counts = self._counts.numpy()
        for item in counts.nonzero()[0]:
            yield int(item), int(counts[item])

    def total(self) -> int:
        return int(self._counts.sum())

    def by(self, key) -> Dict:
        """Counts summed per ``key(item)``."""
        out: Dict = {}
        for item, n in self.items():
            k = key(item)
            out[k] = out.get(k, 0) + n
        return out
