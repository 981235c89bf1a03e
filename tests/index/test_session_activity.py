"""Who speaks when in a session (index.activity), on a session written by hand here (metadata,
transcripts, track and ASD json; no media): the expected frames are worked out by hand from
the cue times with the SPEC §2 rule (frame f is [40 f, 40 f + 40) ms), not by the library."""
import json

import numpy as np
import pytest

from mcorec_torch.corpus.vtt import write_vtt
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.index.activity import (STNO_CLASSES, non_target_columns, session_activity,
                                         session_conversations, stno_from_activity)

SPEAKERS = ("spk_0", "spk_1", "spk_2", "spk_10")
CONVERSATIONS = {"spk_0": 0, "spk_1": 0, "spk_2": 1, "spk_10": 1}
UEMS = {"spk_0": (0.0, 2.4), "spk_1": (0.0, 1.6), "spk_2": (0.0, 2.4), "spk_10": (0.2, 2.4)}
CUES = {
    "spk_0": [(100, 500), (1000, 1440), (2000, 2000)],  # frames 2-12, 25-35; the last has end <= start
    "spk_1": [(480, 960), (1500, 1900)],  # 12-23 (starts and ends on a frame boundary: one frame of
    # overlap with spk_0, frame 12); 37-47 reaches past the UEM end (1.6 s = frame 40): 37-39
    "spk_2": [(800, 1200), (1600, 1640)],  # 20-29, and 40 (a 40 ms cue)
    "spk_10": [(0, 300)],  # 0-7, but the UEM starts at 0.2 s (frame 5): 5-7
}
#: Active frames by hand (inclusive ranges).
ACTIVE = {"spk_0": [(2, 12), (25, 35)], "spk_1": [(12, 23), (37, 39)], "spk_2": [(20, 29), (40, 40)],
          "spk_10": [(5, 7)]}
#: Frames each speaker's labels cover (its UEM's frames), inclusive.
KNOWN = {"spk_0": (0, 59), "spk_1": (0, 39), "spk_2": (0, 59), "spk_10": (5, 59)}


def _frames(ranges, n=60):
    out = np.zeros(n, dtype=bool)
    for a, b in ranges:
        out[a:b + 1] = True
    return out


def _track(session, speaker, k, frame_start, scores=None):
    """A central crop entry (and its track json, and ASD json when ``scores`` maps key -> score)."""
    folder = session / "speakers" / speaker / "central_crops"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"speakers/{speaker}/central_crops/track_{k:02d}"
    (session / f"{stem}.json").write_text(json.dumps({"frame_start": frame_start, "frame_end": frame_start + 50}))
    crop = {"video": f"{stem}.mp4", "crop_metadata": f"{stem}.json"}
    if scores is not None:
        (session / f"{stem}_asd.json").write_text(json.dumps({str(key): v for key, v in scores.items()}))
        crop["asd"] = f"{stem}_asd.json"
    return crop


@pytest.fixture
def session(tmp_path):
    session = tmp_path / "dev" / "session_07"
    (session / "labels").mkdir(parents=True)
    crops = {
        # keys 0..49 from central frame 5: above the onset 1.0 on keys 10..44 (35 frames)
        "spk_0": [_track(session, "spk_0", 0, 5, {k: 2.0 if 10 <= k <= 44 else -1.0 for k in range(50)})],
        # a track never active (0.5), and one whose keys start at 100 placed from frame 20: active on
        # keys 100..129; the two share frames 20..29
        "spk_1": [_track(session, "spk_1", 0, 0, {k: 0.5 for k in range(30)}),
                  _track(session, "spk_1", 1, 20, {k: 3.0 if k < 130 else -1.0 for k in range(100, 140)})],
        "spk_2": [_track(session, "spk_2", 0, 0)],  # no ASD scores listed
        "spk_10": [],
    }
    metadata = {name: {"central": {"video": "central_video.mp4", "uem": {"start": UEMS[name][0], "end": UEMS[name][1]},
                                   "crops": crops[name]}} for name in SPEAKERS}
    (session / "metadata.json").write_text(json.dumps(metadata))
    (session / "labels" / "speaker_to_cluster.json").write_text(json.dumps(CONVERSATIONS))
    for name in SPEAKERS:
        write_vtt(session / "labels" / f"{name}.vtt", [(a, b, "words") for a, b in CUES[name]])
    return session


def test_labels_activity_is_every_cue_frame_by_frame_inside_the_uem(session):
    activity = session_activity(session, "labels", "labels")
    assert activity.speakers == SPEAKERS  # metadata order: spk_2 before spk_10
    assert activity.conversations == (0, 0, 1, 1)
    assert activity.num_frames == 60  # the last UEM frame of any speaker
    assert activity.scores is None
    for k, name in enumerate(SPEAKERS):
        np.testing.assert_array_equal(activity.active[k], _frames(ACTIVE[name]), err_msg=name)
        np.testing.assert_array_equal(activity.known[k], _frames([KNOWN[name]]), err_msg=name)
    both = activity.active[0] & activity.active[1]
    assert np.flatnonzero(both).tolist() == [12]  # the one-frame overlap


def test_window_puts_the_target_first_and_pads_outside_the_session(session):
    activity = session_activity(session, "labels", "labels")
    active, known, scores = activity.window("spk_2", 55, 65)
    assert scores is None
    assert active.shape == known.shape == (4, 10)
    assert activity.column_order("spk_2") == [2, 0, 1, 3]
    assert not active.any()  # nobody speaks on 55..59, nothing exists past 60
    np.testing.assert_array_equal(known[0], [True] * 5 + [False] * 5)
    active, _, _ = activity.window("spk_1", 10, 14)
    np.testing.assert_array_equal(active, [[False, False, True, True],   # spk_1 from 12
                                           [True, True, True, False],    # spk_0 to 12
                                           [False] * 4, [False] * 4])
    with pytest.raises(KeyError, match="spk_9"):
        activity.window("spk_9", 0, 1)


def test_asd_activity_is_the_chunking_rules_regions_and_the_scores(session):
    activity = session_activity(session, "asd", "labels", asd_exact_baseline=True)
    # spk_0: keys 10..44 from frame 5 -> frames 15..49; the baseline reads [first, last): 15..48
    np.testing.assert_array_equal(activity.active[0], _frames([(15, 48)]))
    # spk_1: keys 100..129 from frame 20 -> 20..49, read as 20..48; the other track never starts
    np.testing.assert_array_equal(activity.active[1], _frames([(20, 48)]))
    assert not activity.active[2].any() and not activity.active[3].any()
    np.testing.assert_array_equal(activity.known[0], _frames([(5, 54)]))
    np.testing.assert_array_equal(activity.known[1], _frames([(0, 59)]))
    assert not activity.known[2].any() and not activity.known[3].any()
    expected_0 = np.zeros(60, np.float32)
    expected_0[5:55] = -1.0
    expected_0[15:50] = 2.0
    expected_1 = np.r_[np.full(20, 0.5), np.full(30, 3.0), np.full(10, -1.0)].astype(np.float32)
    np.testing.assert_array_equal(activity.scores[0], expected_0)
    np.testing.assert_array_equal(activity.scores[1], expected_1)  # 20..29: the larger of 0.5 and 3.0
    assert not activity.scores[2:].any()
    corrected = session_activity(session, "asd", "labels", asd_exact_baseline=False)
    np.testing.assert_array_equal(corrected.active[0], _frames([(15, 49)]))  # [first, last + 1)


def test_asd_activity_is_the_regions_not_cut_into_chunks(session):
    # chunk_size 1.2 s (30 frames) would cut spk_0's 35 active frames into parts of 18 and 17
    # frames, both under the 1 s minimum chunk: segments="asd" gets none, the speaker still speaks
    from mcorec_torch.index.asd_chunks import asd_chunks, asd_regions, chunking_parameters
    keys, scores = np.arange(50), np.where((np.arange(50) >= 10) & (np.arange(50) <= 44), 2.0, -1.0)
    assert asd_chunks(keys, scores, chunking_parameters(True, 1.2)) == []
    assert [(r.first, r.last, r.active) for r in asd_regions(keys, scores, chunking_parameters(True, 1.2))] == \
        [(10, 44, 35)]
    activity = session_activity(session, "asd", "labels")
    np.testing.assert_array_equal(activity.active[0], _frames([(15, 48)]))


def test_a_listed_asd_file_that_is_missing_is_an_error_naming_it(session):
    (session / "speakers/spk_0/central_crops/track_00_asd.json").unlink()
    with pytest.raises(MCoRecDataError, match="track_00_asd.json"):
        session_activity(session, "asd", "labels")


def test_non_target_columns_by_rule(session):
    activity = session_activity(session, "labels", "labels")
    # columns of spk_1: spk_1, spk_0 (same conversation), spk_2, spk_10 (the other one)
    assert non_target_columns(activity, "spk_1", "all").tolist() == [False, True, True, True]
    assert non_target_columns(activity, "spk_1", "partners").tolist() == [False, True, False, False]
    assert non_target_columns(activity, "spk_1", "others").tolist() == [False, False, True, True]
    # columns of spk_10: spk_10, spk_0, spk_1, spk_2
    assert non_target_columns(activity, "spk_10", "partners").tolist() == [False, False, False, True]
    (session / "labels" / "speaker_to_cluster.json").write_text(json.dumps({"spk_0": 0, "spk_1": 0, "spk_2": 1}))
    assert session_conversations(session, "labels") == {"spk_0": 0, "spk_1": 0, "spk_2": 1, "spk_10": -1}
    activity = session_activity(session, "labels", "labels")
    assert non_target_columns(activity, "spk_1", "all").tolist() == [False, True, True, True]
    with pytest.raises(ValueError, match="spk_10"):
        non_target_columns(activity, "spk_1", "others")


def test_stno_is_one_hot_silence_target_non_target_overlap():
    assert STNO_CLASSES == ("silence", "target", "non-target", "overlap")
    active = np.array([[0, 1, 0, 1, 1, 0],   # the target
                       [0, 0, 1, 1, 0, 0],   # a non-target speaker
                       [0, 0, 0, 0, 1, 1]], dtype=bool)  # a speaker that does not count
    stno = stno_from_activity(active, np.array([False, True, False]))
    assert stno.dtype == np.float32 and stno.shape == (6, 4)
    np.testing.assert_array_equal(stno.argmax(axis=1), [0, 1, 2, 3, 1, 0])
    np.testing.assert_array_equal(stno.sum(axis=1), np.ones(6))
    assert set(np.unique(stno)) == {0.0, 1.0}
    alone = stno_from_activity(active[:1], np.array([False]))  # no non-target speaker at all
    np.testing.assert_array_equal(alone.argmax(axis=1), [0, 1, 0, 1, 1, 0])
