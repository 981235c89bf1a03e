"""The decoded-frame cache: byte-identical samples, staleness, DataLoader workers, the command."""
import os

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from mcorec_torch import MCoRecDataset, collate
from mcorec_torch.cli import main
from mcorec_torch.media import VideoReader
from mcorec_torch.media.frame_cache import FrameCache, estimate_bytes


def assert_same_samples(uncached, cached):
    assert len(uncached) == len(cached) > 0
    for i in range(len(uncached)):
        a, b = uncached[i], cached[i]
        for key in ("video", "video_mask", "audio"):
            assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, (i, key)
            assert torch.equal(a[key], b[key]), (i, key)


@pytest.mark.parametrize("crops,color", [("lip", "gray"), ("face", "rgb")])
def test_cached_samples_equal_decoded_ones_over_the_whole_split(dev_split, tmp_path, crops, color):
    root, _ = dev_split
    plain = MCoRecDataset(root, crops=crops, color=color, cache_dir=tmp_path)
    cached = MCoRecDataset(root, crops=crops, color=color, cache_dir=tmp_path, frame_cache=True)
    assert_same_samples(plain, cached)
    assert list((tmp_path / "frames").glob("*.npy"))


def test_cached_samples_equal_decoded_ones_for_the_ego_view(train_split, tmp_path):
    root, _ = train_split
    options = dict(view="ego", crops="face", color="gray", cache_dir=tmp_path)
    assert_same_samples(MCoRecDataset(root, **options), MCoRecDataset(root, frame_cache=True, **options))


def test_entry_is_the_whole_track_as_the_reader_reads_it(dev_split, tmp_path):
    root, _ = dev_split
    path = str(next(root.glob("session_00/speakers/spk_0/central_crops/track_00_lip.av.mp4")))
    reader = VideoReader(path)
    for color in ("gray", "rgb"):
        frames = FrameCache(tmp_path).frames(path, color)
        assert frames.dtype == np.uint8 and not frames.flags.writeable
        assert isinstance(frames, np.memmap)
        np.testing.assert_array_equal(frames, reader.read(0, len(frames), color))
    reader.close()


def test_a_changed_source_is_rebuilt_not_served(dev_split, tmp_path):
    root, _ = dev_split
    source = next(root.glob("session_00/speakers/spk_0/central_crops/track_00_lip.av.mp4"))
    path = tmp_path / "track.mp4"
    path.write_bytes(source.read_bytes())
    cache = FrameCache(tmp_path / "frames")
    good = np.array(cache.frames(path, "gray"))
    old_entry = cache.entry(path, "gray")
    np.save(old_entry, np.full_like(good, 7))  # a wrong array under the old key
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.entry(path, "gray") != old_entry
    for fresh in (cache, FrameCache(tmp_path / "frames")):  # the process's open map and a new one
        np.testing.assert_array_equal(fresh.frames(path, "gray"), good)
    assert not old_entry.exists()  # the stale entry was deleted when the new one was written
    # The key itself serves the planted array: only the stamp keeps it from being used.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    np.save(old_entry, np.full_like(good, 7))
    assert (FrameCache(tmp_path / "frames").frames(path, "gray") == 7).all()


def test_a_truncated_track_fails_like_the_reader(dev_split, tmp_path):
    root, _ = dev_split
    path = str(next(root.glob("session_00/speakers/spk_0/central_crops/track_00_lip.av.mp4")))
    n = len(FrameCache(tmp_path).frames(path, "gray"))
    cache = FrameCache(tmp_path / "more")
    assert len(cache.frames(path, "gray", expected_frames=n + 5)) == n
    assert cache.read(path, "gray", n - 3, 3).shape[0] == 3
    with pytest.raises(Exception, match="decodable frames"):
        cache.read(path, "gray", n - 3, 4)


def test_workers_build_the_cache_lazily(dev_split, tmp_path):
    root, _ = dev_split
    plain = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)
    cached = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path, frame_cache=True)
    assert not (tmp_path / "frames").exists()
    loaded = {}
    for batch in DataLoader(cached, batch_size=4, num_workers=2, collate_fn=collate):
        for j, sample_id in enumerate(batch["id"]):
            loaded[sample_id] = batch["video"][j]
    assert len(loaded) == len(cached)
    assert len(list((tmp_path / "frames").glob("*.npy"))) > 0
    assert not list((tmp_path / "frames").glob(".*"))  # no temporary files left
    for i in range(len(plain)):
        sample = plain[i]
        t = sample["video"].shape[0]
        assert torch.equal(loaded[sample["id"]][:t], sample["video"])


def test_cache_command_builds_every_entry_once(dev_split, tmp_path, capsys):
    root, _ = dev_split
    args = ["cache", str(root), "--crops", "lip", "--color", "gray", "--cache-dir", str(tmp_path), "--workers", "2"]
    assert main(args) == 0
    first = capsys.readouterr().out
    dataset = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)
    tracks = sorted({dataset.index.tracks[int(t)].path for t in dataset.index.piece_track})
    cache = FrameCache(tmp_path / "frames")
    assert all(cache.is_cached(p, "gray") for p in tracks)
    size = estimate_bytes([(p, dataset.index.tracks[0].num_frames) for p in tracks[:1]], "gray")
    assert size > 0
    assert f"{len(tracks)} tracks" in first and "0 already cached" in first and "GB" in first
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "frames").glob("*.npy")}
    assert len(stamps) == len(tracks)
    assert main(args) == 0
    second = capsys.readouterr().out
    assert f"{len(tracks)} already cached" in second and "built 0 entries" in second
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "frames").glob("*.npy")} == stamps


def test_an_unwritable_cache_location_serves_decoded_frames_and_leaves_nothing(dev_split, tmp_path):
    """A cache folder that cannot be created (here: under a regular file) only costs speed: the
    frames come decoded from memory, equal to the reader's, and no temporary file is left."""
    root, _ = dev_split
    path = str(next(root.glob("session_00/speakers/spk_0/central_crops/track_00_lip.av.mp4")))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    frames = FrameCache(blocker / "frames").frames(path, "gray")
    reader = VideoReader(path)
    np.testing.assert_array_equal(frames, reader.read(0, len(frames), "gray"))
    reader.close()
    assert not isinstance(frames, np.memmap) and sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]
    cache = FrameCache(tmp_path / "ok")
    cache.frames(path, "gray")
    assert [p.name for p in (tmp_path / "ok").iterdir() if p.name.startswith(".")] == []  # no temporaries left
