"""Property-based tests of the index (hypothesis): random track layouts give exact frame
coverage; random cue times and options keep 640*T audio and counts that reconcile (SPEC §2-§3)."""
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcorec_torch import MCoRecDataset
from mcorec_torch.corpus.vtt import write_vtt
from mcorec_torch.index.build import _coverage
from mcorec_torch.index.segment_index import Track
from mcorec_torch.timeline import cue_frames

TRACKS = st.lists(st.tuples(st.integers(0, 400), st.integers(1, 200)), min_size=0, max_size=5)


@given(TRACKS, st.integers(0, 500), st.integers(1, 300))
def test_coverage_pieces_are_exactly_the_covered_frames(layout, first, count):
    tracks = [(k, Track(path=f"t{k}", start=s, num_frames=n, width=96, height=96, owner=0))
              for k, (s, n) in enumerate(layout)]
    pieces = _coverage(tracks, first, count)
    shown = np.full(count, -1)
    for track_id, offset, track_frame, length in pieces:
        track = dict(tracks)[track_id]
        assert length > 0 and 0 <= track_frame and track_frame + length <= track.num_frames
        assert track.start + track_frame == first + offset  # frame j of a track is view frame start + j
        assert (shown[offset: offset + length] == -1).all()  # no frame twice
        shown[offset: offset + length] = track_id
    for t in range(count):
        covering = [k for k, tr in tracks if tr.start <= first + t < tr.start + tr.num_frames]
        assert (shown[t] >= 0) == bool(covering)
        if covering:
            assert shown[t] == covering[0]  # earlier-listed tracks win overlaps


@pytest.fixture(scope="module")
def one_session(dev_split, tmp_path_factory):
    root, specs = dev_split
    copy = tmp_path_factory.mktemp("props") / "dev"
    (copy / "session_00").parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(root / "session_00", copy / "session_00")
    return copy, specs["session_00"]


CUES = st.lists(st.tuples(st.integers(0, 30_000), st.integers(-100, 4000)), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CUES, st.sampled_from([0.0, 0.3]), st.sampled_from([None, 2.0]), st.sampled_from([None, 0.4]),
       st.sampled_from(["pad", "drop"]))
def test_random_cues_keep_640_t_audio_and_reconciling_counts(one_session, tmp_path_factory, cues, min_duration,
                                                              max_duration, merge_gap, missing_video):
    root, _ = one_session
    vtt = root / "session_00" / "labels" / "spk_0.vtt"
    written = [(s, max(s + d, 0), f"word{k}") for k, (s, d) in enumerate(cues)]
    write_vtt(vtt, written)
    ds = MCoRecDataset(root, crops="lip", color="gray", min_duration=min_duration, max_duration=max_duration,
                       merge_gap=merge_gap, missing_video=missing_video, cache_dir=tmp_path_factory.mktemp("c"))
    counts = ds.report().by_speaker()[("dev", "session_00", "spk_0")]
    assert ds.report().cues(counts) == len(written)  # every cue ends in exactly one outcome
    mine = [i for i in range(len(ds)) if ds.segment_id(i).startswith("session_00/spk_0/")]
    assert len(mine) == counts["kept"]
    for i in mine:
        row = ds.index_row(i)
        f0, f1 = int(ds.index.frame_start[row]), int(ds.index.frame_end[row])
        start_ms, end_ms = int(ds.index.start_ms[row]), int(ds.index.end_ms[row])
        assert (f0, f1) == cue_frames(start_ms, end_ms) and ds.num_frames(i) == f1 - f0
    for i in mine[:2]:
        sample = ds[i]
        t = sample["frame_end"] - sample["frame_start"]
        assert sample["video"].shape[0] == t and sample["audio"].shape[0] == 640 * t
        covered = sum(p[3] for p in ds.index.pieces(ds.index_row(i)))
        assert int(sample["video_mask"].sum()) == covered
