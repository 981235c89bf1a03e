"""Every frame and audio sample of every segment sits where SPEC §2 says (SPEC §4).

The synthetic sessions carry each frame's index in its pixels and known audio, so these
tests prove alignment rather than assume it.
"""
import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.timeline import SAMPLES_PER_FRAME, ego_start_frame
from mcorec_torch.qa.verify import audio_lag, check_sample


def covered(frames, tracks):
    spans = [np.arange(t.frame_start, t.frame_stop) for t in tracks]
    return np.isin(frames, np.concatenate(spans)) if spans else np.zeros(len(frames), bool)


def assert_segments_aligned(ds, specs, audio_reference, view="central"):
    assert len(ds) > 10
    problems = []
    for i in range(len(ds)):
        s = ds[i]
        spec = specs[s["session"]]
        spk = spec.speaker(s["speaker"])
        f0, f1 = s["frame_start"], s["frame_end"]
        if view == "central":
            first, tracks = f0, spk.tracks
        else:
            first, tracks = ego_start_frame(f0, spk.uem_start, spk.ego.uem_start), spk.ego.tracks
        expected_mask = covered(np.arange(first, first + f1 - f0), tracks)
        assert s["video_mask"].numpy().tolist() == expected_mask.tolist(), s["id"]
        reference = audio_reference(spec, spk, f0 * SAMPLES_PER_FRAME, f1 * SAMPLES_PER_FRAME)
        problems += check_sample(s, synthetic.decode_frame_index, reference, view_start=first)
        assert s["id"] == f"{s['session']}/{s['speaker']}/{f0:07d}-{f1:07d}"
        assert s["audio"].dtype.is_floating_point and float(s["audio"].abs().max()) <= 1.0
    assert problems == []


def central_reference(spec, spk, start, stop):
    return synthetic.central_audio(spec, start, stop)


@pytest.mark.parametrize("crops,color", [("lip", "gray"), ("lip", "rgb"), ("face", "gray"), ("face", "rgb")])
def test_central_view_central_audio(dev_split, tmp_path, crops, color):
    root, specs = dev_split
    ds = MCoRecDataset(root, crops=crops, color=color, cache_dir=tmp_path)
    sample = ds[0]
    size = synthetic.LIP_SIZE if crops == "lip" else synthetic.FACE_SIZE
    assert sample["video"].shape[1:] == ((3 if color == "rgb" else 1),) + size
    assert_segments_aligned(ds, specs, central_reference)


def test_audio_from_crops_when_central_video_is_absent(dev_split_without_central, tmp_path):
    root, specs = dev_split_without_central
    ds = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)

    def crop_reference(spec, spk, start, stop):
        # the crops carry the central mic: any speaker's track covering a sample provides it
        frames = np.arange(start, stop) // SAMPLES_PER_FRAME
        any_track = np.zeros(len(frames), bool)
        for other in spec.speakers:
            any_track |= covered(frames, other.tracks)
        return synthetic.central_audio(spec, start, stop) * any_track

    assert_segments_aligned(ds, specs, crop_reference)
    for i in range(len(ds)):  # where no track of the session has audio, the segment is silent
        s = ds[i]
        reference = crop_reference(specs[s["session"]], None, s["frame_start"] * 640, s["frame_end"] * 640)
        assert np.all(s["audio"].numpy()[reference == 0] == 0)


def test_ego_audio_is_the_lapel_mic_on_the_central_timeline(train_split, tmp_path):
    root, specs = train_split
    ds = MCoRecDataset(root, crops="lip", color="gray", audio="ego", cache_dir=tmp_path)

    def ego_reference(spec, spk, start, stop):
        d = spk.ego_sample_offset
        return synthetic.ego_audio(spec, spk.name, start - d, stop - d)

    assert_segments_aligned(ds, specs, ego_reference)
    # the lapel signal is not the central mic: correlation with the wrong reference fails
    s = max((ds[i] for i in range(len(ds))), key=lambda s: s["frame_end"] - s["frame_start"])
    spec = specs[s["session"]]
    wrong = synthetic.central_audio(spec, s["frame_start"] * 640, s["frame_end"] * 640)
    right = ego_reference(spec, spec.speaker(s["speaker"]), s["frame_start"] * 640, s["frame_end"] * 640)
    audio = s["audio"].numpy()
    assert abs(np.corrcoef(audio, right)[0, 1]) > 0.9 > 0.2 > abs(np.corrcoef(audio, wrong)[0, 1])


def test_ego_audio_is_zero_where_the_phone_was_not_recording(tmp_path):
    # the phone starts 1.316 s after the central camera and records 6 s: ego samples
    # [0, 96000) are central samples [21056, 117056); the cue 6.5-8.0 s runs past its end
    ego = synthetic.EgoSpec(uem_start=0.684, uem_end=6.0, num_frames=150,
                            tracks=[synthetic.TrackSpec(index=0, frame_start=0, num_frames=150)])
    spk = synthetic.SpeakerSpec(name="spk_0", conversation=0, uem_start=2.0, uem_end=14.0,
                                tracks=[synthetic.TrackSpec(index=0, frame_start=0, num_frames=375)],
                                cues=[synthetic.CueSpec(6500, 8000, "hello there"),
                                      synthetic.CueSpec(2500, 3300, "inside")], ego=ego)
    spec = synthetic.SessionSpec(name="session_ego", num_frames=375, speakers=[spk], seed=5)
    synthetic.write_synthetic_session(spec, tmp_path / "train")
    ds = MCoRecDataset(tmp_path / "train", crops="lip", color="gray", audio="ego", cache_dir=tmp_path / "c")
    assert len(ds) == 2
    late = next(ds[i] for i in range(2) if ds[i]["frame_start"] == 162)
    assert late["frame_end"] == 200
    audio = late["audio"].numpy()
    # central sample 162*640 = 103680 is ego sample 82624; the recording ends at ego sample 96000
    cut = 96000 - (103680 - 21056)
    assert cut == 13376
    assert np.all(audio[cut:] == 0) and np.abs(audio[:cut]).mean() > 0.01
    reference = synthetic.ego_audio(spec, "spk_0", 103680 - 21056, 128000 - 21056)
    assert audio_lag(audio[:cut], reference[:cut]) == 0


@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_ego_view_reads_ego_frames(train_split, tmp_path, color):
    root, specs = train_split
    ds = MCoRecDataset(root, crops="face", view="ego", color=color, audio="ego", cache_dir=tmp_path)

    def ego_reference(spec, spk, start, stop):
        d = spk.ego_sample_offset
        return synthetic.ego_audio(spec, spk.name, start - d, stop - d)

    assert_segments_aligned(ds, specs, ego_reference, view="ego")


def test_gray_is_range_expanded_luma_and_matches_rgb(dev_split, tmp_path):
    root, _ = dev_split
    gray = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)[3]["video"].numpy().astype(int)
    rgb = MCoRecDataset(root, crops="lip", color="rgb", cache_dir=tmp_path)[3]["video"].numpy().astype(int)
    assert gray.shape[1] == 1 and rgb.shape[1] == 3
    # frames are gray (U = V = 128): the RGB channels agree with the range-expanded luma to within rounding
    assert np.abs(rgb - gray).max() <= 2
    assert gray.min() < 40 and gray.max() > 215  # full range, not 16..235


def test_audio_lag_detects_a_known_shift():
    rng = np.random.default_rng(3)
    reference = rng.standard_normal(8000)
    assert audio_lag(reference, reference) == 0
    assert audio_lag(np.roll(reference, 7), reference) == 7
    assert audio_lag(np.roll(reference, -40), reference) == -40
