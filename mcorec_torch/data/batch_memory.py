"""Shared memory that DataLoader workers reuse for the batches they decode (SPEC §5).

A batch written into fresh shared memory pays for every page: the file is allocated and
zeroed (torch ``fallocate``s it) and every 4 KiB page is faulted into the worker. For a face/rgb
batch of hundreds of MB that costs about as much as decoding it (measured in the Performance
guide). So each worker process keeps a small ring of shared-memory blocks (``memfd``), writes a
batch's ``video``, ``video_mask`` and ``audio`` into one block, and sends them to the main
process as *the block and an offset* instead of through torch's tensor sharing.

When is a block written again? Only when both hold:

1. No tensor in the worker still uses it. Every tensor over the block holds, through its
   storage, a reference to the block's numpy array; the array's reference count tells.
2. The main process has dropped every copy it was sent. There the block is mapped into an
   object (:class:`_Mapped`), and every numpy array and tensor storage over the mapping holds a
   reference to it (views, ``.numpy()`` arrays and torch storages alike). When the last one
   goes, the object writes the block's number into the worker's release pipe. The worker counts
   these numbers against the times it sent the block. A batch that the consumer keeps (a list of
   batches, a tensor stored away, a pinned-memory copy in flight) keeps its block busy, however
   long. A block sent and never received (the loader shut down first) is never reused, nor is
   one that was mapped when the main process forked (a child shares the mapping).

A busy ring is not waited for: the batch then goes into fresh memory (torch's shared memory,
as without the ring). Batches built in the main process (``num_workers=0``) of at least
:data:`LOCAL_RING_MIN_BYTES` reuse private blocks the same way (:data:`LOCAL_RING_BLOCKS` per
dataset, freed with it): a block is written again when no tensor over it is left. Tensors the main process gets are ordinary CPU tensors over the mapping.
``share_memory_()`` or sending one to another process moves it into torch's own shared memory
(a copy), which also releases the block. Under DDP every rank's workers have their own rings.
"""
from __future__ import annotations

import errno
import mmap
import os
import struct
import sys
import threading
import weakref
from multiprocessing.reduction import DupFd
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import get_worker_info

from ..checks import check_int

__all__ = ["RING_BLOCKS", "LOCAL_RING_BLOCKS", "LOCAL_RING_MIN_BYTES", "RING_ENV", "MEMFD_PREFIX", "BlockTensor", "allocate_in_ring", "ring_capacity",
           "ring_stats"]

#: Blocks a worker keeps by default: the batches in flight between one worker and the consumer
#: (the DataLoader's ``prefetch_factor`` of 2, one being consumed, one being written).
RING_BLOCKS = 4
#: Blocks of a ring in the main process (``num_workers=0``): the batch the loop holds and the
#: next one.
LOCAL_RING_BLOCKS = 2
#: Smallest batch (bytes) that goes into the main process's ring. Smaller ones are left to
#: malloc, which reuses freed memory below its largest mmap threshold (glibc: 32 MiB) anyway
#: (measured: the same time per frame, fresh or reused, for 15 MB lip/gray batches).
LOCAL_RING_MIN_BYTES = 32 << 20
#: Environment variable: blocks per worker instead of :data:`RING_BLOCKS` (``0``: no ring, every
#: batch in fresh shared memory). Read when a worker makes its ring, so spawned workers see it.
RING_ENV = "MCOREC_TORCH_BATCH_RING"
#: Name prefix of the blocks' ``memfd`` files (``/proc/<pid>/fd`` shows ``/memfd:<prefix>...``).
MEMFD_PREFIX = "mcorec-batch"
#: Alignment of each tensor inside a block (bytes).
_ALIGN = 64
_NUMBER = np.dtype("<u4")
#: Errors of a release write that mean there is nothing left to release to.
_IGNORED_ERRNOS = (errno.EPIPE, errno.EAGAIN, errno.EBADF)
#: Flag of a release message: the block is given up (see :meth:`_Mapped.before_fork`).
_ABANDONED = 1 << 31
#: The thread of a worker's result queue (``multiprocessing.Queue``) that pickles each batch:
#: only what it sends goes by block; anything else pickles a block tensor as a plain tensor.
_FEEDER_THREAD = "QueueFeederThread"


class BlockTensor(torch.Tensor):
    """A tensor over a ring block in a worker: pickled as ``(block, offset, shape, strides)`` so
    that the main process maps the block instead of torch copying or re-sharing it. Operations
    on it give plain tensors (views of other tensors are sent by torch's own sharing)."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __reduce_ex__(self, protocol: int):  # noqa: D105
        if threading.current_thread().name != _FEEDER_THREAD:  # torch.save, another queue: a plain tensor
            return self.as_subclass(torch.Tensor).__reduce_ex__(protocol)
        use: _BlockUse = self._mcorec_use  # type: ignore[attr-defined]
        itemsize = self.element_size()
        offset = use.offset_of(self)
        return (_rebuild_tensor, (use, str(self.dtype).replace("torch.", ""), tuple(self.shape),
                                  tuple(s * itemsize for s in self.stride()), offset))


class _Block:
    """One shared-memory block of a worker's ring: ``memfd`` descriptor, mapping, the numpy
    array over it, and how often it was sent and released."""

    def __init__(self, number: int, size: int) -> None:
        self.number = number
        self.size = size
        self.fd = os.memfd_create(f"{MEMFD_PREFIX}-{number}", os.MFD_CLOEXEC)
        try:
            os.posix_fallocate(self.fd, 0, size)  # out of memory now, not a SIGBUS later
            self.map = mmap.mmap(self.fd, size)
        except BaseException:
            os.close(self.fd)
            raise
        self.array = np.frombuffer(self.map, dtype=np.uint8)
        self.sent = 0
        self.released = 0

    def free(self) -> bool:
        """Whether nothing in this process uses the block and the main process released every
        copy it was sent."""
        # 2: self.array and getrefcount's argument; every tensor over the block adds one
        return self.released >= self.sent and sys.getrefcount(self.array) <= 2

    def close(self) -> None:
        self.array = None  # type: ignore[assignment]
        try:
            self.map.close()
        except BufferError:  # still exported by a live tensor: left to the garbage collector
            pass
        os.close(self.fd)


class _LocalBlock:
    """A block of private memory for batches built in this process (``num_workers=0``): its
    tensors never leave the process, so its numpy array's reference count alone says whether
    anything still uses it (every tensor storage over it holds a reference)."""

    def __init__(self, number: int, size: int) -> None:
        self.number, self.size = number, size
        self.array = np.empty(size, dtype=np.uint8)

    def free(self) -> bool:
        # 2: self.array and getrefcount's argument; every tensor over the block adds one
        return sys.getrefcount(self.array) <= 2

    def close(self) -> None:
        self.array = None  # type: ignore[assignment]


class _BlockUse:
    """One filling of a block: what a batch's tensors point at when they are pickled. Pickled
    once per message (pickle's memo), it carries the block's descriptor and the release pipe's;
    each time counts as one send to be released."""

    def __init__(self, ring: "_Ring", block: _Block) -> None:
        self.ring, self.block = ring, block
        self.base = block.array.ctypes.data

    def offset_of(self, tensor: torch.Tensor) -> int:
        return tensor.data_ptr() - self.base

    def __reduce__(self):
        self.block.sent += 1
        return (_Mapped.receive, (self.ring.key, self.block.number, self.block.size, DupFd(self.block.fd),
                                  DupFd(self.ring.release_write)))


class _LocalRing:
    """Blocks reused for batches built in this process; :meth:`acquire` gives a free one."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.blocks: Dict[int, Any] = {}
        self._next = 0
        self.reused = 0
        self.fresh = 0

    def _collect_releases(self) -> None:
        """Nothing to collect: a local block is free when no tensor uses it."""

    def _new_block(self, number: int, size: int) -> Any:
        return _LocalBlock(number, size)

    def acquire(self, size: int) -> Optional[Any]:
        """A free block of at least ``size`` bytes (a new one while the ring has room, or one
        grown in place of a free smaller one); ``None`` when every block is busy."""
        self._collect_releases()
        free = [b for b in self.blocks.values() if b.free()]
        fitting = [b for b in free if b.size >= size]
        if fitting:
            self.reused += 1
            return min(fitting, key=lambda b: b.size)
        if len(self.blocks) >= self.capacity:
            if not free:
                return None
            smallest = min(free, key=lambda b: b.size)
            del self.blocks[smallest.number]
            smallest.close()
        try:
            block = self._new_block(self._next, size)
        except OSError:  # no memory for a block (or no memfd here): fresh memory, as without a ring
            return None
        self._next += 1
        self.blocks[block.number] = block
        self.fresh += 1
        return block


class _Ring(_LocalRing):
    """The shared-memory blocks of this worker process and the pipe the main process releases
    them through."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.key = f"{os.getpid()}-{id(self)}"
        self.release_read, self.release_write = os.pipe()
        os.set_blocking(self.release_read, False)
        os.set_blocking(self.release_write, False)

    def _new_block(self, number: int, size: int) -> Any:
        return _Block(number, size)

    def _collect_releases(self) -> None:
        while True:
            try:
                data = os.read(self.release_read, 4096 * _NUMBER.itemsize)
            except BlockingIOError:
                return
            if not data:
                return
            for message in np.frombuffer(data[: len(data) // _NUMBER.itemsize * _NUMBER.itemsize], dtype=_NUMBER):
                number, abandoned = int(message) & ~_ABANDONED, bool(int(message) & _ABANDONED)
                block = self.blocks.get(number)
                if block is None:
                    continue
                if abandoned:  # mapped in a forked child of the main process: never written again
                    del self.blocks[number]
                    block.close()
                else:
                    block.released += 1


_ring: Optional[_Ring] = None
_ring_pid: Optional[int] = None


#: Rings of the batches built in this process (``num_workers=0``), one per owner (a dataset):
#: freed with it, and never pickled into a worker.
_local_rings: "weakref.WeakKeyDictionary[Any, _LocalRing]" = weakref.WeakKeyDictionary()


def _this_ring(owner: Any = None) -> Optional[_LocalRing]:
    """In a DataLoader worker its shared-memory ring (``None`` without ``memfd``); elsewhere
    ``owner``'s ring of private blocks (``None`` without an owner); ``None`` with a ring size of 0."""
    global _ring, _ring_pid
    if get_worker_info() is None:
        if owner is None:
            return None
        ring = _local_rings.get(owner)
        if ring is None:
            ring = _local_rings[owner] = _LocalRing(min(ring_capacity(), LOCAL_RING_BLOCKS))
        return ring if ring.capacity > 0 else None
    if not hasattr(os, "memfd_create"):
        return None
    if _ring_pid != os.getpid():  # a forked child does not reuse its parent's blocks
        _ring, _ring_pid = _Ring(ring_capacity()), os.getpid()
    return _ring if _ring.capacity > 0 else None


def ring_capacity() -> int:
    """Blocks per worker: ``$MCOREC_TORCH_BATCH_RING`` when set, else :data:`RING_BLOCKS`."""
    value = os.environ.get(RING_ENV)
    if not value:
        return RING_BLOCKS
    try:
        blocks = int(value)
    except ValueError:
        blocks = value  # type: ignore[assignment]  # check_int names the variable and the value
    return int(check_int(RING_ENV, blocks, minimum=0))


def _aligned(nbytes: int) -> int:
    return -(-nbytes // _ALIGN) * _ALIGN


def allocate_in_ring(specs: Sequence[Tuple[Tuple[int, ...], torch.dtype]], owner: Any = None
                     ) -> Optional[List[torch.Tensor]]:
    """Uninitialised tensors of the given ``(shape, dtype)``, side by side in one free block:
    in a DataLoader worker of its shared-memory ring (:class:`BlockTensor`), elsewhere of
    ``owner``'s ring of private blocks (plain tensors). ``None`` when every block is busy, the
    ring size is 0, or there is no ring here (allocate fresh memory then)."""
    ring = _this_ring(owner)
    if ring is None:
        return None
    sizes = [_aligned(int(np.prod(shape)) * torch.empty(0, dtype=dtype).element_size()) for shape, dtype in specs]
    if not isinstance(ring, _Ring) and sum(sizes) < LOCAL_RING_MIN_BYTES:
        return None
    block = ring.acquire(max(sum(sizes), _ALIGN))
    if block is None:
        ring.fresh += 1
        return None
    use = _BlockUse(ring, block) if isinstance(ring, _Ring) else None
    out, offset = [], 0
    for (shape, dtype), size in zip(specs, sizes):
        count = int(np.prod(shape))
        itemsize = torch.empty(0, dtype=dtype).element_size()
        tensor = torch.from_numpy(block.array[offset: offset + count * itemsize]).view(dtype).view(shape)
        if use is not None:
            tensor = tensor.as_subclass(BlockTensor)
            tensor._mcorec_use = use
        out.append(tensor)
        offset += size
    return out


def ring_stats(owner: Any = None) -> Dict[str, int]:
    """This worker's ring (``owner``'s ring outside a worker): ``blocks``, ``reused`` (batches
    written into a block used before) and ``fresh`` (new blocks, or fresh memory with every
    block busy)."""
    if owner is not None and get_worker_info() is None:
        ring: Optional[_LocalRing] = _local_rings.get(owner)
    else:
        ring = _ring if _ring_pid == os.getpid() else None
    if ring is None:
        return {"blocks": 0, "reused": 0, "fresh": 0}
    return {"blocks": len(ring.blocks), "reused": ring.reused, "fresh": ring.fresh}


# -- the main process ----------------------------------------------------------------------

class _ReleasePipe:
    """The write end of one worker's release pipe in the main process (one descriptor per ring,
    however many of its blocks are mapped)."""

    _open: "weakref.WeakValueDictionary[str, _ReleasePipe]" = weakref.WeakValueDictionary()

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def of(cls, key: str, fd: int) -> "_ReleasePipe":
        pipe = cls._open.get(key)
        if pipe is not None:
            os.close(fd)
            return pipe
        pipe = cls._open[key] = cls(fd)
        return pipe

    # the functions are bound at definition: these run from finalizers, at interpreter exit too
    def release(self, number: int, _write=os.write, _pack=struct.pack, _ignored=_IGNORED_ERRNOS) -> None:
        try:
            _write(self.fd, _pack("<I", number))  # one 4-byte write: atomic
        except OSError as exc:  # the worker is gone (EPIPE) or not reading (EAGAIN): nothing to free
            if exc.errno not in _ignored:
                raise

    def __del__(self, _close=os.close) -> None:
        try:
            _close(self.fd)
        except OSError:
            pass


class _Mapped(mmap.mmap):
    """A worker's block mapped into the main process. Every array and tensor storage over it
    holds a reference to this object; when the last goes, the block is released to the worker.

    A child forked while the block is mapped shares the mapping (and may hold the batch, e.g. a
    process started with the batch as an argument): the block is then given up instead
    (:meth:`before_fork`), never written again by the worker."""

    pipe: Optional[_ReleasePipe] = None
    number = -1
    pid = -1
    _live: "weakref.WeakSet[_Mapped]" = weakref.WeakSet()

    @classmethod
    def receive(cls, key: str, number: int, size: int, block_fd: DupFd, pipe_fd: DupFd) -> "_Mapped":
        fd = block_fd.detach()
        try:
            mapped = cls(fd, size)
        finally:
            os.close(fd)
        mapped.pipe = _ReleasePipe.of(key, pipe_fd.detach())
        mapped.number = number
        mapped.pid = os.getpid()
        cls._live.add(mapped)
        return mapped

    def __del__(self, _getpid=os.getpid) -> None:
        if self.pipe is not None and self.pid == _getpid():  # a forked child releases nothing
            self.pipe.release(self.number)

    @classmethod
    def before_fork(cls) -> None:
        """Give up every block mapped here now (``os.register_at_fork``)."""
        for mapped in list(cls._live):
            if mapped.pipe is not None and mapped.pid == os.getpid():
                mapped.pipe.release(mapped.number | _ABANDONED)
                mapped.pipe = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_Mapped.before_fork)


def _rebuild_tensor(mapped: _Mapped, dtype: str, shape: Tuple[int, ...], strides: Tuple[int, ...],
                    offset: int) -> torch.Tensor:
    """A tensor over ``mapped`` (in the main process) of ``dtype``, ``shape`` and byte ``strides``
    from byte ``offset``."""
    numpy_dtype = torch.empty(0, dtype=getattr(torch, dtype)).numpy().dtype
    array = np.ndarray(shape, dtype=numpy_dtype, buffer=mapped, offset=offset, strides=strides)
    return torch.from_numpy(array)
