"""Parsing of VTT, metadata.json and track json, and their errors (SPEC §1, §10)."""
import json

import pytest

from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.corpus.metadata import load_metadata, read_speaker_to_cluster, read_track_json
from mcorec_torch.corpus.vtt import read_vtt


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_vtt_millisecond_times_multiline_and_voice_tags(tmp_path):
    path = write(tmp_path / "spk_0.vtt", "WEBVTT\n\n00:00:01.999 --> 00:00:03.001\nHello there,\nfriend\n\n"
                                         "1\n01:02:03.456 --> 01:02:04.000 align:start\n<v Bob>Um yes</v>\n")
    cues = read_vtt(path)
    assert [(c.start_ms, c.end_ms) for c in cues] == [(1999, 3001), (3723456, 3724000)]
    assert cues[0].text == "Hello there,\nfriend"
    assert cues[1].text == "Um yes"
    assert [c.line for c in cues] == [3, 8]
    assert cues[0].start == pytest.approx(1.999)


def test_vtt_end_before_start_is_returned_for_the_caller_to_count(tmp_path):
    path = write(tmp_path / "a.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:05.000\nzero\n\n00:00:06.000 --> 00:00:05.500\nneg\n")
    assert [(c.start_ms, c.end_ms) for c in read_vtt(path)] == [(5000, 5000), (6000, 5500)]


@pytest.mark.parametrize("body,line", [
    ("00:00:01,000 --> 00:00:02.000\ncomma\n", 3),
    # webvtt-py drops a timing line with another arrow silently: it is an error on its line
    ("00:00:01.000 -> 00:00:02.000\nx\n\n00:00:01.000 --> 00:00:61.000\nsixty-one\n", 3),
    ("00:00:00.500 --> 00:00:00.900\nok\n\n00:00:01.000 --> 00:00:61.000\nsixty-one\n", 6),
    ("00:00:01.000 => 00:00:02.000\nx\n", 3),
    ("00:00:01.000 \u2192 00:00:02.000\nx\n", 3),
    ("00:00:01.000 \u2014> 00:00:02.000\nx\n", 3),
    ("00:00:01.000 - 00:00:02.000\nx\n", 3),
    ("00:00:01.000 00:00:02.000\nx\n", 3),
    ("01.000 --> 02.000\nx\n", 3),
    ("00:00:01.000 --> \nmissing end\n", 3),
])
def test_vtt_malformed_timing_names_file_and_line(tmp_path, body, line):
    path = write(tmp_path / "spk_3.vtt", "WEBVTT\n\n" + body)
    with pytest.raises(MCoRecDataError) as err:
        read_vtt(path)
    assert err.value.line == line
    assert "spk_3.vtt" in str(err.value) and f":{line}" in str(err.value)


def test_vtt_without_header_or_missing(tmp_path):
    path = write(tmp_path / "spk_1.vtt", "00:00:01.000 --> 00:00:02.000\nhi\n")
    with pytest.raises(MCoRecDataError, match="spk_1.vtt.*not a WebVTT"):
        read_vtt(path)
    with pytest.raises(MCoRecDataError, match="nope.vtt.*does not exist"):
        read_vtt(tmp_path / "nope.vtt")


def metadata(**overrides):
    doc = {"spk_0": {"central": {"video": "central_video.mp4", "uem": {"start": 1.5, "end": 20.25},
                                 "crops": [{"video": "a.mp4", "crop_metadata": "a.json", "bbox": "a_bbox.json",
                                            "new_field": 3}]},
                     "camera": {"yaw": 10}}}
    doc.update(overrides)
    return doc


def test_metadata_parses_and_keeps_unknown_keys(tmp_path):
    write(tmp_path / "s" / "metadata.json", json.dumps(metadata()))
    meta = load_metadata(tmp_path / "s")
    spk = meta.speakers["spk_0"]
    assert spk.central.uem_ms == (1500, 20250)
    assert spk.central.crops[0].extra == {"new_field": 3}
    assert spk.extra == {"camera": {"yaw": 10}}
    assert spk.ego is None and spk.central.crops[0].lip is None
    assert spk.central.crops[0].media("face") == "a.mp4" and spk.central.crops[0].media("lip") is None


@pytest.mark.parametrize("doc,key", [
    ({"spk_0": {"central": {"uem": {"start": 1.0}, "crops": []}}}, "spk_0.central.uem.end"),
    ({"spk_0": {"central": {"uem": {"start": "x", "end": 2}, "crops": []}}}, "spk_0.central.uem.start"),
    ({"spk_0": {"central": {"uem": {"start": 1, "end": 2}, "crops": [{"video": "a.mp4"}]}}},
     "spk_0.central.crops[0].crop_metadata"),
    ({"spk_0": {"central": {"uem": {"start": 1, "end": 2}, "crops": {"video": "a"}}}}, "spk_0.central.crops"),
    ({"spk_0": []}, "spk_0"),
    ({"spk_0": {"other": 1}}, "spk_0"),
])
def test_metadata_bad_shape_names_file_and_key(tmp_path, doc, key):
    write(tmp_path / "s" / "metadata.json", json.dumps(doc))
    with pytest.raises(MCoRecDataError) as err:
        load_metadata(tmp_path / "s")
    assert err.value.key == key
    assert "metadata.json" in str(err.value)


def test_metadata_missing_or_not_json(tmp_path):
    with pytest.raises(MCoRecDataError, match="metadata.json.*does not exist"):
        load_metadata(tmp_path)
    write(tmp_path / "metadata.json", '{"spk_0": ')
    with pytest.raises(MCoRecDataError, match="metadata.json:1.*invalid JSON"):
        load_metadata(tmp_path)


def test_track_json_and_clusters(tmp_path):
    path = write(tmp_path / "t.json", json.dumps({"frame_start": 10, "frame_end": 59, "start_time": 0.4,
                                                  "end_time": 2.36, "duration": 1.96}))
    timing = read_track_json(path)
    assert (timing.frame_start, timing.frame_end, timing.duration) == (10, 59, 1.96)
    write(path, json.dumps({"frame_start": 10.5, "frame_end": 59}))
    with pytest.raises(MCoRecDataError) as err:
        read_track_json(path)
    assert err.value.key == "frame_start"
    clusters = write(tmp_path / "c.json", json.dumps({"spk_0": 0, "spk_1": 1}))
    assert read_speaker_to_cluster(clusters) == {"spk_0": 0, "spk_1": 1}
    write(clusters, json.dumps({"spk_0": "a"}))
    with pytest.raises(MCoRecDataError, match="c.json: key 'spk_0'"):
        read_speaker_to_cluster(clusters)
