"""Long-run behaviour of DataLoader workers, kept to seconds: open files and worker memory
stay bounded over epochs, persistent workers keep serving, a killed worker is an error."""
import os
import signal
import time

import pytest
from torch.utils.data import DataLoader

from mcorec_torch import MCoRecDataset, collate
from mcorec_torch.data import worker
from mcorec_torch.media.pool import MAX_READERS
from mcorec_torch.data.batch_memory import MEMFD_PREFIX

#: Worker RSS may grow at most this much (MiB) from the end of warm-up (the first 100 samples)
#: to the end of the second epoch; measured growth was within +-3 MiB (see mcorec_torch.data.worker).
RSS_GROWTH_MIB = 24


def rss_mib(pid):
    """Resident MiB of ``pid`` but its shared memory: the batch ring's blocks (at most
    ``RING_BLOCKS`` batches a worker, kept on purpose, mcorec_torch.data.batch_memory) are shmem."""
    with open(f"/proc/{pid}/status") as handle:
        fields = {line.split(":")[0]: int(line.split()[1]) for line in handle if line.startswith(("RssAnon", "RssFile"))}
    return (fields["RssAnon"] + fields["RssFile"]) / 1024


def fd_targets(pid):
    """What the open descriptors of ``pid`` point at."""
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:  # closed meanwhile
            pass
    return targets


def open_fds(pid, split=None):
    """Open descriptors of ``pid`` but the batch ring's blocks (one each, at most RING_BLOCKS)
    and, with ``split``, the media files under it (the reader pool's, counted by
    :func:`open_media`)."""
    return sum(not target.startswith(f"/memfd:{MEMFD_PREFIX}") and not (split and target.startswith(str(split)))
               for target in fd_targets(pid))


def settled_fds(pid, split, reads=10, pause_s=0.1):
    """:func:`open_fds` once the worker is idle: the fewest of ``reads`` reads ``pause_s`` apart.
    A batch's block and pipe go to the main process as duplicated descriptors that the worker's
    multiprocessing resource-sharer thread closes only after the main process took them, so a
    read just after the last batch may still see them."""
    counts = []
    for _ in range(reads):
        counts.append(open_fds(pid, split))
        time.sleep(pause_s)
    return min(counts)


def open_media(pid, split):
    """Open descriptors of ``pid`` on files under ``split`` (the reader pool's open media)."""
    return sum(target.startswith(str(split)) for target in fd_targets(pid))


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


@pytest.mark.slow  # a multi-worker long run
def test_two_epochs_keep_fds_and_worker_memory_bounded(dev_split, tmp_path):
    root, _ = dev_split
    ds = MCoRecDataset(root, crops="face", color="rgb", cache_dir=tmp_path)
    order = [i % len(ds) for i in range(300)]
    loader = DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate, sampler=order, persistent_workers=True)
    figures, media, main_fds = [], [], []
    pids = None
    for epoch in range(2):
        iterator = iter(loader)
        pids = pids or [w.pid for w in iterator._workers]
        assert [w.pid for w in iterator._workers] == pids  # persistent: the same processes
        for number, batch in enumerate(iterator):
            assert len(batch["id"]) == 4
            if epoch == 0 and number == 25:
                warm = [(rss_mib(p), open_fds(p, root)) for p in pids]
        figures.append([(rss_mib(p), settled_fds(p, root)) for p in pids])
        media.append([open_media(p, root) for p in pids])
        main_fds.append(open_fds(os.getpid()))
    for (rss0, fds0), (rss1, fds1) in zip(warm, figures[-1]):
        assert rss1 - rss0 <= RSS_GROWTH_MIB, (warm, figures)
        assert fds1 <= fds0 + 2, (warm, figures)
    # a worker opens the media of the segments it is given (which worker gets which batch may
    # change between epochs), never more than the split holds or its pool keeps open
    media_files = sum(1 for path in root.rglob("*.mp4"))
    assert all(n <= min(media_files, MAX_READERS) for counts in media for n in counts), (media, media_files)
    assert main_fds[1] <= main_fds[0] + 2, main_fds  # the main process opens no media; queues are reused
    print(f"\nworker RSS MiB / fds after warm-up {[(round(r), f) for r, f in warm]}, after 2 epochs "
          f"{[(round(r), f) for r, f in figures[-1]]}; media files open after each epoch {media}; main-process fds after each epoch {main_fds}")


def test_a_killed_worker_is_the_loaders_error_not_a_hang(dev_split, tmp_path):
    root, _ = dev_split
    ds = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)
    loader = DataLoader(ds, batch_size=2, num_workers=2, collate_fn=collate, sampler=list(range(len(ds))) * 20)
    iterator = iter(loader)
    next(iterator)
    started = time.monotonic()
    os.kill(iterator._workers[0].pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="DataLoader worker .* exited unexpectedly|killed by signal"):
        for _ in iterator:
            pass
    iterator._shutdown_workers()
    assert time.monotonic() - started < 60


def test_mmap_threshold_is_set_in_workers_only_when_asked(monkeypatch):
    if not worker.set_mmap_threshold(128 * 1024):
        pytest.skip("not glibc")
    called = []
    monkeypatch.setattr(worker, "set_mmap_threshold", called.append)
    monkeypatch.setattr(worker, "_tuned_pid", None)
    monkeypatch.setenv(worker.THRESHOLD_ENV, "131072")
    worker.tune_worker_process()  # the main process: left alone
    assert called == []
    monkeypatch.setattr(worker, "_tuned_pid", None)
    monkeypatch.setattr(worker, "get_worker_info", lambda: object())
    worker.tune_worker_process()
    worker.tune_worker_process()  # once per process
    assert called == [131072]
