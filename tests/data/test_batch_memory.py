"""Shared-memory blocks that DataLoader workers reuse for batches (SPEC §5): a block is written
again only after the main process dropped every tensor, view and array over it."""
import gc
import importlib
import io
import pickle
import threading
import weakref
from multiprocessing.reduction import ForkingPickler

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

memory = importlib.import_module("mcorec_torch.data.batch_memory")
SPECS = [((2, 3, 1, 4, 4), torch.uint8), ((2, 3), torch.bool), ((2, 3 * 640), torch.float32)]


@pytest.fixture
def ring(monkeypatch):
    """This process acting as a DataLoader worker with a ring of its own."""
    monkeypatch.setattr(memory, "get_worker_info", lambda: object())
    monkeypatch.setattr(memory, "_ring", None)
    monkeypatch.setattr(memory, "_ring_pid", None)
    yield
    gc.collect()


def send(obj):
    """Pickle ``obj`` as a worker's result queue does (its feeder thread), unpickle it here as
    the main process does."""
    out = {}
    thread = threading.Thread(target=lambda: out.update(data=ForkingPickler.dumps(obj)), name="QueueFeederThread")
    thread.start()
    thread.join()
    return pickle.loads(bytes(out["data"]))


def fill(tensors, value):
    for t in tensors:
        t.fill_(value)


def test_a_block_is_reused_only_after_the_receiver_dropped_every_view(ring):
    video, mask, audio = memory.allocate_in_ring(SPECS)
    fill((video, mask, audio), 1)
    received = send({"video": video, "video_mask": mask, "audio": audio})
    assert type(received["video"]) is torch.Tensor and received["video"].shape == (2, 3, 1, 4, 4)
    assert bool((received["video"] == 1).all()) and bool(received["video_mask"].all())
    assert bool((received["audio"] == 1).all())
    del video, mask, audio  # the worker's own tensors are gone; the receiver still holds the batch
    kept_view = received["video"][1]
    kept_array = received["audio"].numpy()[0]
    del received
    second = memory.allocate_in_ring(SPECS)
    assert memory.ring_stats() == {"blocks": 2, "reused": 0, "fresh": 2}  # block 0 is busy: a new one
    fill(second, 7)
    assert bool((kept_view == 1).all()) and bool((kept_array == 1).all())
    del second
    del kept_view
    gc.collect()
    third = memory.allocate_in_ring(SPECS)  # block 1 (never sent) is free; block 0 still held by the array
    assert memory.ring_stats()["reused"] == 1
    fill(third, 9)
    assert bool((kept_array == 1).all())
    del third, kept_array
    gc.collect()
    memory.allocate_in_ring(SPECS)  # both free now
    assert memory.ring_stats() == {"blocks": 2, "reused": 2, "fresh": 2}


def test_a_tensor_the_worker_still_holds_keeps_its_block(ring):
    video, mask, audio = memory.allocate_in_ring(SPECS)
    row = video[0]  # a view in the worker
    del video, mask, audio
    again = memory.allocate_in_ring(SPECS)
    assert memory.ring_stats()["reused"] == 0 and again[0].data_ptr() != row.data_ptr()
    del again, row
    memory.allocate_in_ring(SPECS)
    assert memory.ring_stats()["reused"] == 1


def test_a_full_ring_gives_none_and_never_a_busy_block(ring):
    held = [send({"video": memory.allocate_in_ring(SPECS)[0]}) for _ in range(memory.RING_BLOCKS)]
    assert memory.allocate_in_ring(SPECS) is None  # every block sent and held: fresh memory instead
    assert memory.ring_stats()["blocks"] == memory.RING_BLOCKS
    held.pop()
    gc.collect()
    assert memory.allocate_in_ring(SPECS) is not None


def test_a_bigger_batch_grows_a_free_block(ring):
    small = memory.allocate_in_ring(SPECS)
    del small
    big = memory.allocate_in_ring([((4, 100, 3, 8, 8), torch.uint8)])
    assert big[0].shape == (4, 100, 3, 8, 8) and memory.ring_stats()["blocks"] == 2


def test_outside_a_worker_or_the_result_queue_nothing_changes(ring, monkeypatch):
    video = memory.allocate_in_ring(SPECS)[0]
    video.fill_(5)
    plain = pickle.loads(pickle.dumps(video))  # not the feeder thread: a plain tensor's pickle
    assert type(plain) is torch.Tensor and bool((plain == 5).all())
    buffer = io.BytesIO()
    torch.save({"video": video}, buffer)
    buffer.seek(0)
    assert bool((torch.load(buffer)["video"] == 5).all())
    monkeypatch.setattr(memory, "get_worker_info", lambda: None)
    assert memory.allocate_in_ring(SPECS) is None


class _Numbers(Dataset):
    """Batches of ``[B, 3, 1, 4, 4]`` frames all equal to the batch's first index, from the ring."""

    def __len__(self):
        return 64

    def __getitems__(self, indices):
        tensors = memory.allocate_in_ring([((len(indices), 3, 1, 4, 4), torch.uint8)])
        video = tensors[0] if tensors is not None else torch.empty((len(indices), 3, 1, 4, 4), dtype=torch.uint8)
        video.fill_(indices[0])
        return {"video": video, "first": indices[0], "stats": memory.ring_stats()}


def _identity(batch):
    return batch


@pytest.mark.parametrize("keep", ["nothing", "everything", "one view"])
def test_through_a_dataloader_held_batches_stay_intact_and_dropped_ones_are_reused(keep):
    loader = DataLoader(_Numbers(), batch_sampler=[[k, k + 1] for k in range(0, 64, 2)], collate_fn=_identity,
                        num_workers=2, persistent_workers=True)
    for epoch in range(2):
        held = []
        for batch in loader:
            assert bool((batch["video"] == batch["first"]).all())
            if keep == "everything":
                held.append(batch)
            elif keep == "one view" and batch["first"] == 10:
                held.append((batch["video"][1, 2], 10))
        for item in held:
            video, first = (item["video"], item["first"]) if isinstance(item, dict) else item
            assert bool((video == first).all())  # not overwritten by later batches
        last = batch["stats"]
        if keep == "everything":
            if epoch == 0:
                assert last["reused"] == 0  # nothing was released while all were held
        else:
            assert last["reused"] > 0
        del held, batch
        gc.collect()


def test_the_ring_size_comes_from_the_environment(ring, monkeypatch):
    from mcorec_torch.checks import OptionError

    monkeypatch.setenv(memory.RING_ENV, "0")
    assert memory.ring_capacity() == 0 and memory.allocate_in_ring(SPECS) is None  # off: fresh memory
    monkeypatch.setenv(memory.RING_ENV, "lots")
    with pytest.raises(OptionError, match="MCOREC_TORCH_BATCH_RING must be an integer >= 0, got 'lots'"):
        memory.ring_capacity()
    monkeypatch.setenv(memory.RING_ENV, "1")
    monkeypatch.setattr(memory, "_ring_pid", None)
    held = send({"video": memory.allocate_in_ring(SPECS)[0]})
    assert memory.allocate_in_ring(SPECS) is None and held["video"].shape == SPECS[0][0]


def _check_inherited(tensor, value, started, done, result):
    started.set()
    done.wait(30)
    result.put(bool((tensor == value).all()))


def test_a_batch_a_forked_child_inherited_is_never_written_again(ring):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    video = memory.allocate_in_ring(SPECS)[0]
    video.fill_(1)
    received = send({"video": video})["video"]
    del video
    started, done, result = context.Event(), context.Event(), context.Queue()
    child = context.Process(target=_check_inherited, args=(received, 1, started, done, result))
    child.start()  # forks while the block is mapped here: it is given up
    started.wait(30)
    del received
    gc.collect()
    again = memory.allocate_in_ring(SPECS)  # never block 0: the child still holds it
    fill(again, 7)
    done.set()
    assert result.get(timeout=30) is True
    child.join(30)
    assert memory.ring_stats()["reused"] == 0


class RingOwner:
    """What a main-process ring is kept for (a dataset in the library): any object that can be
    weakly referenced, which a bare ``object()`` cannot."""


def test_in_the_main_process_a_dataset_reuses_its_blocks_once_its_batches_are_gone(monkeypatch):
    monkeypatch.setattr(memory, "get_worker_info", lambda: None)
    monkeypatch.setattr(memory, "LOCAL_RING_MIN_BYTES", 0)

    owner = RingOwner()
    first = memory.allocate_in_ring(SPECS, owner=owner)
    assert type(first[0]) is torch.Tensor  # plain tensors: they never leave the process
    fill(first, 1)
    kept = first[2][1]  # a view keeps the block
    second = memory.allocate_in_ring(SPECS, owner=owner)
    del first
    assert memory.allocate_in_ring(SPECS, owner=owner) is None  # both busy: fresh memory
    fill(second, 2)
    del second
    third = memory.allocate_in_ring(SPECS, owner=owner)
    fill(third, 3)
    assert bool((kept == 1).all())
    assert memory.ring_stats(owner) == {"blocks": memory.LOCAL_RING_BLOCKS, "reused": 1, "fresh": 3}
    assert memory.allocate_in_ring(SPECS) is None  # no owner, no ring
    ring = weakref.ref(memory._local_rings[owner])
    del third, kept, owner
    gc.collect()
    assert ring() is None  # freed with its owner


def test_small_main_process_batches_are_left_to_malloc(monkeypatch):
    monkeypatch.setattr(memory, "get_worker_info", lambda: None)

    owner = RingOwner()
    assert memory.allocate_in_ring(SPECS, owner=owner) is None  # 2 KB: below LOCAL_RING_MIN_BYTES
    big = memory.allocate_in_ring([((memory.LOCAL_RING_MIN_BYTES,), torch.uint8)], owner=owner)
    assert big is not None and big[0].numel() == memory.LOCAL_RING_MIN_BYTES
