"""The dlib backend on a real face (scikit-image's astronaut, Eileen Collins, public domain),
and on synthetic frames, which are not faces. Skipped, with the reason, without the lips
extra (dlib) or scikit-image."""
import numpy as np
import pytest

pytest.importorskip("dlib", reason="the lips extra is not installed: pip install 'mcorec_torch[lips]'")
face_recognition_models = pytest.importorskip("face_recognition_models", reason="the lips extra is not installed")
skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (the test extra) is not installed")
from skimage import transform as sktransform  # noqa: E402

from mcorec_torch.lips import (MOUTH, STABLE_POINTS, DlibLandmarks, read_dlib_mean_shape, roi_scale,  # noqa: E402
                               roi_transforms, warp_rois)
from mcorec_torch.lips.mean_face import MEAN_FACE_STABLE  # noqa: E402
from mcorec_torch.synthetic import FACE_SIZE, crop_renderer, encode_frame_index, plan_session  # noqa: E402

#: Measured by hand on astronaut() (512x512), looking at the pixels: the mouth corners (the
#: ends of the dark line between the lips) and the lips' centre (halfway between the top of
#: the upper lip, row 140, and the bottom of the lower lip, row 153, at column 223.5).
LEFT_CORNER = (204.0, 140.0)
RIGHT_CORNER = (243.0, 141.0)
MOUTH_CENTRE = (223.5, 146.5)


@pytest.fixture(scope="module")
def astronaut():
    return skimage_data.astronaut()


def test_one_face_with_68_points_and_the_mouth_corners_where_measured(astronaut):
    detector = DlibLandmarks()
    points, found = detector.detect(astronaut[None])
    assert found.tolist() == [True] and points.shape == (1, 68, 2) and points.dtype == np.float32
    import dlib
    assert len(dlib.get_frontal_face_detector()(astronaut, 0)) == 1  # one face in the picture
    assert np.linalg.norm(points[0, 48] - LEFT_CORNER) < 4
    assert np.linalg.norm(points[0, 54] - RIGHT_CORNER) < 4
    assert np.linalg.norm(points[0, MOUTH].mean(axis=0) - MOUTH_CENTRE) < 3


def test_the_mean_face_is_the_dlib_models_mean_shape():
    shape = read_dlib_mean_shape(face_recognition_models.pose_predictor_model_location())
    assert shape.shape == (68, 2)
    np.testing.assert_allclose(MEAN_FACE_STABLE, shape[list(STABLE_POINTS)], atol=5e-5)


def face_video(image, cases, size=224):
    """Frames ``size x size`` showing ``image`` turned by ``angle`` degrees and scaled by
    ``scale`` about the measured mouth centre, which lands at ``size / 2 + shift``; and where
    the measured mouth centre is in each frame."""
    frames, centres = [], []
    for angle, scale, shift in cases:
        # frame point = R(angle) * scale * (image point - mouth) + frame centre + shift
        target = np.array([(size - 1) / 2, (size - 1) / 2]) + shift
        forward = sktransform.SimilarityTransform(scale=scale, rotation=np.deg2rad(angle))
        offset = target - forward(np.array([MOUTH_CENTRE]))[0]
        mapping = sktransform.SimilarityTransform(scale=scale, rotation=np.deg2rad(angle), translation=offset)
        warped = sktransform.warp(image, mapping.inverse, output_shape=(size, size), order=1, preserve_range=True)
        frames.append(np.clip(np.rint(warped), 0, 255).astype(np.uint8))
        centres.append(mapping(np.array([MOUTH_CENTRE]))[0])
    return np.stack(frames), np.array(centres)


CASES = [(0.0, 1.5, (0, 0)), (0.0, 1.5, (12, -9)), (12.0, 1.5, (0, 0)), (-15.0, 1.5, (-8, 6)),
         (0.0, 1.1, (0, 0)), (0.0, 2.0, (5, 5)), (10.0, 1.8, (-10, -4))]


def test_shifted_scaled_and_rotated_faces_give_rois_centred_on_the_mouth_that_follow_the_scale(astronaut):
    frames, centres = face_video(astronaut, CASES)
    points, found = DlibLandmarks().detect(frames)
    assert found.all()  # a real face: no frame without one
    transforms = roi_transforms(points)
    # the measured mouth centre, seen from the ROI: ROI pixel = A^-1 (frame point - b)
    inverse = np.linalg.inv(transforms[:, :, :2].astype(np.float64))
    in_roi = np.einsum("tij,tj->ti", inverse, centres - transforms[:, :, 2])
    assert np.abs(in_roi - 47.5).max() < 4, in_roi
    # frame pixels per ROI pixel follow the face's scale (the mouth keeps its size in the ROI)
    ratio = roi_scale(transforms) / np.array([s for _, s, _ in CASES])
    assert ratio.max() / ratio.min() < 1.08, ratio
    # and the ROIs look alike: each correlates with the first
    rois = warp_rois(np.moveaxis(frames, -1, 1), transforms).astype(np.float64).mean(axis=1)
    for roi in rois[1:]:
        assert np.corrcoef(rois[0].ravel(), roi.ravel())[0, 1] > 0.85


def test_frame_index_frames_are_not_faces_but_the_speech_cartoon_is_one():
    """The frame-index code (content="index", what the alignment tests read) has no face dlib
    finds: the dataset tests run the same code path with scripted landmarks instead. The
    cartoon face of content="speech" (the demo's crops) is found on every frame, its mouth
    where it is drawn (the centre column, below the middle)."""
    index_frames = np.stack([np.repeat(encode_frame_index(i, 224, 224)[:, :, None], 3, axis=2)
                             for i in range(0, 400, 40)])
    _, found = DlibLandmarks().detect(index_frames)
    assert not found.any()
    spec = plan_session("session_00", 5, num_frames=400, content="speech")
    render = crop_renderer(spec, spec.speakers[0].name, FACE_SIZE)
    speech_frames = np.stack([np.repeat(render(i)[:, :, None], 3, axis=2) for i in range(0, 400, 40)])
    points, found = DlibLandmarks().detect(speech_frames)
    assert found.all()
    mouths = points[:, MOUTH].mean(axis=1)
    assert np.abs(mouths[:, 0] - 111.5).max() < 8 and (mouths[:, 1] > 130).all() and (mouths[:, 1] < 180).all()


def test_a_real_face_track_gives_derived_lip_segments_that_show_its_mouth(lips_split, tmp_path, astronaut):
    """spk_1's ego face track replaced by a video of the astronaut drifting and growing slowly
    (its frame count, timing and audio kept): the dataset derives its mouth ROIs with dlib."""
    import shutil

    from mcorec_torch import MCoRecDataError, MCoRecDataset
    from mcorec_torch.media.audio import decode_audio
    from mcorec_torch.media.encode import write_mp4

    root, _ = lips_split
    copy = tmp_path / "train"
    shutil.copytree(root, copy)
    track = copy / "session_lips" / "speakers" / "spk_1" / "ego_crops" / "track_00.mp4"
    count = 90
    cases = [(0.0, 1.4 + 0.2 * k / count, (6 * k / count, -4 * k / count)) for k in range(count)]
    frames, _ = face_video(astronaut, cases)
    audio = decode_audio(track, count * 640)
    write_mp4(track, frames, audio=audio)
    ds = MCoRecDataset(copy, crops="lip", view="ego", color="gray", cache_dir=tmp_path / "c")
    i = next(i for i in range(len(ds)) if "/spk_1/" in ds.segment_id(i))
    sample = ds[i]
    with pytest.raises(MCoRecDataError, match="no face found on any of its 40 frames"):
        ds[next(i for i in range(len(ds)) if "/spk_0/" in ds.segment_id(i))]  # synthetic frames: no face
    landmarks = ds.reader.landmarks.cached(track)
    assert landmarks is not None and landmarks.missing == 0  # dlib found the face on all 90 frames
    points, found = DlibLandmarks().detect(frames[:1])
    still = warp_rois(np.moveaxis(frames[:1], -1, 1), roi_transforms(points)).astype(np.float64).mean(axis=1)[0]
    rois = sample["video"][sample["video_mask"]].numpy()[:, 0].astype(np.float64)
    assert len(rois) > 20
    for roi in rois:  # the mouth, wherever the face is in the frame
        assert np.corrcoef(roi.ravel(), still.ravel())[0, 1] > 0.8
    assert sample["audio"].shape == (640 * (sample["frame_end"] - sample["frame_start"]),)


@pytest.mark.slow
def test_the_command_refuses_synthetic_tracks_without_a_face_and_says_so(lips_split, tmp_path, capsys):
    """``mcorec-torch lips`` with dlib on frame-index crops: every track refused (no face on any
    frame), said per track and in the totals, nothing written, exit 0 (the files read)."""
    from mcorec_torch import cli

    root, _ = lips_split
    status = cli.main(["lips", str(root), "--view", "ego", "--out", str(tmp_path / "out"), "--workers", "2",
                       "--cache-dir", str(tmp_path / "cache")])
    printed = capsys.readouterr().out
    assert status == 0
    assert "3 face tracks of the ego view" in printed
    for line in ("refused session_lips/spk_0 ego crop 0: no face found on any of its 40 frames (dlib68 landmarks)",
                 "refused session_lips/spk_0 ego crop 1: no face found on any of its 60 frames (dlib68 landmarks)",
                 "refused session_lips/spk_1 ego crop 0: no face found on any of its 90 frames (dlib68 landmarks)",
                 "0 written (0.0 MB), 0 written before, 3 refused; no face on 190 of the 190 frames looked at "
                 "(100.0%)"):
        assert line in printed
    assert not list((tmp_path / "out").rglob("*.mp4"))
