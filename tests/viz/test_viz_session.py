"""``session_timeline``: the picture of a session read back pixel by pixel against the synthetic
plan (UEMs, tracks, cues) and the index built from the files (kept cues, ASD chunks)."""
import shutil

import pytest

pytest.importorskip("matplotlib")

from conftest import read_png, region_colour, rgb  # noqa: E402
from mcorec_torch import MCoRecDataset  # noqa: E402
from mcorec_torch.checks import OptionError  # noqa: E402
from mcorec_torch.errors import MCoRecDataError  # noqa: E402
from mcorec_torch.hypotheses import write_hypotheses  # noqa: E402
from mcorec_torch.index.options import DatasetOptions  # noqa: E402
from mcorec_torch.timeline import FPS, in_uem  # noqa: E402
from mcorec_torch.viz.session import (ASD_CHUNK, DROPPED, GAP, TRACK, session_timeline)  # noqa: E402
from mcorec_torch.viz._figure import conversation_colour  # noqa: E402

SESSION = "session_00"


@pytest.fixture(scope="module")
def drawn(dev_split, viz_cache, tmp_path_factory):
    root, specs = dev_split
    path = tmp_path_factory.mktemp("timeline") / "timeline.png"
    picture = session_timeline(root / SESSION, path, cache_dir=viz_cache)
    return root, specs[SESSION], picture, read_png(path)


def centre(box):
    return (box.y0 + box.y1) / 2


def test_every_reference_cue_is_drawn_in_its_outcomes_colour_at_its_time(drawn, viz_cache):
    root, spec, picture, image = drawn
    dataset = MCoRecDataset(root, cache_dir=viz_cache)
    kept = {dataset.segment_id(i) for i in range(len(dataset))}
    outcomes = {}
    for speaker in spec.speakers:
        lane = next(lane for lane in picture.data.lanes if lane.speaker == speaker.name)
        assert [(c.start, c.end) for c in lane.cues] == [(c.start_ms / 1000, c.end_ms / 1000) for c in speaker.cues]
        y = centre(picture.rows[(speaker.name, "reference")])
        for cue, mark in zip(speaker.cues, lane.cues):
            f0, f1 = cue.start_ms // 40, -(-cue.end_ms // 40)
            if not in_uem(cue.start_ms, cue.end_ms, speaker.uem_start_ms, speaker.uem_end_ms):
                expected, colour = "outside_uem", DROPPED["outside_uem"]
            elif f"{SESSION}/{speaker.name}/{f0:07d}-{f1:07d}" in kept:
                expected, colour = "kept", conversation_colour(speaker.conversation)
            else:
                expected, colour = mark.outcome, DROPPED[mark.outcome]
                assert expected in ("no_video", "empty_text")
            assert mark.outcome == expected, cue
            outcomes[expected] = outcomes.get(expected, 0) + 1
            left, right = picture.axis.column(cue.start_ms / 1000), picture.axis.column(cue.end_ms / 1000)
            if right - left > 8:
                assert region_colour(image, (left + right) / 2, y, 4) == rgb(colour), (speaker.name, cue)
    assert set(outcomes) == {"kept", "outside_uem", "no_video", "empty_text"}
    report = dataset.report().by_session()[("dev", SESSION)]
    assert outcomes == {k: report[k] for k in outcomes}


def test_tracks_and_their_gaps_are_drawn_where_the_plan_puts_them(drawn):
    _, spec, picture, image = drawn
    for speaker in spec.speakers:
        y = centre(picture.rows[(speaker.name, "tracks")])
        tracks = sorted(speaker.tracks, key=lambda t: t.frame_start)
        for track in tracks:
            middle = (track.frame_start + track.frame_stop) / 2 / FPS
            assert region_colour(image, picture.axis.column(middle), y) == rgb(TRACK)
        for before, after in zip(tracks, tracks[1:]):
            if after.frame_start - before.frame_stop >= 10:  # a gap (20-37 frames in the plan)
                middle = (before.frame_stop + after.frame_start) / 2 / FPS
                assert region_colour(image, picture.axis.column(middle), y) == rgb(GAP), speaker.name


def test_the_asd_chunks_are_those_of_segments_asd(drawn, viz_cache):
    root, _, picture, image = drawn
    chunks = MCoRecDataset(root, segments="asd", cache_dir=viz_cache)
    by_speaker = {}
    for i in range(len(chunks)):
        session, speaker, frames = chunks.segment_id(i).split("/")
        if session == SESSION:
            f0, f1 = (int(v) for v in frames.split("-"))
            by_speaker.setdefault(speaker, []).append((f0 / FPS, f1 / FPS))
    assert by_speaker
    for lane in picture.data.lanes:
        assert sorted(lane.asd_chunks) == sorted(by_speaker.get(lane.speaker, []))
        box = picture.rows[(lane.speaker, "asd")]
        y = box.y1 - 3  # the bottom of the row: below the score curve's usual range
        for start, end in lane.asd_chunks:
            assert region_colour(image, picture.axis.column((start + end) / 2), y, 1) == rgb(ASD_CHUNK)
        assert lane.asd and all(len(frames) == len(scores) for frames, scores in lane.asd)


def test_the_picture_is_deterministic(drawn, viz_cache, tmp_path):
    root, _, picture, _ = drawn
    again = session_timeline(root / SESSION, tmp_path / "again.png", cache_dir=viz_cache)
    assert again.path.read_bytes() == picture.path.read_bytes()
    assert again.size == picture.size == (1600, 70 + 4 * 126 + 118)
    assert 0 < picture.seconds < 60


def test_hypotheses_are_drawn_beside_the_references_in_their_conversations_colour(dev_copy, viz_cache, tmp_path):
    session = dev_copy / SESSION
    write_hypotheses(session, {"spk_0": [(5.0, 7.0, "hello there")], "spk_1": [(12.0, 13.5, "yes")]},
                     clusters={"spk_0": 3, "spk_1": 0, "spk_2": 0, "spk_3": 0})
    picture = session_timeline(session, tmp_path / "t.png", cache_dir=viz_cache)
    image = read_png(picture.path)
    assert picture.data.hyp_dir == session / "output" and not any("hypotheses" in n for n in picture.data.notes)
    for speaker, (start, end), conversation in (("spk_0", (5.0, 7.0), 3), ("spk_1", (12.0, 13.5), 0)):
        y = centre(picture.rows[(speaker, "hypothesis")])
        colour = region_colour(image, picture.axis.column((start + end) / 2), y)
        assert colour == rgb(conversation_colour(conversation))
        assert region_colour(image, picture.axis.column(end + 1.0), y) != colour


def test_missing_pieces_are_said_not_failed(dev_split_without_central, dev_copy, viz_cache, tmp_path):
    root, _ = dev_split_without_central
    picture = session_timeline(root / SESSION, tmp_path / "a.png", cache_dir=viz_cache)
    assert picture.data.session_frames is None
    assert any(note.startswith("no central video") for note in picture.data.notes)
    assert any(note.startswith("no hypotheses") for note in picture.data.notes)
    asd = next((dev_copy / SESSION / "speakers" / "spk_1" / "central_crops").glob("track_00_asd.json"))
    asd.unlink()
    for labels in dev_copy.glob("*/labels"):  # no labels in the whole split (an eval split): no segment
        shutil.rmtree(labels)
    picture = session_timeline(dev_copy / SESSION, tmp_path / "b.png", cache_dir=viz_cache)
    lane = next(lane for lane in picture.data.lanes if lane.speaker == "spk_1")
    assert lane.notes == ["track_00: no ASD file (speakers/spk_1/central_crops/track_00_asd.json is missing)"]
    assert all(lane.cues is None for lane in picture.data.lanes)
    assert "no labels/ folder: no reference cues" in picture.data.notes


def test_bad_input_names_what_is_wrong(dev_split, viz_cache, tmp_path):
    root, _ = dev_split
    with pytest.raises(MCoRecDataError, match="not a session folder"):
        session_timeline(root, tmp_path / "x.png", cache_dir=viz_cache)
    with pytest.raises(MCoRecDataError, match="hypothesis folder does not exist"):
        session_timeline(root / SESSION, tmp_path / "x.png", hyp_dir=tmp_path / "nope", cache_dir=viz_cache)
    with pytest.raises(OptionError, match="view must be 'central'"):
        session_timeline(root / SESSION, tmp_path / "x.png", options=DatasetOptions(view="ego"), cache_dir=viz_cache)
    assert not (tmp_path / "x.png").exists()
