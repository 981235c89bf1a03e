"""Segment index rules of SPEC §3 on a hand-built session whose every cue's fate is known."""
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.index import build as index_module
from mcorec_torch.index.options import option_fields
from mcorec_torch.index.report import DROP_REASONS, EXCLUDED, OUTCOME_OPTIONS, NoSegmentsError
from mcorec_torch.index.segment_index import SegmentIndex
from mcorec_torch.synthetic import CueSpec, SessionSpec, SpeakerSpec, TrackSpec

# spk_0: tracks [0,100) and [100,150) are contiguous, then a gap [150,200), then [200,300).
SPK0_CUES = [
    CueSpec(1000, 2000, "at the start"),       # a: starts exactly at uem.start -> kept, frames [25,50)
    CueSpec(11000, 12000, "at the end"),       # b: ends exactly at uem.end -> kept, [275,300)
    CueSpec(900, 1500, "early"),               # c: crosses uem.start -> outside_uem
    CueSpec(2000, 2020, "one frame"),          # d: 20 ms -> kept, one frame [50,51)
    CueSpec(2500, 2500, "zero"),               # e: end == start -> bad_cue
    CueSpec(6100, 7900, "in the gap"),         # f: frames [152,198) wholly in the gap -> no_video
    CueSpec(3600, 4400, "across tracks"),      # g: [90,110) across contiguous tracks -> kept whole
    CueSpec(5600, 6400, "half in gap"),        # h: [140,160), 10 of 20 frames covered -> padded
    CueSpec(3000, 2900, "backwards"),          # i: end < start -> bad_cue
    CueSpec(11500, 12001, "late"),             # j: 1 ms past uem.end -> outside_uem
    CueSpec(8000, 8040, "um"),                 # k: nothing left after normalization -> empty_text
]
SPK1_CUES = [
    CueSpec(5000, 6000, "fine"),               # kept
    CueSpec(14900, 15100, "past the video"),   # frames up to 378 > 375 -> beyond_video
]


def session_spec(frame_end_written=None):
    spk0 = SpeakerSpec("spk_0", 0, 1.0, 12.0, [TrackSpec(0, 0, 100), TrackSpec(1, 100, 50),
                                               TrackSpec(2, 200, 100, frame_end_written)], SPK0_CUES)
    spk1 = SpeakerSpec("spk_1", 1, 0.5, 16.0, [TrackSpec(0, 0, 375)], SPK1_CUES)
    return SessionSpec("session_edge", 375, [spk0, spk1], seed=11)


@pytest.fixture(scope="module")
def edge_split(tmp_path_factory):
    root = tmp_path_factory.mktemp("edge") / "dev"
    # track 2 claims 5 frames more than its container holds: the container must win
    synthetic.write_synthetic_session(session_spec(frame_end_written=305), root, central_video=True)
    return root


def outcomes(ds, speaker):
    return {k: v for k, v in ds.report().by_speaker()[("dev", "session_edge", speaker)].items() if v}


def frames_of(ds):
    return sorted((ds[i]["speaker"], ds[i]["frame_start"], ds[i]["frame_end"]) for i in range(len(ds)))


def test_every_cue_has_one_outcome(edge_split, tmp_path):
    ds = MCoRecDataset(edge_split, crops="lip", color="gray", cache_dir=tmp_path)
    assert outcomes(ds, "spk_0") == {"kept": 5, "outside_uem": 2, "bad_cue": 2, "no_video": 1, "empty_text": 1}
    assert outcomes(ds, "spk_1") == {"kept": 1, "beyond_video": 1}
    total = ds.report().total()
    assert sum(total.values()) == len(SPK0_CUES) + len(SPK1_CUES)
    assert ds.report().kept == len(ds) == 6
    assert frames_of(ds) == [("spk_0", 25, 50), ("spk_0", 50, 51), ("spk_0", 90, 110), ("spk_0", 140, 160),
                             ("spk_0", 275, 300), ("spk_1", 125, 150)]
    assert [ds.num_frames(i) for i in range(len(ds))] == [int(x) for x in ds.lengths]


def test_segments_across_tracks_and_gaps(edge_split, tmp_path):
    ds = MCoRecDataset(edge_split, crops="lip", color="gray", cache_dir=tmp_path)
    by_id = {ds.segment_id(i): i for i in range(len(ds))}
    across = ds[by_id["session_edge/spk_0/0000090-0000110"]]
    assert across["video_mask"].all() and across["text"] == "ACROSS TRACKS"
    assert [synthetic.decode_frame_index(f) for f in across["video"]] == list(range(90, 110))
    row = ds._rows[by_id["session_edge/spk_0/0000090-0000110"]]
    tracks = [ds.index.tracks[p[0]].path.rsplit("/", 1)[-1] for p in ds.index.pieces(row)]
    assert [p[1:] for p in ds.index.pieces(row)] == [(0, 90, 10), (10, 0, 10)]
    assert tracks == ["track_00_lip.av.mp4", "track_01_lip.av.mp4"]
    half = ds[by_id["session_edge/spk_0/0000140-0000160"]]
    assert half["video_mask"].tolist() == [True] * 10 + [False] * 10
    assert half["video"][10:].sum() == 0
    one = ds[by_id["session_edge/spk_0/0000050-0000051"]]
    assert one["video"].shape[0] == 1 and one["audio"].shape[0] == 640
    assert (one["start"], one["end"]) == (2.0, 2.02)
    end = ds[by_id["session_edge/spk_0/0000275-0000300"]]
    assert synthetic.decode_frame_index(end["video"][-1]) == 299  # read from the track that claims 305


def test_missing_video_policies(edge_split, tmp_path):
    drop = MCoRecDataset(edge_split, missing_video="drop", cache_dir=tmp_path)
    assert outcomes(drop, "spk_0")["no_video"] == 2 and len(drop) == 5
    strict = MCoRecDataset(edge_split, min_video_coverage=0.6, cache_dir=tmp_path)
    assert outcomes(strict, "spk_0")["no_video"] == 2
    lenient = MCoRecDataset(edge_split, min_video_coverage=0.5, cache_dir=tmp_path)
    assert outcomes(lenient, "spk_0")["no_video"] == 1


def test_duration_limits_and_merging(edge_split, tmp_path):
    ds = MCoRecDataset(edge_split, min_duration=0.5, max_duration=0.9, cache_dir=tmp_path)
    spk0 = outcomes(ds, "spk_0")
    assert spk0["too_short"] == 2          # the 20 ms cue and the 40 ms "um" (durations come before text)
    assert "empty_text" not in spk0
    assert spk0["too_long"] == 3           # the 1.0 s cues at the UEM edges and the 1.8 s one in the gap
    merged = MCoRecDataset(edge_split, merge_gap=0.1, cache_dir=tmp_path)
    spk0 = outcomes(merged, "spk_0")
    # a+d (gap 0 ms) and f+k (gap exactly 100 ms; f then lies in the video gap)
    assert spk0 == {"merged": 2, "kept": 4, "outside_uem": 2, "bad_cue": 2, "no_video": 1}
    first = next(merged[i] for i in range(len(merged)) if merged[i]["frame_start"] == 25)
    assert (first["frame_end"], first["text"], first["end"]) == (51, "AT THE START ONE FRAME", 2.02)
    capped = MCoRecDataset(edge_split, merge_gap=0.1, max_duration=1.0, cache_dir=tmp_path)
    assert "merged" not in outcomes(capped, "spk_0")  # 1.02 s would exceed max_duration
    for ds in (merged, capped):
        assert sum(ds.report().total().values()) == len(SPK0_CUES) + len(SPK1_CUES)


def test_normalizer_none_keeps_text_as_written(edge_split, tmp_path):
    ds = MCoRecDataset(edge_split, normalizer=None, cache_dir=tmp_path)
    assert "empty_text" not in outcomes(ds, "spk_0") and len(ds) == 7
    assert sorted(ds.text(i) for i in range(len(ds)))[0] == "across tracks"


def test_frame_count_comes_from_the_container_and_is_cached(edge_split, tmp_path):
    MCoRecDataset(edge_split, cache_dir=tmp_path)
    headers = json.loads((tmp_path / "headers.json").read_text())
    entry = next(v for k, v in headers.items() if k.endswith("spk_0/central_crops/track_02_lip.av.mp4"))
    assert entry["presented_frames"] == 100 and entry["header"]["num_frames"] == 100
    untouched = next(v for k, v in headers.items() if k.endswith("spk_0/central_crops/track_00_lip.av.mp4"))
    assert "presented_frames" not in untouched  # header agreed with the json to within one frame


def test_index_cache_is_reused_and_invalidated(edge_split, tmp_path, monkeypatch):
    first = MCoRecDataset(edge_split, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("index-*.npz"))) == 1

    def no_build(*args, **kwargs):
        raise AssertionError("index rebuilt although the cache is valid")

    monkeypatch.setattr(index_module, "_Builder", no_build)
    started = time.perf_counter()
    second = MCoRecDataset(edge_split, cache_dir=tmp_path)
    assert time.perf_counter() - started < 5  # generous: the point is that nothing is rebuilt
    assert frames_of(second) == frames_of(first)
    assert second.report().to_dict() == first.report().to_dict()
    for name in SegmentIndex.ARRAYS:
        assert np.array_equal(getattr(second.index, name), getattr(first.index, name))
    monkeypatch.undo()
    # different options -> a different cache entry; a changed transcript -> rebuilt
    MCoRecDataset(edge_split, crops="face", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("index-*.npz"))) == 2
    vtt = edge_split / "session_edge" / "labels" / "spk_1.vtt"
    original = vtt.read_text()
    try:
        vtt.write_text(original.replace("fine", "changed words"))
        changed = MCoRecDataset(edge_split, cache_dir=tmp_path)
        assert "CHANGED WORDS" in [changed.text(i) for i in range(len(changed))]
    finally:
        vtt.write_text(original)


def test_index_is_deterministic(edge_split, tmp_path):
    a = MCoRecDataset(edge_split, cache_dir=tmp_path / "a")
    b = MCoRecDataset(edge_split, cache_dir=tmp_path / "b")
    assert [a.segment_id(i) for i in range(len(a))] == [b.segment_id(i) for i in range(len(b))]


def test_conversation_and_metadata_fields(edge_split, tmp_path):
    ds = MCoRecDataset(edge_split, cache_dir=tmp_path)
    convs = {ds[i]["speaker"]: ds[i]["conversation"] for i in range(len(ds))}
    assert convs == {"spk_0": 0, "spk_1": 1}


def test_eval_split_without_labels_has_no_segments_and_says_which_option(tmp_path):
    root = tmp_path / "eval"
    synthetic.write_synthetic_session(session_spec(), root, labels=False, lip=False)
    ds = MCoRecDataset(root, crops="face", cache_dir=tmp_path / "c", allow_empty=True)
    assert len(ds) == 0 and ds.report().total() == {}
    with pytest.raises(NoSegmentsError) as err:
        MCoRecDataset(root, crops="face", cache_dir=tmp_path / "c")
    assert err.value.option == "segments" and "segments='asd'" in str(err.value)


def test_report_reasons_are_documented():
    assert set(DROP_REASONS) == {"bad_cue", "outside_uem", "beyond_video", "too_short", "too_long", "no_video",
                                 "no_audio", "bad_file", "empty_text", "duplicate"}
    assert set(OUTCOME_OPTIONS) == set(DROP_REASONS) | {EXCLUDED}  # every outcome maps to its options
    fields = {spec.name for spec, _ in option_fields()} | {"normalizer"}
    assert {name for names in OUTCOME_OPTIONS.values() for name in names} <= fields


def test_cache_dir_inside_the_split_does_not_invalidate_itself(edge_split, monkeypatch):
    cache = edge_split / ".mcorec-cache"
    MCoRecDataset(edge_split, cache_dir=cache)
    monkeypatch.setattr(index_module, "_Builder", None)  # a rebuild would fail
    assert len(MCoRecDataset(edge_split, cache_dir=cache)) == 6


def test_an_index_built_from_a_relative_root_serves_the_same_split_named_otherwise(edge_split, tmp_path, monkeypatch):
    """The cache key is the split's resolved path, and the index stores its files' paths as the
    root was written. Before, an index built from ``data/dev`` in one folder was read back for
    ``/abs/.../data/dev`` (or from another working directory), and its relative paths named
    files that do not exist from there."""
    cache = tmp_path / "cache"
    monkeypatch.chdir(edge_split.parent.parent)
    relative = Path(edge_split.parent.name) / edge_split.name
    built = MCoRecDataset(relative, crops="lip", color="gray", cache_dir=cache)
    expected = [built[i]["video"] for i in range(len(built))]
    monkeypatch.chdir(tmp_path)
    for root in (edge_split, os.path.relpath(edge_split, tmp_path)):
        other = MCoRecDataset(root, crops="lip", color="gray", cache_dir=cache)
        assert [other.segment_id(i) for i in range(len(other))] == [built.segment_id(i) for i in range(len(built))]
        for i, video in enumerate(expected):
            assert torch.equal(other[i]["video"], video)
