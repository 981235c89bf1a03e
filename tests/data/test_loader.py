"""DataLoader workers (fork and spawn) yield exactly what num_workers=0 yields (SPEC §4)."""
import gc
import os
import signal

import pytest
import torch
from torch.utils.data import DataLoader, Subset

from mcorec_torch import MCoRecDataset, collate


def batches(ds, **kwargs):
    loader = DataLoader(ds, batch_size=3, shuffle=False, collate_fn=collate, **kwargs)
    return list(loader)


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x["id"] == y["id"] and x["text"] == y["text"]
        for key in ("video", "video_mask", "audio", "video_lengths", "audio_lengths"):
            assert torch.equal(x[key], y[key]), key


@pytest.mark.parametrize("context", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])  # spawn: slow
def test_workers_match_single_process(dev_split, tmp_path, context):
    root, _ = dev_split
    ds = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)
    ds[0]  # opens files in the parent: a forked worker must not reuse them
    reference = batches(ds)
    parallel = batches(ds, num_workers=2, multiprocessing_context=context)
    assert_same(reference, parallel)


def test_shuffled_access_equals_sequential(dev_split, tmp_path):
    root, _ = dev_split
    ds = MCoRecDataset(root, crops="face", color="gray", cache_dir=tmp_path)
    forward = {ds.segment_id(i): ds[i] for i in range(len(ds))}
    fresh = MCoRecDataset(root, crops="face", color="gray", cache_dir=tmp_path)
    for i in reversed(range(len(fresh))):
        sample = fresh[i]
        assert torch.equal(sample["video"], forward[sample["id"]]["video"])
        assert torch.equal(sample["audio"], forward[sample["id"]]["audio"])


def test_open_files_stay_bounded_over_epochs(dev_split, tmp_path):
    root, _ = dev_split
    ds = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)
    ds.reader.pool.max_readers = 4

    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    for i in range(len(ds)):
        ds[i]
    after_first = open_fds()
    for _ in range(2):
        for i in range(len(ds)):
            ds[i]
    gc.collect()
    assert open_fds() <= after_first + 2
    assert len(ds.reader.pool._readers) <= 4
    ds.close()
    assert len(ds.reader.pool._readers) == 0


@pytest.mark.slow  # multi-process: spawned workers
def test_tokens_from_a_trained_tokenizer_through_spawned_workers(dev_split, tmp_path):
    from mcorec_torch import Tokenizer
    from mcorec_torch.text.tokenizer import collect_transcripts, train_tokenizer

    root, _ = dev_split
    model = train_tokenizer(collect_transcripts(root), tmp_path / "tok", vocab_size=40)
    units = tmp_path / "tok_units.txt"
    tokenizer = Tokenizer(model, units)
    ds = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path, tokenizer=tokenizer)
    sample = ds[0]
    assert sample["tokens"].dtype == torch.int64 and sample["tokens"].min() > 0  # 0 is the CTC blank
    assert tokenizer.decode(sample["tokens"]) == sample["text"]
    by_path = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path, tokenizer=str(model))
    assert by_path[0]["tokens"].shape[0] > 0
    loader = DataLoader(Subset(ds, range(8)), batch_size=4, num_workers=2, multiprocessing_context="spawn",
                        collate_fn=collate)
    batch = list(loader)[0]
    lengths = batch["token_lengths"].tolist()
    for b, n in enumerate(lengths):
        assert tokenizer.decode(batch["tokens"][b]) == batch["text"][b]
        assert (batch["tokens"][b, n:] == -1).all()
    assert len(set(lengths)) > 1


def _collect_garbage(sample):
    gc.collect()  # frees whatever the worker inherited and dropped, right away
    return sample


@pytest.mark.slow  # multi-process: a subprocess with forked workers
def test_fork_after_the_parent_decoded_rgb_does_not_hang(dev_split, tmp_path):
    import multiprocessing

    root, _ = dev_split
    ds = MCoRecDataset(root, crops="face", color="rgb", cache_dir=tmp_path, transform=_collect_garbage)
    for i in range(4):
        ds[i]  # open readers (and their swscale contexts) in the parent
    reference = [ds[i]["id"] for i in range(8)]

    def load_in_workers(queue):
        os.setsid()  # its own process group, so a hang can be killed with all its workers
        loader = DataLoader(Subset(ds, range(8)), batch_size=2, num_workers=2, multiprocessing_context="fork",
                            collate_fn=collate)
        queue.put([i for batch in loader for i in batch["id"]])

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    runner = context.Process(target=load_in_workers, args=(queue,))
    runner.start()
    runner.join(timeout=120)
    hung = runner.is_alive()
    if hung:
        os.killpg(runner.pid, signal.SIGKILL)
    assert not hung, "DataLoader workers hung after fork"
    assert queue.get(timeout=5) == reference
