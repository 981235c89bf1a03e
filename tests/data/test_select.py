"""``MCoRecDataset.select`` and the held-out splits: views that share the index, count what they
leave out in ``report()``, and work with the samplers (DDP ranks included)."""
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
from torch.utils.data import DataLoader

from mcorec_torch import BucketBatchSampler, MCoRecDataset, collate
from mcorec_torch.checks import OptionError
from mcorec_torch.index.report import KEPT, NOT_SELECTED, SKIPPED, SPLIT_OFF, NoSegmentsError
from mcorec_torch.index.select import held_out_mask
from mcorec_torch.transforms import Compose, InterferingSpeech


@pytest.fixture(scope="module")
def dataset(dev_split, tmp_path_factory):
    root, _ = dev_split
    return MCoRecDataset(root, color="gray", cache_dir=tmp_path_factory.mktemp("select-cache"))


def infos(ds):
    return [ds.segment_info(i) for i in range(len(ds))]


def ids(ds):
    return [ds.segment_id(i) for i in range(len(ds))]


def test_a_view_shares_the_index_reader_and_texts_and_rebuilds_nothing(dataset, monkeypatch):
    import mcorec_torch.data.dataset as module

    monkeypatch.setattr(module, "build_index", lambda *a, **k: pytest.fail("select rebuilt the index"))
    view = dataset.select(sessions=["session_01"])
    assert view.index is dataset.index and view.reader is dataset.reader and view.options is dataset.options
    assert np.shares_memory(view._text_bytes, dataset._text_bytes)
    assert 0 < len(view) < len(dataset)
    assert np.array_equal(view.lengths, [dataset.num_frames(i) for i in range(len(dataset))
                                         if dataset.segment_info(i)["session"] == "session_01"])


def test_each_criterion_keeps_exactly_the_segments_it_names(dataset):
    every = infos(dataset)
    first = every[0]
    speaker = f"{first['session']}/{first['speaker']}"
    cases = [
        (dict(sessions=["session_00"]), lambda s: s["session"] == "session_00"),
        (dict(speakers=[speaker]), lambda s: f"{s['session']}/{s['speaker']}" == speaker),
        (dict(conversations=[1]), lambda s: s["conversation"] == 1),
        (dict(conversations=["session_01/0"]), lambda s: s["session"] == "session_01" and s["conversation"] == 0),
        (dict(min_duration=1.0), lambda s: round((s["end"] - s["start"]) * 1000) >= 1000),
        (dict(max_duration=1.0), lambda s: round((s["end"] - s["start"]) * 1000) <= 1000),
        (dict(where=lambda s: "A" in s["text"]), lambda s: "A" in s["text"]),
        (dict(sessions=["session_00"], min_duration=0.8, max_duration=2.5),
         lambda s: s["session"] == "session_00" and 800 <= round((s["end"] - s["start"]) * 1000) <= 2500),
    ]
    for criteria, expected in cases:
        want = [s["id"] for s in every if expected(s)]
        assert want and len(want) < len(every), criteria  # the case tells something
        view = dataset.select(**criteria)
        assert ids(view) == want, criteria
        assert [view.text(i) for i in range(len(view))] == [s["text"] for s in every if expected(s)]


def test_samples_of_a_view_are_the_selected_segments(dataset):
    view = dataset.select(sessions=["session_01"], min_duration=0.5)
    by_id = {s["id"]: s for s in infos(dataset)}
    for i in range(len(view)):
        sample = view[i]
        assert sample["id"] == view.segment_id(i) and sample["index"] == i
        assert sample["text"] == by_id[sample["id"]]["text"]
        assert sample["video"].shape[0] == view.num_frames(i) == view.lengths[i]


def test_chained_selects_equal_one_select_and_count_every_segment(dataset):
    chained = dataset.select(sessions=["session_00"]).select(min_duration=0.8)
    once = dataset.select(sessions=["session_00"], min_duration=0.8)
    assert ids(chained) == ids(once)
    base, report = dataset.report(), chained.report()
    assert report.kept == len(chained)
    assert report.total()[NOT_SELECTED] == len(dataset) - len(chained)
    for key, counter in base.by_speaker().items():  # per speaker: kept + not_selected == kept before
        view_counter = report.by_speaker()[key]
        assert view_counter[KEPT] + view_counter[NOT_SELECTED] == counter[KEPT]
        assert report.cues(view_counter) == base.cues(counter)
    assert dataset.report().total()[NOT_SELECTED] == 0  # the dataset's own report is untouched


def test_a_bucket_sampler_on_two_ranks_gives_each_selected_segment_once(dataset):
    view = dataset.select(max_duration=2.0)
    if len(view) % 2:  # an even count: one segment a batch and no padding batch on either rank
        last = view.segment_id(len(view) - 1)
        view = view.select(where=lambda s: s["id"] != last)
    seen = []
    for rank in (0, 1):
        sampler = BucketBatchSampler(view.lengths, max_frames=10_000, max_batch_size=1, seed=3, num_replicas=2,
                                     rank=rank)
        sampler.set_epoch(2)
        seen += [view.segment_id(i) for batch in sampler for i in batch]
    assert Counter(seen) == Counter(ids(view))
    assert set(seen) <= set(ids(dataset.select(max_duration=2.0)))


def test_a_dataloader_over_a_view_yields_its_segments(dataset):
    view = dataset.select(sessions=["session_01"])
    sampler = BucketBatchSampler(view.lengths, max_frames=300, seed=0, num_replicas=2, rank=1, drop_last=False)
    other = BucketBatchSampler(view.lengths, max_frames=300, seed=0, num_replicas=2, rank=0, drop_last=False)
    got = [i for batch in DataLoader(view, batch_sampler=sampler, collate_fn=collate, num_workers=1) for i in batch["id"]]
    wanted = [view.segment_id(i) for batch in sampler for i in batch]
    assert got == wanted
    assert set(got) | {view.segment_id(i) for batch in other for i in batch} == set(ids(view))


def test_skip_counts_are_per_view(dev_split, tmp_path):
    root, _ = dev_split
    ds = MCoRecDataset(root, color="gray", on_error="skip", cache_dir=tmp_path)
    view = ds.select(sessions=["session_01"])
    view.load_failed(0, RuntimeError("planted"))
    assert view.report().total()[SKIPPED] == 1 and ds.report().total()[SKIPPED] == 0
    info = view.segment_info(0)
    assert view.report().by_speaker()[("dev", "session_01", info["speaker"])][SKIPPED] == 1


def test_an_empty_view_is_an_error_unless_allow_empty(dataset, dev_split, tmp_path):
    with pytest.raises(NoSegmentsError) as raised:
        dataset.select(min_duration=1000)
    assert raised.value.option == "select" and "min_duration=1000" in str(raised.value)
    assert NOT_SELECTED in str(raised.value)  # the drop table is shown
    empty = MCoRecDataset(dev_split[0], color="gray", allow_empty=True, cache_dir=tmp_path).select(min_duration=1000)
    assert len(empty) == 0 and empty.report().kept == 0 and empty.report().total()[NOT_SELECTED] == len(dataset)


@pytest.mark.parametrize("criteria,option,words", [
    (dict(sessions=["sesion_01"]), "sessions", "did you mean 'session_01'"),
    (dict(speakers=["spk_0"]), "speakers", "SESSION/SPEAKER"),
    (dict(speakers=["session_01/spk_9"]), "speakers", "session 'session_01' has no speaker 'spk_9'"),
    (dict(speakers=["session_7/spk_0"]), "speakers", "no session 'session_7'"),
    (dict(conversations=[9]), "conversations", "no session has conversation 9"),
    (dict(conversations=["session_00/x"]), "conversations", "SESSION/ID"),
    (dict(min_duration=-1), "min_duration", ">= 0 seconds"),
    (dict(min_duration=2.0, max_duration=1.0), "max_duration", "max_duration must be >= min_duration"),
    (dict(where="session_00"), "where", "callable"),
    (dict(where=lambda s: None), "where", "must return True or False, got None"),
])
def test_bad_criteria_are_option_errors_naming_them(dataset, criteria, option, words):
    with pytest.raises(OptionError) as raised:
        dataset.select(**criteria)
    assert raised.value.option == option and words in str(raised.value)


def test_a_bound_transform_is_bound_to_the_view(dev_split, tmp_path):
    root, _ = dev_split
    mixing = InterferingSpeech(p=1.0)
    ds = MCoRecDataset(root, color="gray", cache_dir=tmp_path, transform=Compose([mixing]))
    view = ds.select(sessions=["session_01"])
    copied = view.transform.transforms[0]
    assert copied is not mixing and copied.dataset is view and mixing.dataset is ds
    sessions = view.segment_session
    for i in range(len(view)):  # interferers come from the view, of the sample's own session
        assert all(sessions[j] == sessions[i] for j in copied.candidates(i))


# -- held-out splits -------------------------------------------------------------------


def test_split_by_session_shares_no_session_and_counts_the_other_part(dataset):
    rest, held = dataset.split_by_session(0.4, seed=0)
    assert set(rest.segment_session).isdisjoint(held.segment_session)
    assert sorted(ids(rest) + ids(held)) == sorted(ids(dataset))
    assert len(rest) and len(held)
    assert rest.report().total()[SPLIT_OFF] == len(held) and held.report().total()[SPLIT_OFF] == len(rest)
    again = dataset.split_by_session(0.4, seed=0)
    assert (ids(again[0]), ids(again[1])) == (ids(rest), ids(held))


def test_split_by_speaker_shares_no_speaker(dataset):
    rest, held = dataset.split_by_speaker(0.3, seed=5)
    assert set(rest.segment_speaker).isdisjoint(held.segment_speaker)
    assert len(rest) + len(held) == len(dataset) and len(held) > 0


def test_a_split_needs_two_sessions(dataset):
    with pytest.raises(OptionError) as raised:
        dataset.select(sessions=["session_00"]).split_by_session(0.5)
    assert raised.value.option == "fraction" and "at least 2 sessions" in str(raised.value)
    for fraction in (0, 1, 1.5, float("nan")):
        with pytest.raises(OptionError, match="fraction"):
            dataset.split_by_session(fraction)


def fake_index(sizes, order=None):
    """An index-like object of sessions ``s<k>`` with ``sizes[k]`` segments (one speaker each)."""
    order = list(range(len(sizes))) if order is None else order
    sessions = [SimpleNamespace(name=f"s{k:02d}", split="dev") for k in order]
    speakers = [SimpleNamespace(session=j, name="spk_0") for j in range(len(order))]
    speaker = np.concatenate([np.full(sizes[k], j) for j, k in enumerate(order)]).astype(np.int32)
    return SimpleNamespace(sessions=sessions, speakers=speakers, speaker=speaker)


@pytest.mark.parametrize("seed", range(20))
def test_held_out_sessions_are_deterministic_near_the_fraction_and_never_empty(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 40, size=int(rng.integers(2, 30))).tolist()
    fraction = float(rng.uniform(0.02, 0.98))
    index = fake_index(sizes)
    rows = np.arange(len(index.speaker))
    held = held_out_mask(index, rows, "session", fraction, seed)
    assert 0 < held.sum() < len(rows)
    held_sessions = {index.speakers[s].session for s in index.speaker[held]}
    assert held_sessions.isdisjoint({index.speakers[s].session for s in index.speaker[~held]})
    # adding or removing the next session of the shuffle would not come closer (greedy rule)
    if 1 < len(held_sessions) < len(sizes) - 1:
        assert abs(held.sum() - fraction * len(rows)) <= max(sizes)
    # the same names in another root order give the same held-out sessions
    reordered = fake_index(sizes, order=list(reversed(range(len(sizes)))))
    held_again = held_out_mask(reordered, rows, "session", fraction, seed)
    names = {index.sessions[index.speakers[s].session].name for s in index.speaker[held]}
    assert names == {reordered.sessions[reordered.speakers[s].session].name for s in reordered.speaker[held_again]}
    assert np.array_equal(held, held_out_mask(index, rows, "session", fraction, seed))
