"""``MCoRecDataset.describe()``: every figure equals what the index and the labels give,
computed here independently (the VTT files read with a regex, frames by SPEC §2 by hand)."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from mcorec_torch import MCoRecDataset
from mcorec_torch.data.describe import PERCENTILES, duration_histogram, session_overlap

TIMING = re.compile(r"(\d+):(\d\d):(\d\d)\.(\d\d\d) --> (\d+):(\d\d):(\d\d)\.(\d\d\d)")


@pytest.fixture(scope="module")
def dataset(dev_split, tmp_path_factory):
    root, _ = dev_split
    return MCoRecDataset(root, color="gray", cache_dir=tmp_path_factory.mktemp("describe-cache"))


def cue_ms(vtt: Path):
    for match in TIMING.finditer(vtt.read_text(encoding="utf-8")):
        h0, m0, s0, ms0, h1, m1, s1, ms1 = map(int, match.groups())
        yield ((h0 * 60 + m0) * 60 + s0) * 1000 + ms0, ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1


def expected_overlap(session_dir: Path):
    """(speech frames, overlap frames): per speaker, every cue's frames [floor(s/40), ceil(e/40))
    inside the frames of the speaker's central UEM; speech = >= 1 speaker, overlap = >= 2."""
    metadata = json.loads((session_dir / "metadata.json").read_text())
    counts = np.zeros(100_000, dtype=np.int64)
    for speaker, entry in metadata.items():
        uem = entry["central"]["uem"]
        u0, u1 = round(uem["start"] * 1000) // 40, math.ceil(round(uem["end"] * 1000) / 40)
        active = np.zeros_like(counts, dtype=bool)
        for start, end in cue_ms(session_dir / "labels" / f"{speaker}.vtt"):
            if end > start:
                active[max(start // 40, u0): min(math.ceil(end / 40), u1)] = True
        counts += active
    return int((counts >= 1).sum()), int((counts >= 2).sum())


def test_the_figures_equal_the_index(dataset, dev_split):
    root, _ = dev_split
    d = dataset.describe()
    infos = [dataset.segment_info(i) for i in range(len(dataset))]
    frames = np.array([s["frame_end"] - s["frame_start"] for s in infos])
    assert d.segments == len(dataset) == dataset.report().kept
    assert d.frames == frames.sum() and d.hours == pytest.approx(frames.sum() / 25 / 3600)
    assert d.sessions == len({s["session"] for s in infos}) == 2
    assert d.speakers == len({(s["session"], s["speaker"]) for s in infos})
    clusters = {(session.name, int(c)) for session in root.iterdir()
                for spk, c in json.loads((session / "labels" / "speaker_to_cluster.json").read_text()).items()
                if any(s["session"] == session.name and s["speaker"] == spk for s in infos)}
    assert d.conversations == len(clusters)
    for name, percent in PERCENTILES:
        assert d.durations[name] == pytest.approx(np.percentile(frames / 25, percent))
    assert d.durations["max"] == frames.max() / 25
    assert sum(n for _, _, n in d.histogram) == len(dataset)
    for lo, hi, n in d.histogram:
        assert n == sum(lo <= f / 25 < hi for f in frames)
    for row in d.per_speaker:
        mine = frames[[s["session"] == row.session and s["speaker"] == row.speaker for s in infos]]
        assert (row.segments, row.seconds) == (len(mine), pytest.approx(mine.sum() / 25))
    assert sum(r.segments for r in d.per_speaker) == sum(r.segments for r in d.per_session) == len(dataset)
    speech_total = overlap_total = 0
    for row in d.per_session:
        speech, overlap = expected_overlap(root / row.session)
        assert overlap > 0  # the synthetic conversations overlap: the check tells something
        assert (row.speech_seconds, row.overlap_seconds) == (speech / 25, overlap / 25)
        assert row.overlap_ratio == pytest.approx(overlap / speech)
        speech_total, overlap_total = speech_total + speech, overlap_total + overlap
    assert d.overlap_ratio == pytest.approx(overlap_total / speech_total)


def test_a_view_describes_its_own_segments_but_the_whole_sessions_overlap(dataset):
    view = dataset.select(sessions=["session_01"], min_duration=1.0)
    d, whole = view.describe(), dataset.describe()
    assert d.segments == len(view) and d.sessions == 1 and d.frames == view.lengths.sum()
    (row,) = d.per_session
    same = next(r for r in whole.per_session if r.session == "session_01")
    assert row.overlap_ratio == same.overlap_ratio and row.segments < same.segments


def test_as_a_dict_and_as_a_table(dataset):
    d = dataset.describe()
    data = json.loads(json.dumps(d.to_dict()))
    assert data["segments"] == len(dataset) and data["durations"]["p50"] == d.durations["p50"]
    assert data["histogram"][0] == {"from": 0.0, "to": d.histogram[0][1], "segments": d.histogram[0][2]}
    assert [r["session"] for r in data["per_session"]] == ["session_00", "session_01"]
    text = str(d)
    assert f"{len(dataset)} segments" in text and f"{d.sessions} sessions" in text
    assert f"{100 * d.overlap_ratio:.1f}%" in text
    for row in d.per_speaker:
        assert f"{row.session}/{row.speaker}" in text


def write_session(folder: Path, cues):
    """A session folder with only what the overlap needs: metadata.json (UEMs) and the VTTs."""
    (folder / "labels").mkdir(parents=True)
    metadata = {}
    for speaker, (uem, spans) in cues.items():
        metadata[speaker] = {"central": {"video": "central_video.mp4", "uem": {"start": uem[0], "end": uem[1]},
                                         "crops": []}}
        lines = ["WEBVTT", ""]
        for start, end in spans:
            lines += [f"00:00:{start:06.3f} --> 00:00:{end:06.3f}", "word", ""]
        (folder / "labels" / f"{speaker}.vtt").write_text("\n".join(lines))
    (folder / "metadata.json").write_text(json.dumps(metadata))


def test_the_overlap_of_a_hand_built_session(tmp_path):
    # spk_0 speaks frames 0-24; spk_1 frames 24-49 (one frame of overlap: 24, [0.96, 1.0) s; its
    # cue ends on a frame boundary, 2.000 s, so frame 50 is not its); spk_2's UEM [1.5, 3.0] s
    # (frames 37-74) cuts its first cue, and its second cue lies outside the UEM
    write_session(tmp_path / "s", {
        "spk_0": ((0.0, 10.0), [(0.0, 0.999)]),
        "spk_1": ((0.0, 10.0), [(0.961, 2.0)]),
        "spk_2": ((1.5, 3.0), [(1.0, 4.0), (5.0, 6.0)]),
    })
    speech, overlap = session_overlap(str(tmp_path / "s"), "labels")
    # speech: frames 0-74 (spk_2 clipped to its UEM frames [37, 75)); overlap: 24, and 37-49
    assert (speech, overlap) == (75 / 25, 14 / 25)
    assert session_overlap(str(tmp_path / "nolabels"), "labels") == (None, None)


def test_the_histogram_bins():
    assert duration_histogram(np.array([])) == []
    assert duration_histogram(np.array([0.1, 0.5, 0.49, 5.9])) == [
        (0.0, 0.5, 2), (0.5, 1.0, 1), (1.0, 1.5, 0), (1.5, 2.0, 0), (2.0, 2.5, 0), (2.5, 3.0, 0), (3.0, 3.5, 0),
        (3.5, 4.0, 0), (4.0, 4.5, 0), (4.5, 5.0, 0), (5.0, 5.5, 0), (5.5, 6.0, 1)]
    assert [b[:2] for b in duration_histogram(np.array([1.0, 12.0]))][-1] == (12.0, 14.0)
