"""The ASD chunk planner against a transcription of the official baseline's ``segment_by_asd``
*with its parameter defaulting*, on thousands of random score sequences: the default
(``asd_exact_baseline=True``) must give the chunks the official inference produces, the
alternative those of the documented parameter table."""
import math

import numpy as np
import pytest

from mcorec_torch.corpus.asd_scores import read_asd_scores
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.index.asd_chunks import (CENTRAL_ASD, CENTRAL_ASD_TABLE, DEFAULT_CHUNK_SIZE, EGO_ASD,
                                           AsdParameters, asd_chunks, chunk_frames, chunking_parameters)

# ---------------------------------------------------------------------------------------------
# The official rule, transcribed (not copied) from github.com/MCoRec/mcorec_baseline at commit
# 33f6f1ca7daed557e798e9375b69b66d44487ff9: src/talking_detector/segmentation.py
# (CENTRAL_ASD_CHUNKING_PARAMETERS, segment_by_asd) and script/inference.py
# (InferenceEngine.chunk_video: segment_by_asd(asd, {"max_chunk_size": max_length}), max_length
# 15). Same steps and the same parameter lookups, including the default of "min_duration_off",
# which upstream reads from the table's "min_duration_on" entry. (CC BY-NC 4.0, MCoRec authors.)
# ---------------------------------------------------------------------------------------------
OFFICIAL_TABLE = {"onset": 1.0, "offset": 0.8, "min_duration_on": 1.0, "min_duration_off": 0.5,
                  "max_chunk_size": 10, "min_chunk_size": 1}


def official_segment_by_asd(asd, parameters=None):
    """Lists of active key frames, one per chunk, as the official function returns them."""
    parameters = {} if parameters is None else parameters
    onset = parameters.get("onset", OFFICIAL_TABLE["onset"])
    offset = parameters.get("offset", OFFICIAL_TABLE["offset"])
    keys = sorted(int(key) for key in asd)
    if not keys:
        return []
    lowest = min(keys)
    on_frames = int(parameters.get("min_duration_on", OFFICIAL_TABLE["min_duration_on"]) * 25)
    off_frames = int(parameters.get("min_duration_off", OFFICIAL_TABLE["min_duration_on"]) * 25)  # sic
    max_frames = int(parameters.get("max_chunk_size", OFFICIAL_TABLE["max_chunk_size"]) * 25)
    min_frames = int(parameters.get("min_chunk_size", OFFICIAL_TABLE["min_chunk_size"]) * 25)
    regions, current, active = [], None, False
    for key in keys:
        score = asd.get(str(key), -1)
        relative = key - lowest
        if not active:
            if score > onset:
                active, current = True, [relative]
        elif score < offset:
            active = False
            if current is not None:
                regions.append(current)
                current = None
        else:
            current.append(relative)
    if current is not None:
        regions.append(current)
    merged = []
    if regions:
        current = regions[0]
        for following in regions[1:]:
            if following[0] - current[-1] - 1 <= off_frames:
                current.extend(following)
            else:
                merged.append(current)
                current = following
        merged.append(current)
    chunks = []
    for region in merged:
        if len(region) < on_frames:
            continue
        if len(region) > max_frames:
            size = math.ceil(len(region) / math.ceil(len(region) / max_frames))
            chunks += [region[i:i + size] for i in range(0, len(region), size)
                       if len(region[i:i + size]) >= min_frames]
        else:
            chunks.append(region)
    return [[frame + lowest for frame in chunk] for chunk in chunks]


def official_inference_chunks(asd, max_length=15):
    """What the official inference's ``chunk_video`` asks for."""
    return official_segment_by_asd(asd, {"max_chunk_size": max_length})


# ---------------------------------------------------------------------------------------------
# Random tracks
# ---------------------------------------------------------------------------------------------
#: silences between speech regions: exactly at and around both merge limits, and others
GAPS = (12, 13, 25, 26)


def random_track(rng):
    """``(keys, scores)``: alternating speech and silence runs (silences of exactly 12, 13, 25
    and 26 frames among them), keys from 0 or a random start, sometimes with missing keys,
    sometimes scores exactly at the thresholds."""
    n = int(rng.integers(0, 1201))
    start_key = int(rng.choice([0, rng.integers(1, 50000)]))
    keys = start_key + np.arange(n)
    if n and rng.random() < 0.3:  # missing keys: n keys among n + n // 5 frames
        keys = np.sort(rng.choice(start_key + np.arange(n + n // 5), size=n, replace=False))
    scores = np.empty(n)
    pos, speaking = 0, bool(rng.random() < 0.5)
    noise = float(rng.choice([0.05, 0.3, 0.8]))
    while pos < n:
        if speaking:
            length = int(rng.choice([rng.integers(1, 30), rng.integers(20, 60), rng.integers(240, 420)]))
        else:
            length = int(rng.choice([*GAPS, rng.integers(1, 40)]))
        level = 1.5 if speaking else -1.0
        run = scores[pos:pos + length]
        run[:] = level + rng.normal(0.0, noise, size=len(run))
        pos += length
        speaking = not speaking
    if n and rng.random() < 0.3:  # exact threshold values (central and ego)
        scores[rng.integers(0, n, size=n // 10 + 1)] = rng.choice([1.0, 0.8, 2.4, 1.6], size=n // 10 + 1)
    return keys, np.round(scores, 4)


def as_document(keys, scores):
    return {str(int(k)): float(s) for k, s in zip(keys, scores)}


def ours(keys, scores, params):
    return [(c.first, c.last, c.active) for c in asd_chunks(keys, scores, params)]


def theirs(chunks):
    return [(c[0], c[-1], len(c)) for c in chunks]


def test_default_is_what_the_official_inference_produces():
    rng = np.random.default_rng(20250922)
    differing = with_chunks = 0
    for case in range(2500):
        keys, scores = random_track(rng)
        asd = as_document(keys, scores)
        default = ours(keys, scores, chunking_parameters(True, DEFAULT_CHUNK_SIZE))
        assert default == theirs(official_inference_chunks(asd, 15)), case
        table = ours(keys, scores, chunking_parameters(False, DEFAULT_CHUNK_SIZE))
        assert table == theirs(official_segment_by_asd(asd, {"max_chunk_size": 15, "min_duration_off": 0.5})), case
        differing += default != table
        with_chunks += bool(default)
    # the sequences exercise both merge limits: many tracks come out different
    assert with_chunks > 1700 and differing > 400


def test_other_parameters_match_the_official_lookups():
    rng = np.random.default_rng(7)
    for case in range(800):
        keys, scores = random_track(rng)
        params = {"onset": float(rng.uniform(0, 2)), "offset": float(rng.uniform(-1, 1.5)),
                  "min_duration_on": float(rng.choice([0.0, 0.5, 1.0, 1.04])),
                  "min_duration_off": float(rng.choice([0.0, 0.5, 1.0])),
                  "max_chunk_size": float(rng.choice([1.0, 3.0, 10.0, 15.0])),
                  "min_chunk_size": float(rng.choice([0.0, 1.0, 2.0]))}
        given = {k: v for k, v in params.items() if rng.random() < 0.6}  # the rest from the defaults
        expected = official_segment_by_asd(as_document(keys, scores), given)
        mine = AsdParameters(**{**{"min_duration_off": OFFICIAL_TABLE["min_duration_on"]},
                                **{k: v for k, v in OFFICIAL_TABLE.items() if k != "min_duration_off"}, **given})
        assert ours(keys, scores, mine) == theirs(expected), (case, given)
    # ego thresholds, given in full as the table has them
    keys, scores = random_track(np.random.default_rng(3))
    ego = {"onset": 2.4, "offset": 1.6, "min_duration_on": 1.0, "min_duration_off": 0.5,
           "max_chunk_size": 15, "min_chunk_size": 1}
    assert ours(keys, scores, EGO_ASD) == theirs(official_segment_by_asd(as_document(keys, scores), ego))


@pytest.mark.parametrize("gap, merged_default, merged_table",
                         [(12, True, True), (13, True, False), (25, True, False), (26, False, False)])
def test_gaps_at_the_merge_limits(gap, merged_default, merged_table):
    scores = [2.0] * 30 + [0.0] * gap + [2.0] * 30
    keys = np.arange(len(scores)) + 7  # keys not starting at 0
    one = [(7, 7 + 59 + gap, 60)]
    two = [(7, 36, 30), (37 + gap, 66 + gap, 30)]
    assert ours(keys, scores, chunking_parameters(True)) == (one if merged_default else two)
    assert ours(keys, scores, chunking_parameters(False)) == (one if merged_table else two)
    assert theirs(official_inference_chunks(as_document(keys, scores))) == (one if merged_default else two)


def test_missing_keys_count_as_gap_frames_and_thresholds_are_strict():
    # missing keys inside an active region do not end it (no score below offset)
    keys = np.concatenate([np.arange(30), np.arange(43, 73)])
    scores = np.full(60, 2.0)
    assert ours(keys, scores, CENTRAL_ASD) == ours(keys, scores, CENTRAL_ASD_TABLE) == [(0, 72, 60)]
    # key 29 ends the region at 28; keys 30..42 are missing: a gap of 14 frames to key 43
    scores[29] = 0.0
    assert ours(keys, scores, CENTRAL_ASD) == [(0, 72, 59)]
    assert ours(keys, scores, CENTRAL_ASD_TABLE) == [(0, 28, 29), (43, 72, 30)]
    assert theirs(official_inference_chunks(as_document(keys, scores))) == [(0, 72, 59)]
    # a score equal to onset does not start a region; one equal to offset does not end it
    scores = [1.0] * 5 + [1.01] + [0.8] * 30 + [0.79] + [-1.0] * 40
    assert ours(np.arange(len(scores)), scores, CENTRAL_ASD) == [(5, 35, 31)]
    assert theirs(official_inference_chunks(as_document(np.arange(len(scores)), scores))) == [(5, 35, 31)]


def test_chunk_frames_and_splitting():
    scores = [2.0] * 30 + [0.0] * 12 + [2.0] * 30 + [0.0] * 26 + [2.0] * 20
    keys = np.arange(len(scores)) + 7
    chunks = asd_chunks(keys, scores)
    assert [(c.first, c.last, c.active) for c in chunks] == [(7, 7 + 71, 60)]  # the last 20 frames dropped
    assert chunk_frames(chunks[0], 7, 500) == (500, 571)
    assert chunk_frames(chunks[0], 7, 500, exact_baseline=False) == (500, 572)
    # 800 active frames with max 15 s (375): 3 parts of 267, 267, 266
    long = asd_chunks(np.arange(800), [2.0] * 800)
    assert [(c.first, c.last) for c in long] == [(0, 266), (267, 533), (534, 799)]
    assert asd_chunks([], []) == []
    assert chunking_parameters(True, 4.0).max_chunk_size == 4.0
    assert (chunking_parameters(True).min_duration_off, chunking_parameters(False).min_duration_off) == (1.0, 0.5)


def test_read_asd_scores(tmp_path):
    path = tmp_path / "track_00_asd.json"
    path.write_text('{"12": 0.5, "10": 1.5, "11": -2}')
    frames, scores = read_asd_scores(path)
    assert frames.tolist() == [10, 11, 12] and scores.tolist() == [1.5, -2.0, 0.5]
    for bad, key in (('{"1.0": 0.5}', "1.0"), ('{"3": "x"}', "3"), ('{"07": 1}', "07")):
        path.write_text(bad)
        with pytest.raises(MCoRecDataError, match=f"key '{key}'"):
            read_asd_scores(path)
    path.write_text("[1, 2]")
    with pytest.raises(MCoRecDataError, match="track_00_asd.json"):
        read_asd_scores(path)
