"""``BucketBatchSampler(locality=k)``: runs of neighbouring segments of one track stay together
in time order, every segment once, the bound kept, deterministic, and reads in that order make
fewer seeks."""
import numpy as np
import pytest

from mcorec_torch import MCoRecDataset
from mcorec_torch.data.samplers import BucketBatchSampler


def layout(seed=0, tracks=5, per_track=23):
    rng = np.random.default_rng(seed)
    track = np.repeat(np.arange(tracks), per_track)
    start = np.concatenate([np.sort(rng.choice(9000, per_track, replace=False)) for _ in range(tracks)])
    permutation = rng.permutation(track.size)  # dataset order is not file order
    return track[permutation], start[permutation], rng.integers(20, 300, track.size)


@pytest.mark.parametrize("k", [2, 4])
def test_runs_of_k_neighbours_in_time_order_every_segment_once(k):
    track, start, lengths = layout()
    sampler = BucketBatchSampler(lengths, max_frames=1200, seed=1, locality=k, tracks=track, starts=start)
    batches = list(sampler)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(lengths.size))
    assert all(len(b) * max(lengths[b]) <= 1200 or len(b) == 1 for b in batches)
    # consecutive members of a batch from one track are its neighbours in time, in order
    neighbours = {}
    for t in np.unique(track):
        members = np.flatnonzero(track == t)
        ordered = members[np.argsort(start[members], kind="stable")]
        neighbours.update({int(a): int(b) for a, b in zip(ordered[:-1], ordered[1:])})
    pairs = [(a, b) for batch in batches for a, b in zip(batch[:-1], batch[1:])]
    kept = sum(neighbours.get(a) == b for a, b in pairs)
    assert kept >= (k - 1) / k * len(flat) * 0.6  # most links inside runs survive packing
    again = BucketBatchSampler(lengths, max_frames=1200, seed=1, locality=k, tracks=track, starts=start)
    assert list(again) == batches
    again.set_epoch(1)
    assert list(again) != batches


def test_locality_one_is_the_plain_sampler_and_bad_arguments_are_refused():
    track, start, lengths = layout()
    plain = list(BucketBatchSampler(lengths, max_frames=1200, seed=4))
    assert list(BucketBatchSampler(lengths, max_frames=1200, seed=4, locality=1, tracks=track, starts=start)) == plain
    with pytest.raises(ValueError, match="locality > 1 needs tracks and starts"):
        BucketBatchSampler(lengths, max_frames=1200, locality=3)
    with pytest.raises(ValueError, match="locality must be >= 1"):
        BucketBatchSampler(lengths, max_frames=1200, locality=0)


def test_resume_state_carries_locality():
    track, start, lengths = layout()
    make = lambda k: BucketBatchSampler(lengths, max_frames=1200, locality=k, tracks=track, starts=start)  # noqa: E731
    sampler = make(3)
    batches = list(sampler)
    state = sampler.state_dict(batches_consumed=2)
    resumed = make(3)
    resumed.load_state_dict(state)
    assert list(resumed) == batches[2:]
    with pytest.raises(ValueError, match="locality"):
        make(2).load_state_dict(state)
    make(1).load_state_dict(BucketBatchSampler(lengths, max_frames=1200).state_dict())  # old states load


def test_runs_read_with_fewer_seeks(dev_split, tmp_path):
    root, _ = dev_split
    # 2-second windows over every track: many segments a track (the synthetic speakers' turns
    # leave only a few cues each, too few for runs of 8 to show)
    ds = MCoRecDataset([root], segments="windows", chunk_size=2.0, cache_dir=tmp_path / "cache")
    seeks = {}
    for k in (1, 8):
        ds.reader.pool.close()
        opened = []
        original = ds.reader.pool.video

        def video(path, original=original):
            reader = original(path)
            opened.append(reader)
            return reader
        ds.reader.pool.video = video
        sampler = BucketBatchSampler(ds.lengths, max_frames=2000, seed=0, locality=k,
                                     tracks=ds.segment_speaker, starts=ds.segment_frame_start)
        for batch in sampler:
            for i in batch:
                ds[i]
        ds.reader.pool.video = original
        seeks[k] = sum(r.seeks for r in {id(r): r for r in opened}.values())
    assert seeks[8] < 0.8 * seeks[1], seeks
