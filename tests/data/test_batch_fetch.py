"""Batch fetching (SPEC §5): ``MCoRecDataset.__getitems__`` decodes a batch straight into its
padded tensors; the batches equal, byte for byte, those collated from ``dataset[i]``.

The session has an open-GOP track (8 leading B-frames before each keyframe), an x264-default
track (B-frames, keyint 250) and a gap between them (padding inside segments); a copy of it
has every crop remuxed into fragmented mp4 (no sample index)."""
import pickle
import shutil
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from mcorec_torch import Collator, MCoRecDataError, MCoRecDataset, collate, synthetic
from mcorec_torch.data.collate import PaddedSamples
from mcorec_torch.qa.verify import check_sample
from mcorec_torch.synthetic import CueSpec, SessionSpec, SpeakerSpec, TrackSpec
from mcorec_torch.timeline import SAMPLES_PER_FRAME

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "media"))
from test_real_world_encodings import leading_b_frames  # noqa: E402

CONFIGS = [("lip", "gray"), ("face", "rgb")]
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


def cues_of(frames):
    """Cues over ``(first, last)`` central frames (last exclusive), 10 ms into the first frame."""
    return [CueSpec(first * 40 + 10, last * 40 - 10, f"cue {first} {last}") for first, last in frames]


def session_spec():
    # spk_0: open-GOP track from frame 6 (keyframes every 50: central 6, 56, 106) up to 130, a
    # gap, a default track from 150; cues around the keyframes, across the gap, one frame long
    # and several seconds long
    spk0 = SpeakerSpec("spk_0", 0, 0.2, 11.8, [TrackSpec(0, 6, 124, encoding="open_gop"), TrackSpec(1, 150, 140)],
                       cues_of([(10, 49), (50, 57), (55, 56), (57, 104), (104, 107), (107, 140), (120, 170),
                                (141, 160), (160, 161), (170, 286)]))
    spk1 = SpeakerSpec("spk_1", 0, 0.2, 11.8, [TrackSpec(0, 8, 284)],
                       cues_of([(10, 30), (30, 95), (96, 97), (100, 230), (231, 290)]))
    return SessionSpec("session_bf", 300, [spk0, spk1], seed=7)


def remux(source, target, muxer_options):
    """Copy every packet of ``source`` into ``target`` (an mp4 written with ``muxer_options``)."""
    with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4", options=muxer_options) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux(*[s for s in inp.streams if s.index in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    """``{"plain": split, "fragmented": split}`` and the session's plan."""
    base = tmp_path_factory.mktemp("batch_fetch")
    spec = session_spec()
    plain = base / "plain" / "dev"
    synthetic.write_synthetic_session(spec, plain)
    fragmented = base / "fragmented" / "dev"
    shutil.copytree(plain, fragmented)
    for video in fragmented.glob("*/speakers/*/central_crops/*.mp4"):
        remux(video, video.with_suffix(".tmp.mp4"), FRAGMENTED)
        video.with_suffix(".tmp.mp4").replace(video)
    return {"plain": plain, "fragmented": fragmented}, spec


def test_the_session_has_leading_b_frames_a_gap_and_fragmented_crops(splits):
    roots, _ = splits
    crop = "session_bf/speakers/spk_0/central_crops/track_00_lip.av.mp4"
    assert {49, 99} & set(leading_b_frames(roots["plain"] / crop))  # frames shown before keyframes 50, 100
    assert b"moof" in (roots["fragmented"] / crop).read_bytes()
    assert b"moof" not in (roots["plain"] / crop).read_bytes()


def random_batches(n, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(n).tolist()
    batches, k = [], 0
    while k < n:
        size = int(rng.integers(1, 6))
        batches.append(order[k: k + size])
        k += size
    return batches


def assert_same_batch(got, expected):
    assert set(got) == set(expected)
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert got[key].dtype == value.dtype and got[key].shape == value.shape, key
            assert torch.equal(got[key], value), key
        else:
            assert got[key] == value, key


def assert_content(batch):
    """Every row by content: frame indices, zero padding frames (in and after the segment),
    mask False and audio zero past the length (the audio itself equals the per-sample path's)."""
    for b, sample_id in enumerate(batch["id"]):
        t, n = int(batch["video_lengths"][b]), int(batch["audio_lengths"][b])
        assert n == SAMPLES_PER_FRAME * t
        assert not batch["video"][b, t:].any() and not batch["video_mask"][b, t:].any()
        assert not batch["audio"][b, n:].any()
        row = {"id": sample_id, "video": batch["video"][b, :t], "video_mask": batch["video_mask"][b, :t],
               "audio": batch["audio"][b, :n], "frame_start": batch["frame_start"][b], "frame_end": batch["frame_end"][b]}
        assert check_sample(row, synthetic.decode_frame_index) == []


@pytest.mark.parametrize("layout", ["plain", "fragmented"])
@pytest.mark.parametrize("crops,color", CONFIGS)
def test_batches_decoded_in_place_equal_per_sample_batches(splits, tmp_path, layout, crops, color):
    roots, _ = splits
    ds = MCoRecDataset(roots[layout], crops=crops, color=color, cache_dir=tmp_path)
    per_sample = MCoRecDataset(roots[layout], crops=crops, color=color, cache_dir=tmp_path)  # today's path
    assert len(ds) == 15
    padded_inside = 0
    for indices in random_batches(len(ds), seed=len(crops)):
        fetched = ds.__getitems__(indices)
        assert isinstance(fetched, PaddedSamples)
        batch = collate(fetched)
        assert batch["video"] is fetched.video and batch["audio"] is fetched.audio  # taken, not copied
        assert_same_batch(batch, collate([per_sample[i] for i in indices]))
        assert_content(batch)
        padded_inside += sum(not bool(m[:t].all()) for m, t in zip(batch["video_mask"], batch["video_lengths"]))
    assert padded_inside == 3  # the cues across the gap


def test_dataloader_batches_in_workers_equal_per_sample_batches(splits, tmp_path):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path)
    batches = random_batches(len(ds), seed=3)
    expected = [collate([ds[i] for i in b]) for b in batches]
    for workers in (0, 2):
        loader = DataLoader(ds, batch_sampler=batches, collate_fn=collate, num_workers=workers)
        got = list(loader)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):  # all held until here: no block was written twice
            assert_same_batch(g, e)


def _as_list(samples):
    return list(samples)


def test_another_collate_fn_gets_the_samples_of_dataset_getitem(splits, tmp_path):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path)
    indices = [3, 0, 7]
    for workers in (0, 1):
        loader = DataLoader(ds, batch_sampler=[indices], collate_fn=_as_list, num_workers=workers)
        (samples,) = list(loader)
        for got, i in zip(samples, indices):
            expected = ds[i]
            assert set(got) == set(expected)
            for key, value in expected.items():
                assert torch.equal(got[key], value) if isinstance(value, torch.Tensor) else got[key] == value, key
    fetched = ds.__getitems__(indices)
    again = pickle.loads(pickle.dumps(fetched))
    assert isinstance(again, PaddedSamples) and torch.equal(collate(again)["video"], collate(fetched)["video"])


def test_pad_to_multiple_of_is_planned_or_copied(splits, tmp_path):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path)
    indices = [1, 2, 4]
    expected = Collator(pad_to_multiple_of=16)([ds[i] for i in indices])
    assert expected["video"].shape[1] % 16 == 0 and expected["video"].shape[1] > int(expected["video_lengths"].max())
    unplanned = ds.__getitems__(indices)  # Tmax not rounded: the collator copies into a longer batch
    batch = Collator(pad_to_multiple_of=16)(unplanned)
    assert batch["video"] is not unplanned.video
    assert_same_batch(batch, expected)
    ds.batch_pad_to_multiple_of = 16
    planned = ds.__getitems__(indices)
    batch = Collator(pad_to_multiple_of=16)(planned)
    assert batch["video"] is planned.video
    assert_same_batch(batch, expected)
    assert_same_batch(collate(ds.__getitems__(indices)), collate([ds[i] for i in indices]))  # copied, shorter


def test_a_sample_replaced_in_the_list_is_copied_not_lost(splits, tmp_path):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path)
    fetched = ds.__getitems__([0, 1])
    replaced = dict(fetched[1], video=torch.full_like(fetched[1]["video"], 7))
    fetched[1] = replaced
    batch = collate(fetched)
    assert batch["video"] is not fetched.video
    assert_same_batch(batch, collate([ds[0], replaced]))


def _crop_corner(sample):
    return dict(sample, video=sample["video"][:, :, :8, :8].clone())


def test_a_transform_gets_each_sample_and_may_change_its_shape(splits, tmp_path):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path, transform=_crop_corner)
    fetched = ds.__getitems__([0, 5])
    assert not isinstance(fetched, PaddedSamples)
    batch = collate(fetched)
    assert batch["video"].shape[-2:] == (8, 8)
    assert_same_batch(batch, collate([ds[0], ds[5]]))


def test_out_of_range_raises_index_error(splits, tmp_path):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path)
    with pytest.raises(IndexError):
        ds.__getitems__([0, len(ds)])


def _failing(method, bad_rows):
    def wrapper(row, *args, **kwargs):
        if row in bad_rows:
            raise MCoRecDataError("/planted.mp4", "planted failure")
        return method(row, *args, **kwargs)
    return wrapper


@pytest.mark.parametrize("stage", ["video_plan", "video"])
def test_skipped_samples_are_dropped_and_counted_as_per_sample(splits, tmp_path, monkeypatch, stage):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path, on_error="skip")
    per_sample = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path, on_error="skip")
    bad = {ds.index_row(2), ds.index_row(6)}
    for d in (ds, per_sample):
        monkeypatch.setattr(d.reader, stage, _failing(getattr(d.reader, stage), bad))
    indices = [1, 2, 3, 6, 9]
    fetched = ds.__getitems__(indices)
    assert [s is None for s in fetched] == [False, True, False, True, False]
    batch = collate(fetched)
    expected = collate([per_sample[i] for i in indices])
    assert_same_batch(batch, expected)
    assert batch["num_skipped"] == 2
    # a failure while planning leaves no row behind: the batch is still taken without a copy
    taken = isinstance(fetched, PaddedSamples) and batch["video"] is fetched.video
    assert taken == (stage == "video_plan")
    assert ds.report().total()["skipped"] == per_sample.report().total()["skipped"] == 2
    assert all(fetched[k]["video"].data_ptr() != 0 for k in (0, 2, 4))


def test_a_failure_under_raise_names_the_segment(splits, tmp_path, monkeypatch):
    roots, _ = splits
    ds = MCoRecDataset(roots["plain"], crops="lip", color="gray", cache_dir=tmp_path)
    monkeypatch.setattr(ds.reader, "video", _failing(ds.reader.video, {ds.index_row(4)}))
    with pytest.raises(MCoRecDataError) as info:
        ds.__getitems__([0, 4])
    assert info.value.segment == ds.segment_id(4) and info.value.path == "/planted.mp4"
    assert ds.report().total()["skipped"] == 0


def test_a_loader_built_from_a_config_takes_its_batches_without_a_copy(splits, tmp_path, monkeypatch):
    from mcorec_torch.config import build_dataloader, parse_config

    roots, _ = splits
    copies = []
    original = Collator._pad_media
    monkeypatch.setattr(Collator, "_pad_media", staticmethod(lambda *a: copies.append(1) or original(*a)))
    data = {"data": {"cache_dir": str(tmp_path / "cache")}, "splits": {"train": {"roots": [str(roots["plain"])]}},
            "sampler": {"max_frames": 400, "seed": 1}, "loader": {"num_workers": 0, "pad_to_multiple_of": 8}}
    loader = build_dataloader(parse_config(data, "inline.yaml"), "train")
    assert loader.dataset.batch_pad_to_multiple_of == 8
    batches = list(loader)
    assert sum(len(b["id"]) for b in batches) == len(loader.dataset) and copies == []
    assert all(b["video"].shape[1] % 8 == 0 for b in batches)
