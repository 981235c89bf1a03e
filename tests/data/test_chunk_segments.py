"""Segments without labels (SPEC §12): ASD chunks, windows and time ranges on a synthetic
eval split (no labels/), frame-exact with 640*T audio, counted per session and speaker."""
import logging

import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, collate, synthetic
from mcorec_torch.corpus.asd_scores import read_asd_scores
from mcorec_torch.corpus.vtt import write_vtt
from mcorec_torch.data.chunk_samples import chunk_counts
from mcorec_torch.index.asd_chunks import asd_chunks, chunk_frames, chunking_parameters
from mcorec_torch.qa.verify import check_sample
from mcorec_torch.timeline import SAMPLES_PER_FRAME, cue_frames


@pytest.fixture(scope="module")
def eval_split(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunks") / "eval"
    specs = synthetic.make_split(root, "eval", num_sessions=1, seed=3)
    return root, {s.name: s for s in specs}


def aligned(ds, specs):
    problems = []
    for i in range(len(ds)):
        s = ds[i]
        assert "text" not in s and "tokens" not in s
        f0, f1 = s["frame_start"], s["frame_end"]
        assert s["id"] == f"{s['session']}/{s['speaker']}/{f0:07d}-{f1:07d}"
        assert (s["start"], s["end"]) == (f0 / 25, f1 / 25)
        assert len(s["audio"]) == SAMPLES_PER_FRAME * (f1 - f0) == SAMPLES_PER_FRAME * len(s["video"])
        reference = synthetic.central_audio(specs[s["session"]], f0 * SAMPLES_PER_FRAME, f1 * SAMPLES_PER_FRAME)
        problems += check_sample(s, synthetic.decode_frame_index, reference)
    return problems


@pytest.mark.parametrize("exact", [True, False])
def test_asd_chunks_on_a_split_without_labels(eval_split, tmp_path, exact):
    root, specs = eval_split
    assert not list(root.glob("*/labels"))
    ds = MCoRecDataset(root, segments="asd", asd_exact_baseline=exact, cache_dir=tmp_path)
    assert len(ds) > 5 and aligned(ds, specs) == []
    # the chunks are the planner's, track by track, and they follow the generator's speech
    spec = specs["session_00"]
    expected = []
    for spk in spec.speakers:
        for track in spk.tracks:
            path = root / "session_00" / f"speakers/{spk.name}/central_crops/track_{track.index:02d}_asd.json"
            frames, scores = read_asd_scores(path)
            expected += [(spk.name, *chunk_frames(c, frames[0], track.frame_start, exact))
                         for c in asd_chunks(frames, scores, chunking_parameters(exact))]
    got = sorted((ds[i]["speaker"], ds[i]["frame_start"], ds[i]["frame_end"]) for i in range(len(ds)))
    assert got == sorted(expected)
    cues = {spk.name: [cue_frames(c.start_ms, c.end_ms) for c in spk.cues] for spk in spec.speakers}
    for name, f0, f1 in got:  # every chunk lies in (or bridges) the speaker's own cues
        overlap = sum(max(0, min(f1, b) - max(f0, a)) for a, b in cues[name])
        assert overlap >= 0.8 * (f1 - f0), (name, f0, f1)
    counts = chunk_counts(ds.report())
    assert set(counts["session_00"]) == {s.name for s in spec.speakers}
    assert sum(counts["session_00"].values()) == len(ds)
    batch = collate([ds[0], ds[1]])
    assert "text" not in batch and batch["track"] == [ds[0]["track"], ds[1]["track"]]


def test_windows_and_ranges(eval_split, tmp_path):
    root, specs = eval_split
    spec = specs["session_00"]
    ds = MCoRecDataset(root, segments="windows", chunk_size=4.0, cache_dir=tmp_path)
    assert aligned(ds, specs) == []
    expected = 0
    for spk in spec.speakers:
        for track in spk.tracks:
            expected += -(-track.num_frames // 100)
    assert len(ds) == expected and max(ds.lengths) <= 100
    ranges = tmp_path / "ranges"
    for spk in spec.speakers[:2]:
        write_vtt(root / "session_00" / "my_ranges" / f"{spk.name}.vtt", [(1000, 2345, "x"), (3000, 2000, "bad")])
    ds = MCoRecDataset(root, segments="ranges", label_dir="my_ranges", cache_dir=ranges)
    assert sorted((ds[i]["speaker"], ds[i]["frame_start"], ds[i]["frame_end"], ds[i]["end"]) for i in range(len(ds))) \
        == [(spec.speakers[k].name, 25, 59, 2.345) for k in range(2)]
    assert ds.report().total()["bad_cue"] == 2


def test_max_duration_drops_are_counted_and_warned(eval_split, tmp_path, caplog):
    root, _ = eval_split
    with caplog.at_level(logging.WARNING):
        ds = MCoRecDataset(root, segments="windows", chunk_size=6.0, max_duration=3.0, cache_dir=tmp_path,
                           allow_empty=True)  # every window is longer than 3 s
    total = ds.report().total()
    assert len(ds) == total["kept"] and total["too_long"] > 0
    assert f"{total['too_long']} chunk(s) are not segments" in caplog.text


def test_chunk_sources_read_the_central_view():
    with pytest.raises(ValueError, match="central view"):
        MCoRecDataset("nowhere", segments="asd", view="ego")
