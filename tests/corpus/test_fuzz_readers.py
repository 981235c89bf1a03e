"""Random corruption of metadata, track json, bbox json, speaker_to_cluster.json and VTT gives
the library's error or a parse, never another exception type (SPEC §10), hypothesis-driven."""
import json
import shutil
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcorec_torch.corpus.metadata import load_metadata, read_bbox, read_speaker_to_cluster, read_track_json
from mcorec_torch.corpus.vtt import read_vtt
from mcorec_torch.errors import MCoRecDataError

#: outcomes per reader, over the whole run (printed at the end of the module's last test)
TALLY = Counter()

READERS = {
    "metadata.json": lambda p: load_metadata(p.parent),
    "metadata.json (check's collecting mode)": lambda p: load_metadata(p.parent, []),
    "track_00.json": read_track_json,
    "track_00_bbox.json": read_bbox,
    "speaker_to_cluster.json": read_speaker_to_cluster,
    "spk_0.vtt": read_vtt,
}
SOURCES = {
    "metadata.json": "metadata.json", "metadata.json (check's collecting mode)": "metadata.json",
    "track_00.json": "speakers/spk_0/central_crops/track_00.json",
    "track_00_bbox.json": "speakers/spk_0/central_crops/track_00_bbox.json",
    "speaker_to_cluster.json": "labels/speaker_to_cluster.json", "spk_0.vtt": "labels/spk_0.vtt",
}
# byte edits: (position fraction, kind, payload)
EDITS = st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["replace", "insert", "delete", "truncate"]),
                           st.binary(min_size=1, max_size=8)), min_size=1, max_size=6)
# JSON values that are not what the key wants
ODD = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" + "0" * 400, "true", "null", '"x"',
                       "[]", "{}", "-1", "1.5", '"../../x"', '"/abs"', '"\\u0000"', "[" * 50 + "]" * 50])


@pytest.fixture(scope="module")
def session(dev_split, tmp_path_factory):
    root, _ = dev_split
    return root / "session_00"


def outcome(name, path):
    try:
        READERS[name](path)
    except MCoRecDataError:
        TALLY[(name, "MCoRecDataError")] += 1
        return
    TALLY[(name, "parsed")] += 1


def apply(data: bytes, edits) -> bytes:
    data = bytearray(data)
    for where, kind, payload in edits:
        at = int(where * len(data))
        if kind == "replace":
            data[at: at + len(payload)] = payload
        elif kind == "insert":
            data[at:at] = payload
        elif kind == "delete":
            del data[at: at + len(payload)]
        else:
            del data[at:]
    return bytes(data)


def staged(session, tmp_path, name):
    target = tmp_path / "s"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    path = target / SOURCES[name].split("/")[-1]
    if name.startswith("metadata"):
        path = target / "metadata.json"
    return path, (session / SOURCES[name]).read_bytes()


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(name=st.sampled_from(sorted(READERS)), edits=EDITS)
def test_random_byte_corruption_gives_the_library_error(session, tmp_path, name, edits):
    path, data = staged(session, tmp_path, name)
    path.write_bytes(apply(data, edits))
    outcome(name, path)


@SETTINGS
@given(name=st.sampled_from([n for n in READERS if not n.endswith("vtt")]), pick=st.integers(0, 10**6), odd=ODD)
def test_odd_json_values_give_the_library_error(session, tmp_path, name, pick, odd):
    """A number, string or container somewhere in the document replaced by a value of the wrong kind."""
    path, data = staged(session, tmp_path, name)
    text = data.decode()
    # the k-th JSON scalar (after a ':' or '[' or ',') replaced with ``odd``
    spots = [i + 1 for i, ch in enumerate(text) if ch in ":,["]
    at = spots[pick % len(spots)]
    end = at
    while end < len(text) and text[end] not in ",}]":
        end += 1
    path.write_text(text[:at] + " " + odd + text[end:])
    outcome(name, path)


@pytest.mark.parametrize("line", ["00:00:01.000 -> 00:00:02.000", "00:00:01.000 => 00:00:02.000",
                                  "00:00:01.000 \u2192 00:00:02.000", "00:00:01,000 --> 00:00:02,000",
                                  "00:00:01.000 --> 00:00:61.000", "00:00:01.000 00:00:02.000"])
def test_every_vtt_timing_that_webvtt_drops_is_an_error(tmp_path, line):
    path = tmp_path / "spk_0.vtt"
    path.write_text(f"WEBVTT\n\n00:00:00.100 --> 00:00:00.500\nok\n\n{line}\ndropped by webvtt-py\n")
    with pytest.raises(MCoRecDataError) as info:
        read_vtt(path)
    assert info.value.line == 6
    errors = []
    assert [c.line for c in read_vtt(path, errors)] == [3] and [e.line for e in errors] == [6]


def test_zz_tally(capsys):
    """Every corruption above ended in a parse or MCoRecDataError (any other type failed its test)."""
    with capsys.disabled():
        total = sum(TALLY.values())
        errors = sum(n for (name, kind), n in TALLY.items() if kind == "MCoRecDataError")
        print(f"\nfuzz: {total} corruptions, {errors} MCoRecDataError, {total - errors} parsed, 0 other exceptions")
    assert TALLY
    json.dumps({f"{k[0]}|{k[1]}": v for k, v in TALLY.items()})
