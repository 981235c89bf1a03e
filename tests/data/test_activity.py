"""Who speaks when as sample keys (the ``activity`` option, SPEC §4, §5): on a synthetic session
planned by hand (expected frames and STNO classes worked out by hand from the cue times with the
SPEC §2 rule, frame f = [40 f, 40 f + 40) ms), on the synthetic dev split against the ASD
chunking rule, through collate and ``__getitems__``."""
import argparse
import json
import pickle
import shutil

import numpy as np
import pytest
import torch

from mcorec_torch import MCoRecDataset, OptionError, collate
from mcorec_torch.commands._options import add_dataset_options, dataset_options
from mcorec_torch.corpus.asd_scores import read_asd_scores
from mcorec_torch.corpus.metadata import load_metadata, read_track_json
from mcorec_torch.data.activity import activity_coverage
from mcorec_torch.data.collate import PaddedSamples
from mcorec_torch.data.sample import ACTIVITY_KEYS, ACTIVITY_SPEAKERS
from mcorec_torch.index.report import KEPT
from mcorec_torch.synthetic import CueSpec, SessionSpec, SpeakerSpec, TrackSpec
from mcorec_torch.synthetic.write import write_synthetic_session

CUES = {
    "spk_0": [(100, 500), (1000, 1440)],  # frames 2-12, 25-35 (0.40 s and 0.44 s)
    "spk_1": [(480, 960), (1500, 1900)],  # 12-23: starts and ends on frame boundaries, shares frame 12
    # with spk_0; 37-47 reaches past the UEM end (1.6 s, frame 40): 37-39, and is not a segment
    "spk_2": [(800, 1200), (1600, 1640)],  # 20-29, and 40 (a 40 ms cue)
}
UEMS = {"spk_0": (0.0, 2.4), "spk_1": (0.0, 1.6), "spk_2": (0.0, 2.4)}
CONVERSATIONS = {"spk_0": 0, "spk_1": 0, "spk_2": 1}
#: Active frames by hand (inclusive ranges) on the session's 60 frames.
ACTIVE = {"spk_0": [(2, 12), (25, 35)], "spk_1": [(12, 23), (37, 39)], "spk_2": [(20, 29), (40, 40)]}
#: STNO classes of spk_0's 60 frames by hand, per non_target rule, as runs of S(ilence), T(arget),
#: N(on-target), O(verlap)
STNO_SPK_0 = {
    "all": "S2 T10 O1 N12 O5 T6 S1 N4 S19",
    "partners": "S2 T10 O1 N11 S1 T11 S1 N3 S20",  # spk_1 only
    "others": "S2 T11 S7 N5 O5 T6 S4 N1 S19",  # spk_2 only
}


def _frames(ranges, n=60):
    out = np.zeros(n, dtype=bool)
    for a, b in ranges:
        out[a:b + 1] = True
    return out


def _classes(runs):
    out = []
    for run in runs.split():
        out += ["STNO".index(run[0])] * int(run[1:])
    return np.asarray(out)


def _write(root, labels=True, lip=True):
    speakers = [SpeakerSpec(name, CONVERSATIONS[name], *UEMS[name], [TrackSpec(0, 0, 60)],
                            [CueSpec(a, b, f"words of {name}") for a, b in CUES[name]]) for name in CUES]
    write_synthetic_session(SessionSpec("session_00", 60, speakers, seed=3), root, labels=labels, lip=lip)
    return root


@pytest.fixture(scope="module")
def hand_split(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("activity") / "dev")


def _windows(root, cache, **options):
    """One 60-frame segment per speaker (fixed windows of 2.4 s over each track)."""
    return MCoRecDataset(root, segments="windows", chunk_size=2.4, cache_dir=cache, **options)


def _by_speaker(dataset):
    return {dataset.segment_info(i)["speaker"]: dataset[i] for i in range(len(dataset))}


def test_activity_equals_the_planted_turns_frame_for_frame(hand_split, tmp_path):
    samples = _by_speaker(_windows(hand_split, tmp_path, activity="labels"))
    assert sorted(samples) == ["spk_0", "spk_1", "spk_2"]
    for name, sample in samples.items():
        columns = [name] + [s for s in ("spk_0", "spk_1", "spk_2") if s != name]
        assert sample[ACTIVITY_SPEAKERS] == columns
        assert sample["activity"].dtype == torch.bool and tuple(sample["activity"].shape) == (60, 3)
        assert sample["stno"].dtype == torch.float32 and tuple(sample["stno"].shape) == (60, 4)
        assert "activity_scores" not in sample
        for k, speaker in enumerate(columns):
            np.testing.assert_array_equal(sample["activity"][:, k].numpy(), _frames(ACTIVE[speaker]),
                                          err_msg=f"{name}: column {speaker}")
    overlap = samples["spk_0"]["activity"][:, 0] & samples["spk_0"]["activity"][:, 1]
    assert torch.nonzero(overlap).flatten().tolist() == [12]  # the one-frame overlap
    np.testing.assert_array_equal(samples["spk_0"]["stno"].argmax(1).numpy(), _classes(STNO_SPK_0["all"]))


@pytest.mark.parametrize("rule", ["all", "partners", "others"])
def test_stno_is_one_hot_and_follows_the_non_target_rule(hand_split, tmp_path, rule):
    samples = _by_speaker(_windows(hand_split, tmp_path, activity="labels", non_target=rule))
    for sample in samples.values():
        stno = sample["stno"]
        assert set(torch.unique(stno).tolist()) <= {0.0, 1.0}
        assert torch.equal(stno.sum(1), torch.ones(60))
    np.testing.assert_array_equal(samples["spk_0"]["stno"].argmax(1).numpy(), _classes(STNO_SPK_0[rule]))
    # spk_2 is alone in conversation 1: no partner, so nothing is non-target or overlap
    if rule == "partners":
        assert set(samples["spk_2"]["stno"].argmax(1).tolist()) == {0, 1}


def test_segment_options_never_remove_activity(hand_split, tmp_path):
    # min_duration 0.45 s leaves one segment: spk_1's 0.48 s cue (frames 12-23). spk_2's cues are
    # too short to be segments, spk_0 is excluded (its cues are too short as well).
    dataset = MCoRecDataset(hand_split, min_duration=0.45, exclude=["session_00/spk_0"], cache_dir=tmp_path,
                            activity="labels")
    assert [dataset.segment_id(i) for i in range(len(dataset))] == ["session_00/spk_1/0000012-0000024"]
    total = dataset.report().total()
    assert (total["too_short"], total["excluded"]) == (2, 1)
    sample = dataset[0]
    assert sample[ACTIVITY_SPEAKERS] == ["spk_1", "spk_0", "spk_2"]
    expected = np.zeros((12, 3), dtype=bool)
    expected[:, 0] = True      # spk_1 frames 12-23
    expected[0, 1] = True      # spk_0 to frame 12
    expected[8:, 2] = True     # spk_2 from frame 20
    np.testing.assert_array_equal(sample["activity"].numpy(), expected)


def test_frames_a_speaker_has_no_labels_for_are_counted(hand_split, tmp_path):
    dataset = _windows(hand_split, tmp_path, activity="labels")
    # spk_1's UEM ends at 1.6 s: frames 40-59 of each of the 3 windows say nothing about spk_1
    assert activity_coverage(dataset) == {"dev/session_00": {"frames": 180,
                                                              "unknown": {"spk_0": 0, "spk_1": 60, "spk_2": 0}}}


def test_asd_activity_is_the_chunking_rules_regions(dev_split, tmp_path):
    root, _ = dev_split
    # segments="asd" with chunks longer than any region: each segment is one region
    chunks = MCoRecDataset(root, segments="asd", chunk_size=600.0, cache_dir=tmp_path)
    assert set(chunks.report().total()) <= {KEPT}
    regions = {}
    for i in range(len(chunks)):
        info = chunks.segment_info(i)
        key = (info["session"], info["speaker"])
        regions.setdefault(key, np.zeros(10_000, dtype=bool))[info["frame_start"]:info["frame_end"]] = True
    dataset = MCoRecDataset(root, cache_dir=tmp_path, activity="asd")
    checked = 0
    for i in range(len(dataset)):
        sample = dataset[i]
        f0, f1 = sample["frame_start"], sample["frame_end"]
        scores = sample["activity_scores"]
        assert scores.dtype == torch.float32 and scores.shape == sample["activity"].shape
        for k, speaker in enumerate(sample[ACTIVITY_SPEAKERS]):
            expected = regions.get((sample["session"], speaker), np.zeros(10_000, dtype=bool))[f0:f1]
            np.testing.assert_array_equal(sample["activity"][:, k].numpy(), expected, err_msg=f"{sample['id']} {speaker}")
            checked += int(expected.sum())
            np.testing.assert_array_equal(scores[:, k].numpy(), _scores_by_hand(root / sample["session"], speaker, f0, f1))
        assert torch.equal(sample["stno"].sum(1), torch.ones(f1 - f0))
    assert checked > 100  # activity was there to compare


def _scores_by_hand(session_dir, speaker, f0, f1):
    """The speaker's ASD scores on central frames [f0, f1): key k of a track at its json's frame_start
    plus k minus the smallest key, the larger where tracks meet, 0 where none."""
    out = np.zeros(f1 - f0, dtype=np.float32)
    seen = np.zeros(f1 - f0, dtype=bool)
    for crop in load_metadata(session_dir).speakers[speaker].central.crops:
        start = read_track_json(session_dir / crop.crop_metadata).frame_start
        keys, values = read_asd_scores(session_dir / crop.asd)
        for key, value in zip(keys.tolist(), values.astype(np.float32).tolist()):
            t = start + key - int(keys[0]) - f0
            if 0 <= t < f1 - f0:
                out[t] = max(out[t], value) if seen[t] else value
                seen[t] = True
    return out


def test_ego_segments_take_the_activity_of_their_central_frames(train_split, tmp_path):
    root, _ = train_split
    central = MCoRecDataset(root, crops="face", cache_dir=tmp_path, activity="labels")
    ego = MCoRecDataset(root, crops="face", view="ego", cache_dir=tmp_path, activity="labels")
    by_id = {central.segment_id(i): i for i in range(len(central))}
    compared = 0
    for i in range(len(ego)):
        if ego.segment_id(i) not in by_id:  # a segment only the ego crops cover
            continue
        a, b = ego[i], central[by_id[ego.segment_id(i)]]
        assert a["frame_start"] == b["frame_start"] and a["frame_end"] == b["frame_end"]
        assert a["video"].shape[0] == a["activity"].shape[0]
        for key in ("activity", "stno", ACTIVITY_SPEAKERS):
            assert (torch.equal(a[key], b[key]) if key != ACTIVITY_SPEAKERS else a[key] == b[key]), key
        compared += 1
    assert compared > 0


def test_collate_pads_time_with_silence_and_speakers_with_false(hand_split, dev_split, tmp_path):
    short = MCoRecDataset(dev_split[0], segments="windows", chunk_size=1.0, cache_dir=tmp_path, activity="asd")
    first = _windows(hand_split, tmp_path, activity="asd")[0]  # 60 frames, 3 speakers
    other = short[0]  # at most 25 frames, 4 speakers
    t = other["activity"].shape[0]
    batch = collate([first, other])
    assert tuple(batch["activity"].shape) == (2, 60, 4)
    assert tuple(batch["stno"].shape) == (2, 60, 4)
    assert tuple(batch["activity_scores"].shape) == (2, 60, 4)
    assert batch[ACTIVITY_SPEAKERS] == [first[ACTIVITY_SPEAKERS], other[ACTIVITY_SPEAKERS]]
    assert torch.equal(batch["activity"][0, :, :3], first["activity"]) and not batch["activity"][0, :, 3].any()
    assert torch.equal(batch["activity"][1, :t], other["activity"]) and not batch["activity"][1, t:].any()
    assert torch.equal(batch["activity_scores"][0, :, :3], first["activity_scores"])
    assert not batch["activity_scores"][0, :, 3].any() and not batch["activity_scores"][1, t:].any()
    assert torch.equal(batch["stno"][1, :t], other["stno"])
    assert torch.equal(batch["stno"][1, t:], torch.tensor([1.0, 0, 0, 0]).expand(60 - t, 4))  # silence
    assert torch.equal(batch["stno"].sum(2), torch.ones(2, 60))
    assert batch["video_lengths"].tolist() == [60, t]
    with pytest.raises(ValueError, match="activity"):
        collate([first, short.fetch(0, transform=False) | {"activity": other["activity"][:1]}])


@pytest.mark.parametrize("source", ["labels", "asd"])
def test_getitems_batch_equals_the_per_sample_batch(dev_split, tmp_path, source):
    dataset = MCoRecDataset(dev_split[0], cache_dir=tmp_path, activity=source)
    items = [0, 5, 2, len(dataset) - 1]
    fetched = dataset.__getitems__(items)
    assert isinstance(fetched, PaddedSamples)  # decoded in place: the batch path
    a, b = collate(fetched), collate([dataset[i] for i in items])
    present = [key for key in ACTIVITY_KEYS if key in b]
    assert present == (["activity", "stno"] if source == "labels" else list(ACTIVITY_KEYS))
    for key in present:
        assert torch.equal(a[key], b[key]), key
    assert a[ACTIVITY_SPEAKERS] == b[ACTIVITY_SPEAKERS]
    assert torch.equal(a["video"], b["video"])


def test_the_table_travels_without_its_sessions(dev_split, tmp_path):
    dataset = MCoRecDataset(dev_split[0], cache_dir=tmp_path, activity="labels")
    before = dataset[0]
    assert dataset.activity_table._sessions  # computed in this process
    copy = pickle.loads(pickle.dumps(dataset))  # as a spawned DataLoader worker receives it
    assert copy.activity_table._sessions == {}
    assert torch.equal(copy[0]["activity"], before["activity"])


def test_settings_the_data_cannot_serve_are_refused(hand_split, tmp_path):
    unlabeled = _write(tmp_path / "nolabels" / "eval", labels=False)
    with pytest.raises(OptionError, match="labels/") as caught:
        _windows(unlabeled, tmp_path / "c1", activity="labels")
    assert caught.value.option == "activity"
    assert _windows(unlabeled, tmp_path / "c1", activity="asd")[0]["activity"].shape == (60, 3)
    no_scores = _write(tmp_path / "noasd" / "dev", lip=False)
    with pytest.raises(OptionError, match="lists none") as caught:
        MCoRecDataset(no_scores, crops="face", cache_dir=tmp_path / "c2", activity="asd")
    assert caught.value.option == "activity"
    copy = tmp_path / "copy" / "dev"
    shutil.copytree(hand_split, copy)
    (copy / "session_00" / "labels" / "speaker_to_cluster.json").write_text(json.dumps({"spk_0": 0, "spk_1": 0}))
    assert _windows(copy, tmp_path / "c3", activity="labels", non_target="all")[0]["stno"].shape == (60, 4)
    with pytest.raises(OptionError, match="spk_2") as caught:
        _windows(copy, tmp_path / "c3", activity="labels", non_target="partners")
    assert caught.value.option == "non_target"


def test_the_options_are_flags_too():
    parser = argparse.ArgumentParser()
    add_dataset_options(parser)
    options = dataset_options(parser.parse_args(["--activity", "asd", "--non-target", "others"]))
    assert (options.activity, options.non_target) == ("asd", "others")
    assert (dataset_options(parser.parse_args([])).activity, options.segment_options().get("activity", "-")) == \
        (None, "-")  # off by default, and not part of the index's cache key
    with pytest.raises(SystemExit):
        parser.parse_args(["--non-target", "nobody"])


@pytest.mark.slow  # worker processes
@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_compute_their_own_sessions_and_give_the_same_batches(dev_split, tmp_path, context):
    from torch.utils.data import DataLoader

    dataset = MCoRecDataset(dev_split[0], cache_dir=tmp_path, activity="asd", non_target="others")
    batches = [[0, 1, 2], [len(dataset) - 1, 3]]
    expected = [collate([dataset[i] for i in batch]) for batch in batches]
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=2,
                        multiprocessing_context=context)
    for got, want in zip(loader, expected):
        for key in ACTIVITY_KEYS:
            assert torch.equal(got[key], want[key]), key
        assert got[ACTIVITY_SPEAKERS] == want[ACTIVITY_SPEAKERS]


# -- InterferingSpeech: the interferer's speakers are heard too ---------------------------------
def _expected_with_interferer(dataset, i, j, shift):
    """Activity ``[T, S]`` of item ``i`` after item ``j``'s audio lands at sample ``shift``, from the
    planted turns (ACTIVE) by hand: frame t of i is active for a speaker if the speaker is active
    there, or on a frame f of j some of whose 640 samples land in t."""
    a, b = dataset.segment_info(i), dataset.segment_info(j)
    columns = dataset[i]["activity_speakers"]
    planted = {name: _frames(ACTIVE[name]) for name in columns}
    frames_i = range(a["frame_start"], a["frame_end"])
    frames_j = list(range(b["frame_start"], b["frame_end"]))
    out = np.zeros((len(frames_i), len(columns)), dtype=bool)
    for t, frame in enumerate(frames_i):
        for s, name in enumerate(columns):
            heard = [f for f, frame_j in enumerate(frames_j) if planted[name][frame_j]
                     and any(640 * t <= 640 * f + k + shift < 640 * (t + 1) for k in (0, 639))]
            out[t, s] = planted[name][frame] or bool(heard)
    return out


@pytest.mark.parametrize("shift", [0, 640 * 3, 640 * 3 + 100, -(640 * 4 + 7)])
def test_the_interferers_activity_lands_where_its_audio_lands(hand_split, tmp_path, shift):
    dataset = MCoRecDataset(hand_split, activity="labels", cache_dir=tmp_path)
    first = {}
    for k in range(len(dataset)):
        first.setdefault(dataset.segment_info(k)["speaker"], k)
    i, j = first["spk_0"], first["spk_2"]  # frames 2-12 of spk_0; 20-29: spk_2, spk_1 to 23, spk_0 from 25
    keys = dataset.activity_table.with_interferer(dataset.index_row(i), dataset.index_row(j), shift)
    expected = _expected_with_interferer(dataset, i, j, shift)
    assert expected.sum() > dataset[i]["activity"].numpy().sum()  # the interferer adds frames
    np.testing.assert_array_equal(keys["activity"].numpy(), expected)
    stno = keys["stno"].numpy()
    np.testing.assert_array_equal(stno.sum(axis=1), 1.0)
    target, others = expected[:, 0], expected[:, 1:].any(axis=1)
    np.testing.assert_array_equal(stno.argmax(axis=1), target + 2 * others)


def test_interfering_speech_updates_the_activity_of_samples_and_batches(hand_split, tmp_path):
    from mcorec_torch.transforms import Compose, InterferingSpeech

    dataset = MCoRecDataset(hand_split, activity="labels", cache_dir=tmp_path)
    compose = Compose([InterferingSpeech(snr_db=0.0, p=1.0)], seed=4).bind(dataset)
    mixing = compose.transforms[0]
    samples = [dataset[k] for k in range(len(dataset))]
    changed = 0
    for k, sample in enumerate(samples):
        out = compose(sample)
        if torch.equal(out["audio"], sample["audio"]):
            assert torch.equal(out["activity"], sample["activity"])
            continue
        replay = Compose([InterferingSpeech(snr_db=0.0, p=1.0)], seed=4).bind(dataset)
        source = {}
        original = replay.transforms[0]._draw_with_source

        def spy(generator, index, length, original=original):
            drawn = original(generator, index, length)
            source["value"] = drawn[2]
            return drawn
        replay.transforms[0]._draw_with_source = spy
        assert torch.equal(replay(sample)["audio"], out["audio"])
        j, shift = source["value"]
        np.testing.assert_array_equal(out["activity"].numpy(), _expected_with_interferer(dataset, k, j, shift))
        changed += 1
    assert changed >= 3
    batch = collate(samples)
    by_batch = compose.batch(batch)
    one_by_one = collate([compose(s) for s in samples])
    for key in ("activity", "stno"):
        assert torch.equal(by_batch[key], one_by_one[key]), key
    assert torch.equal(batch["activity"], collate(samples)["activity"])  # the input batch is not changed
