"""SPEC §2 arithmetic."""
from fractions import Fraction

import pytest

from mcorec_torch import timeline as tl


@pytest.mark.parametrize("start_ms,end_ms,expected", [
    (0, 40, (0, 1)),          # exactly one frame
    (0, 41, (0, 2)),          # 1 ms into the next frame's display interval
    (39, 40, (0, 1)),
    (40, 80, (1, 2)),
    (1000, 1020, (25, 26)),   # a 20 ms cue inside one frame
    (1019, 1021, (25, 26)),
    (1039, 1041, (25, 27)),   # a 2 ms cue across a frame edge overlaps two frames
    (12345, 15678, (308, 392)),
    (3_600_000, 3_600_040, (90_000, 90_001)),
])
def test_cue_frames(start_ms, end_ms, expected):
    assert tl.cue_frames(start_ms, end_ms) == expected


def test_cue_frames_are_the_overlapping_display_intervals():
    for start_ms in range(0, 200, 3):
        for end_ms in range(start_ms + 1, start_ms + 130, 7):
            f0, f1 = tl.cue_frames(start_ms, end_ms)
            overlapping = [f for f in range(0, 20) if f * 40 < end_ms and (f + 1) * 40 > start_ms]
            assert list(range(f0, f1)) == overlapping, (start_ms, end_ms)


def test_seconds_to_ms_rounds_float_noise():
    assert tl.seconds_to_ms(12.345) == 12345
    assert tl.seconds_to_ms(0.1 + 0.2) == 300
    assert tl.seconds_to_ms(2.0) == 2000


def test_samples_per_frame_and_frame_to_sample():
    assert tl.SAMPLES_PER_FRAME == 640
    assert tl.frame_to_sample(25) == 16000


def test_pts_frame_round_trip_in_common_time_bases():
    for time_base in (Fraction(1, 12800), Fraction(1, 25), Fraction(1, 90000), Fraction(1, 1000)):
        for frame in (0, 1, 2, 249, 250, 9000):
            pts = tl.frame_to_pts(frame, time_base)
            assert tl.pts_to_frame(pts, time_base) == frame
    assert tl.pts_to_frame(1024 + 512, Fraction(1, 12800), origin_pts=1024) == 1


def test_ego_mapping_matches_spec_formulae():
    # uem_central.start - uem_ego.start = 1.316 s -> D = 21056 samples, 32.9 frames
    assert tl.ego_sample_offset(2.0, 0.684) == 21056
    assert tl.ego_start_frame(100, 2.0, 0.684) == 67           # round(100 - 32.9) = round(67.1)
    assert tl.ego_start_frame(100, 2.0, 1.98) == 100           # 0.5 frame: half rounds up
    assert tl.central_to_ego_seconds(10.0, 2.0, 0.684) == pytest.approx(8.684)


def test_uem_rule_is_inclusive_on_both_ends():
    assert tl.in_uem(1000, 2000, 1000, 2000)
    assert not tl.in_uem(999, 2000, 1000, 2000)
    assert not tl.in_uem(1000, 2001, 1000, 2000)


def test_frame_clock_equals_the_fraction_arithmetic():
    """The reader's integer clock gives exactly pts_to_frame / frame_to_pts (any time base, origin)."""
    import random
    from fractions import Fraction

    rng = random.Random(4)
    for time_base in (Fraction(1, 12800), Fraction(1, 90000), Fraction(1, 25), Fraction(1001, 30000),
                      Fraction(1, 1000), Fraction(1, 15360)):
        for origin in (0, 1024, -2048, 7):
            clock = tl.FrameClock(time_base, origin)
            for _ in range(500):
                pts, frame = rng.randint(-10 ** 6, 10 ** 8), rng.randint(-100, 10 ** 5)
                assert clock.frame(pts) == tl.pts_to_frame(pts, time_base, origin)
                assert clock.pts(frame) == tl.frame_to_pts(frame, time_base, origin)
