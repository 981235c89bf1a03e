"""Property-based tests of the SPEC §2 arithmetic (hypothesis): random cue times and offsets."""
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from mcorec_torch import timeline as tl

MS = st.integers(min_value=0, max_value=4 * 3600 * 1000)


@given(MS, st.integers(min_value=1, max_value=60_000))
def test_cue_frames_are_exactly_the_overlapping_frames(start_ms, length_ms):
    end_ms = start_ms + length_ms
    f0, f1 = tl.cue_frames(start_ms, end_ms)
    # f0 and f1 - 1 overlap the cue, their neighbours outside [f0, f1) do not
    assert f0 * 40 <= start_ms < (f0 + 1) * 40
    assert (f1 - 1) * 40 < end_ms <= f1 * 40
    assert f1 > f0
    # audio of the segment: 640 samples a frame, sample k belongs to frame k // 640
    samples = tl.frame_to_sample(f1) - tl.frame_to_sample(f0)
    assert samples == 640 * (f1 - f0)
    assert tl.frame_to_sample(f0) // tl.SAMPLES_PER_FRAME == f0


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**7))
def test_merged_cues_cover_the_union_of_their_frames(a, b):
    """Two cues back to back: the frames of the merged cue are the union of theirs."""
    s1, e1 = a, a + 1 + b % 5000
    s2, e2 = e1 + b % 700, e1 + b % 700 + 1 + a % 3000
    f = tl.cue_frames(s1, e2)
    g, h = tl.cue_frames(s1, e1), tl.cue_frames(s2, e2)
    assert f[0] == g[0] and f[1] == h[1]


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from([Fraction(1, 12800), Fraction(1, 90000),
                                                                   Fraction(1, 25), Fraction(1, 1000)]),
       st.integers(min_value=-5000, max_value=5000))
def test_pts_and_frames_round_trip(frame, time_base, origin):
    assert tl.pts_to_frame(tl.frame_to_pts(frame, time_base, origin), time_base, origin) == frame


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=600_000),
       st.integers(min_value=0, max_value=600_000))
def test_ego_offsets_agree_between_frames_and_samples(f0, central_ms, ego_ms):
    """E0 and D come from the same offset: D is 640 * (F0 - E0) to within half a frame."""
    c, e = central_ms / 1000, ego_ms / 1000
    e0 = tl.ego_start_frame(f0, c, e)
    d = tl.ego_sample_offset(c, e)
    assert abs(640 * (f0 - e0) - d) <= 320


@given(st.integers(min_value=0, max_value=10**9))
def test_seconds_to_ms_inverts_ms_to_seconds(ms):
    assert tl.seconds_to_ms(ms / 1000) == ms
