"""The mouth ROI from landmarks, and the per-track filling and smoothing (no dlib needed)."""
import numpy as np
import pytest

from mcorec_torch.lips import (MOUTH, STABLE_POINTS, fill_missing, fit_similarities, reference_points, roi_scale,
                               roi_transforms, smooth, warp_rois)
from mcorec_torch.lips.track import TrackLandmarks
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.synthetic import decode_frame_index, encode_frame_index

from scripted_landmarks import whole_frame_points


def rotation(angle_deg, scale=1.0):
    a = np.deg2rad(angle_deg)
    return scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def test_the_similarity_fit_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    source = rng.uniform(0, 200, (3, 8, 2))
    matrix = rotation(17, 1.7)
    target = source[1] @ matrix.T + [5.0, -3.0]
    fitted = fit_similarities(source[1:2], target)[0]
    np.testing.assert_allclose(fitted[:, :2], matrix, atol=1e-9)
    np.testing.assert_allclose(fitted[:, 2], [5.0, -3.0], atol=1e-9)


def test_the_reference_mouth_is_half_the_roi_wide():
    ref = reference_points(96)
    left, right = ref[STABLE_POINTS.index(48)], ref[STABLE_POINTS.index(54)]
    assert np.linalg.norm(right - left) == pytest.approx(48.0)
    assert abs(left[1] - right[1]) < 1e-6  # the mean face is upright
    nose, bridge = ref[STABLE_POINTS.index(33)], ref[STABLE_POINTS.index(28)]
    assert bridge[1] < nose[1] < left[1]  # bridge above the nose tip above the mouth


def test_the_roi_is_centred_on_the_mouth_and_follows_shift_scale_and_rotation():
    base = whole_frame_points(224, 224).astype(np.float64)
    mouth = base[MOUTH].mean(axis=0)
    cases = [(0.0, 1.0, (0, 0)), (20.0, 1.0, (0, 0)), (-35.0, 0.6, (12, -7)), (8.0, 1.5, (-20, 30))]
    points = np.stack([(base - mouth) @ rotation(a, s).T + mouth + shift for a, s, shift in cases])
    transforms = roi_transforms(points)
    centre = transforms[:, :, :2] @ np.array([47.5, 47.5]) + transforms[:, :, 2]
    np.testing.assert_allclose(centre, points[:, MOUTH].mean(axis=1), atol=1e-3)
    np.testing.assert_allclose(roi_scale(transforms), [224 / 96 * s for _, s, _ in cases], rtol=1e-5)
    # the ROI's x axis turns with the face
    for (angle, _, _), t in zip(cases, transforms):
        assert np.degrees(np.arctan2(t[1, 0], t[0, 0])) == pytest.approx(angle, abs=1e-3)


def test_a_whole_frame_roi_keeps_the_frame_index_code():
    frames = np.stack([encode_frame_index(i, 224, 224) for i in (0, 1, 4000, 16383)])[:, None]
    transforms = roi_transforms(np.repeat(whole_frame_points(224, 224)[None], 4, axis=0))
    rois = warp_rois(frames, transforms)
    assert rois.shape == (4, 1, 96, 96) and rois.dtype == np.uint8
    assert [decode_frame_index(r) for r in rois] == [0, 1, 4000, 16383]


def test_warp_is_bilinear_with_zero_outside_the_frame():
    frame = np.arange(12 * 10, dtype=np.uint8).reshape(1, 1, 12, 10) * 2
    # ROI pixel (u, v) -> frame (u / 2 + 0.25, v + 0.5): halfway between columns and rows
    transform = np.array([[[0.5, 0.0, 0.25], [0.0, 1.0, 0.5]]], dtype=np.float32)
    roi = warp_rois(frame, transform, roi_size=4)[0, 0].astype(float)
    f = frame[0, 0].astype(float)
    expected = np.array([[np.mean([[f[v, int(u / 2 + .25)], f[v, int(u / 2 + .25) + 1]],
                                   [f[v + 1, int(u / 2 + .25)], f[v + 1, int(u / 2 + .25) + 1]]],
                                  axis=0) @ [1 - (u / 2 + .25) % 1, (u / 2 + .25) % 1]
                          for u in range(4)] for v in range(4)])
    np.testing.assert_allclose(roi, np.rint(expected), atol=0)
    outside = np.array([[[1.0, 0.0, 100.0], [0.0, 1.0, 100.0]]], dtype=np.float32)
    assert not warp_rois(frame, outside, roi_size=4).any()


def test_missing_frames_are_interpolated_and_held_at_the_ends():
    points = np.zeros((6, 68, 2), np.float32)
    points[:, :, 0] = np.arange(6)[:, None] * 10.0
    found = np.array([False, True, False, False, True, False])
    filled = fill_missing(np.where(found[:, None, None], points, -999.0), found)
    assert filled[:, 0, 0].tolist() == [10.0, 10.0, 20.0, 30.0, 40.0, 40.0]
    track = TrackLandmarks(points, found, "test")
    assert track.missing == 4 and track.missing_share == pytest.approx(4 / 6)
    with pytest.raises(MCoRecDataError, match="no face found on any of its 3 frames"):
        TrackLandmarks(points[:3], np.zeros(3, bool), "test").filled("track_00.mp4")


def test_smoothing_averages_13_frames_and_keeps_each_frames_centroid():
    rng = np.random.default_rng(1)
    points = rng.normal(0, 1, (30, 68, 2)).astype(np.float32) + 100
    smoothed = smooth(points)
    np.testing.assert_allclose(smoothed.mean(axis=1), points.mean(axis=1), atol=1e-4)
    j = 15  # a frame away from the ends: the mean of frames 9..21, moved to frame 15's centroid
    expected = points[9:22].astype(np.float64).mean(axis=0)
    expected += points[j].mean(axis=0) - expected.mean(axis=0)
    np.testing.assert_allclose(smoothed[j], expected, atol=1e-4)
    np.testing.assert_allclose(smoothed[0], points[0], atol=1e-5)  # the ends are their own frame
    still = np.repeat(points[:1], 10, axis=0)
    np.testing.assert_allclose(smooth(still), still, atol=1e-4)
