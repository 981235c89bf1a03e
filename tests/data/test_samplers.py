"""BucketBatchSampler (SPEC §5): coverage, the frame bound, DDP shares, determinism, resume."""
import numpy as np
import pytest

from mcorec_torch import BucketBatchSampler


def random_lengths(seed, n=None):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300)) if n is None else n
    return rng.integers(1, 200, size=n)


def epoch_batches(lengths, epoch=0, **kwargs):
    sampler = BucketBatchSampler(lengths, **kwargs)
    sampler.set_epoch(epoch)
    return list(sampler)


def check_bound(batches, lengths, max_frames, max_batch_size=None):
    for batch in batches:
        padded = len(batch) * max(lengths[i] for i in batch)
        assert padded <= max_frames or len(batch) == 1, (batch, padded)
        if max_batch_size is not None:
            assert len(batch) <= max_batch_size


@pytest.mark.parametrize("seed", range(40))
def test_every_index_once_and_bound_respected(seed):
    lengths = random_lengths(seed)
    rng = np.random.default_rng(1000 + seed)
    max_frames = int(rng.integers(150, 2000))
    max_batch_size = [None, int(rng.integers(1, 12))][seed % 2]
    shuffle = seed % 3 != 0
    batches = epoch_batches(lengths, epoch=seed, max_frames=max_frames, max_batch_size=max_batch_size,
                            shuffle=shuffle, seed=seed, num_replicas=1, rank=0)
    seen = sorted(i for b in batches for i in b)
    assert seen == list(range(len(lengths)))
    check_bound(batches, lengths, max_frames, max_batch_size)
    assert all(len(b) > 0 for b in batches)


def test_over_long_segment_gets_its_own_batch():
    lengths = np.array([10, 500, 10, 10, 700])
    batches = epoch_batches(lengths, max_frames=100, shuffle=False, num_replicas=1, rank=0)
    assert [4] in batches and [1] in batches
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3, 4]
    assert batches[0] == [0, 2, 3]  # shuffle=False: sorted by (length, index), packed greedily


def test_buckets_keep_padding_small():
    lengths = random_lengths(7, n=2000)
    batches = epoch_batches(lengths, max_frames=1000, seed=3, num_replicas=1, rank=0)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert lengths.sum() / padded > 0.85  # real frames / padded frames


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", range(12))
def test_ranks_get_equal_counts_and_documented_shares(seed, world, drop_last):
    lengths = random_lengths(seed)
    kwargs = dict(max_frames=600, max_batch_size=8, seed=seed, drop_last=drop_last)
    single = epoch_batches(lengths, epoch=2, num_replicas=1, rank=0, **kwargs)
    per_rank = [epoch_batches(lengths, epoch=2, num_replicas=world, rank=r, **kwargs) for r in range(world)]
    counts = {len(b) for b in per_rank}
    assert len(counts) == 1
    n = len(single)
    expected = n // world if drop_last else -(-n // world)
    assert counts == {expected}
    # rank r takes batches r, r+R, ... of the global list; padding repeats the first batches
    padded = single[: n // world * world] if drop_last else single + [single[k % n] for k in range((-n) % world)] if n else []
    for r in range(world):
        assert per_rank[r] == padded[r::world]
    if drop_last:
        flat = [i for b in per_rank for batch in b for i in batch]
        assert len(flat) == len(set(flat))  # disjoint across ranks


@pytest.mark.parametrize("seed", range(10))
def test_deterministic_per_seed_and_epoch_and_different_across_epochs(seed):
    lengths = random_lengths(seed, n=150)
    kwargs = dict(max_frames=500, seed=seed, num_replicas=1, rank=0)
    a = epoch_batches(lengths, epoch=1, **kwargs)
    b = epoch_batches(lengths, epoch=1, **kwargs)
    c = epoch_batches(lengths, epoch=2, **kwargs)
    d = epoch_batches(lengths, epoch=1, **{**kwargs, "seed": seed + 100})
    assert a == b
    assert a != c and a != d
    # the same sampler object: iterating twice in one epoch repeats the epoch
    sampler = BucketBatchSampler(lengths, **kwargs)
    sampler.set_epoch(1)
    assert list(sampler) == a and list(sampler) == a
    assert len(sampler) == len(a)


def test_shuffle_false_is_the_same_every_epoch():
    lengths = random_lengths(3, n=100)
    assert epoch_batches(lengths, 0, max_frames=400, shuffle=False, num_replicas=1, rank=0) == \
        epoch_batches(lengths, 5, max_frames=400, shuffle=False, num_replicas=1, rank=0)


@pytest.mark.parametrize("world,drop_last", [(1, False), (2, False), (3, True), (4, False)])
def test_resume_at_every_position_equals_uninterrupted_run(world, drop_last):
    lengths = random_lengths(11, n=120)
    kwargs = dict(max_frames=500, max_batch_size=6, seed=5, drop_last=drop_last, num_replicas=world)
    for rank in range(world):
        full = epoch_batches(lengths, epoch=3, rank=rank, **kwargs)
        for position in range(len(full) + 1):
            first = BucketBatchSampler(lengths, rank=rank, **kwargs)
            first.set_epoch(3)
            iterator = iter(first)
            head = [next(iterator) for _ in range(position)]
            state = first.state_dict()  # what it yielded so far (no prefetch here)
            assert state["batches_consumed"] == position
            resumed = BucketBatchSampler(lengths, rank=rank, **kwargs)
            resumed.load_state_dict(state)
            resumed.set_epoch(3)  # a training loop's set_epoch of the same epoch keeps the position
            assert len(resumed) == len(full) - position
            assert resumed.resume_from == position
            assert head + list(resumed) == full
            # after the resumed epoch: the next epoch is whole, and the same as an uninterrupted run's
            resumed.set_epoch(4)
            assert list(resumed) == epoch_batches(lengths, epoch=4, rank=rank, **kwargs)


def test_state_from_explicit_count_and_from_another_rank():
    lengths = random_lengths(12, n=200)
    kwargs = dict(max_frames=400, seed=1, num_replicas=2)
    rank0 = BucketBatchSampler(lengths, rank=0, **kwargs)
    rank0.set_epoch(7)
    state = rank0.state_dict(batches_consumed=3)  # e.g. the loop's count while workers prefetch
    rank1 = BucketBatchSampler(lengths, rank=1, **kwargs)
    rank1.load_state_dict(state)  # every rank can load rank 0's checkpoint
    assert rank1.epoch == 7
    assert list(rank1) == epoch_batches(lengths, epoch=7, rank=1, **kwargs)[3:]
    with pytest.raises(ValueError, match="batches_consumed"):
        rank0.state_dict(batches_consumed=10_000)


def test_refuses_state_of_other_world_size_dataset_or_configuration():
    lengths = random_lengths(13, n=100)
    state = BucketBatchSampler(lengths, max_frames=400, num_replicas=2, rank=0).state_dict()
    with pytest.raises(ValueError, match="world size 2.*has 4"):
        BucketBatchSampler(lengths, max_frames=400, num_replicas=4, rank=0).load_state_dict(state)
    other = lengths.copy()
    other[0] += 1
    with pytest.raises(ValueError, match="different dataset"):
        BucketBatchSampler(other, max_frames=400, num_replicas=2, rank=0).load_state_dict(state)
    with pytest.raises(ValueError, match="different dataset.*100 segments.*99"):
        BucketBatchSampler(lengths[:99], max_frames=400, num_replicas=2, rank=0).load_state_dict(state)
    with pytest.raises(ValueError, match="max_frames: saved 400, now 500"):
        BucketBatchSampler(lengths, max_frames=500, num_replicas=2, rank=0).load_state_dict(state)
    with pytest.raises(ValueError, match="seed: saved 0, now 9"):
        BucketBatchSampler(lengths, max_frames=400, seed=9, num_replicas=2, rank=0).load_state_dict(state)
    with pytest.raises(ValueError, match="not a BucketBatchSampler state"):
        BucketBatchSampler(lengths, max_frames=400, num_replicas=2, rank=0).load_state_dict({"epoch": 1})


def test_argument_errors_and_empty_lengths():
    with pytest.raises(ValueError, match="max_frames"):
        BucketBatchSampler([3, 4], max_frames=0)
    with pytest.raises(ValueError, match="rank"):
        BucketBatchSampler([3, 4], max_frames=10, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="non-negative integers"):
        BucketBatchSampler([3.5, 4.0], max_frames=10)
    empty = BucketBatchSampler(np.zeros(0, dtype=np.int64), max_frames=10, num_replicas=3, rank=1)
    assert len(empty) == 0 and list(empty) == []


def test_defaults_without_torch_distributed():
    sampler = BucketBatchSampler([5, 6, 7], max_frames=100)
    assert (sampler.num_replicas, sampler.rank) == (1, 0)
