"""The ASD chunk planner against a deliberately naive transcription of the baseline's
``segment_by_asd`` rule, on thousands of random score sequences (both frame variants)."""
import math

import numpy as np
import pytest

from mcorec_torch.corpus.asd_scores import read_asd_scores
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.index.asd_chunks import CENTRAL_ASD, EGO_ASD, AsdParameters, asd_chunks, chunk_frames


def reference_segment_by_asd(asd, onset, offset, on_s, off_s, max_s, min_s):
    """The rule as the issue states it, written as plainly as possible: lists of frames."""
    frames = sorted(int(k) for k in asd)
    regions, current, active = [], None, False
    for frame in frames:
        score = asd[str(frame)]
        if not active:
            if score > onset:
                active = True
                current = [frame]
        else:
            if score < offset:
                active = False
                regions.append(current)
                current = None
            else:
                current.append(frame)
    if current is not None:
        regions.append(current)
    merged = []
    for region in regions:
        if merged and region[0] - merged[-1][-1] - 1 <= int(off_s * 25):
            merged[-1] = merged[-1] + region
        else:
            merged.append(list(region))
    out = []
    for region in merged:
        if len(region) < int(on_s * 25):
            continue
        if len(region) > int(max_s * 25):
            parts = math.ceil(len(region) / int(max_s * 25))
            size = math.ceil(len(region) / parts)
            for i in range(0, len(region), size):
                part = region[i:i + size]
                if len(part) >= int(min_s * 25):
                    out.append(part)
        else:
            out.append(region)
    return out


def random_case(rng):
    n = int(rng.integers(0, 3001))
    start_key = int(rng.choice([0, rng.integers(1, 50000)]))
    keys = start_key + np.arange(n)
    if n and rng.random() < 0.3:  # holes in the keys
        keys = np.sort(rng.choice(start_key + np.arange(n + n // 5), size=n, replace=False))
    # piecewise speech / silence with gaps near the merge limit and regions near the split limit
    scores = np.empty(n)
    pos, speaking = 0, bool(rng.random() < 0.5)
    while pos < n:
        length = int(rng.choice([rng.integers(1, 30), rng.integers(9, 16), rng.integers(240, 420),
                                 rng.integers(20, 30)]))
        level = 1.5 if speaking else -1.0
        scores[pos:pos + length] = level + rng.normal(0, float(rng.choice([0.1, 0.5, 1.0])), size=len(scores[pos:pos + length]))
        pos += length
        speaking = not speaking
    if n and rng.random() < 0.2:  # exact threshold values
        scores[rng.integers(0, n, size=n // 10 + 1)] = rng.choice([1.0, 0.8, 2.4, 1.6])
    return keys, np.round(scores, 4)


def test_planner_equals_the_reference_on_random_sequences():
    rng = np.random.default_rng(12345)
    cases = 0
    for case in range(2500):
        keys, scores = random_case(rng)
        params = [CENTRAL_ASD, EGO_ASD][case % 2]
        if case % 5 == 0:
            params = AsdParameters(onset=float(rng.uniform(0, 2)), offset=float(rng.uniform(-1, 1.5)),
                                   min_duration_on=float(rng.choice([0.0, 0.5, 1.0, 1.04])),
                                   min_duration_off=float(rng.choice([0.0, 0.5, 1.0])),
                                   max_chunk_size=float(rng.choice([1.0, 3.0, 10.0, 15.0])),
                                   min_chunk_size=float(rng.choice([0.0, 1.0, 2.0])))
        asd = {str(int(k)): float(s) for k, s in zip(keys, scores)}
        expected = reference_segment_by_asd(asd, params.onset, params.offset, params.min_duration_on,
                                            params.min_duration_off, params.max_chunk_size, params.min_chunk_size)
        got = asd_chunks(keys, scores, params)
        assert [(c.first, c.last, c.active) for c in got] == [(r[0], r[-1], len(r)) for r in expected], case
        first_key = int(keys[0]) if len(keys) else 0
        for exact in (True, False):
            frames = [chunk_frames(c, first_key, 100, exact) for c in got]
            assert frames == [(100 + r[0] - first_key, 100 + r[-1] - first_key + (0 if exact else 1))
                              for r in expected]
        cases += bool(expected)
    assert cases > 1500  # most sequences give chunks


def test_hand_made_sequence():
    # 30 frames on, 12 off (merged), 30 on, 13 off (not merged), 20 on (dropped)
    scores = [2.0] * 30 + [0.0] * 12 + [2.0] * 30 + [0.0] * 13 + [2.0] * 20
    keys = np.arange(len(scores)) + 7
    chunks = asd_chunks(keys, scores)
    assert [(c.first, c.last, c.active) for c in chunks] == [(7, 7 + 71, 60)]
    assert chunk_frames(chunks[0], 7, 500) == (500, 571)
    assert chunk_frames(chunks[0], 7, 500, exact_baseline=False) == (500, 572)
    # 800 active frames with max 15 s (375): 3 parts of 267, 267, 266
    long = asd_chunks(np.arange(800), [2.0] * 800)
    assert [(c.first, c.last) for c in long] == [(0, 266), (267, 533), (534, 799)]
    assert asd_chunks([], []) == []


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
