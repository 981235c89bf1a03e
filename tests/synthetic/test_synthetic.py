"""The synthetic MCoRec writer: layout, frame-exact pixels, lag-0 audio (read with PyAV)."""
from __future__ import annotations

import json

import av
import numpy as np
import pytest
import torch

from mcorec_torch import synthetic as S
from mcorec_torch import timeline
from mcorec_torch.corpus.vtt import read_vtt

B_FRAME = int(av.video.frame.PictureType.B)
_LUMA_TO_GRAY = np.clip(np.round((np.arange(256) - 16) * 255.0 / 219.0), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- helpers (PyAV only)

def decode_video(path, rgb_stride=1):
    """Per frame: (pts, key_frame, pict_type, index via the Y plane, index via rgb24).

    The rgb24 conversion costs ~1 ms a 224x224 frame here: ``rgb_stride`` > 1 checks it on
    every n-th frame only (the index is then ``None`` on the others)."""
    rows = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        header_frames = stream.frames
        for j, frame in enumerate(container.decode(stream)):
            plane = frame.planes[0]
            luma = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            gray = _LUMA_TO_GRAY[luma[:, : plane.width]]
            rgb_index = None
            if j % rgb_stride == 0:
                rgb_index = S.decode_frame_index(frame.to_ndarray(format="rgb24"))
            rows.append((frame.pts, bool(frame.key_frame), int(frame.pict_type),
                         S.decode_frame_index(gray), rgb_index))
    return header_frames, rows


def decode_audio(path, audio_format="mono16k"):
    """(samples float32 at 16 kHz, first frame pts in 16 kHz samples, header duration in 16 kHz
    samples). A ``"stereo48k"`` file must hold two different channels at 48 kHz; their mean,
    taken at every third sample (the content is band-limited far below 8 kHz), is returned."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels = 1 if audio_format == "mono16k" else 2
        rate = 16000 if audio_format == "mono16k" else 48000
        assert stream.sample_rate == rate and stream.codec_context.channels == channels
        frames = list(container.decode(stream))
        duration = stream.duration
    planes = np.concatenate([f.to_ndarray() for f in frames], axis=1)
    step = rate // 16000
    if channels == 2:
        left, right = planes
        assert np.corrcoef(left, right)[0, 1] < 0.5  # the channels differ
        mean = planes.mean(axis=0)
        # one channel alone is louder than the mean by ~3 dB: a reader must average
        assert 10 * np.log10(np.mean(left ** 2) / np.mean(mean ** 2)) > 2
        return mean[::step], frames[0].pts // step, duration // step
    return planes[0], frames[0].pts, duration


def best_lag(decoded, reference, max_lag=64):
    n = len(reference) - 2 * max_lag
    assert n > 1000
    scores = {lag: float(np.dot(decoded[max_lag + lag: max_lag + lag + n],
                                reference[max_lag: max_lag + n]))
              for lag in range(-max_lag, max_lag + 1)}
    return max(scores, key=scores.get)


def check_audio(path, reference, audio_format="mono16k"):
    decoded, first_pts, duration = decode_audio(path, audio_format)
    assert first_pts == 0
    assert duration == len(reference)  # the header knows the written length
    # AAC pads the last frame: the decoder returns the length rounded up to 1024 (at its rate).
    step = 1 if audio_format == "mono16k" else 3
    padded = -(-len(reference) * step // 1024) * 1024
    assert len(decoded) == -(-padded // step)
    assert abs(best_lag(decoded, reference)) <= 16
    assert best_lag(decoded, reference) == 0
    err = decoded[: len(reference)] - reference
    assert 10 * np.log10(np.sum(reference ** 2) / np.sum(err ** 2)) > 20  # dB


def check_frames(path, first_index, num_frames, *, expect_b_frames=True, rgb_stride=1):
    header_frames, rows = decode_video(path, rgb_stride)
    assert header_frames == num_frames
    assert len(rows) == num_frames
    expected = list(range(first_index, first_index + num_frames))
    assert [r[3] for r in rows] == expected, path
    assert [r[4] for r in rows][::rgb_stride] == expected[::rgb_stride], path
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # presentation order
    assert rows[0][0] == 0
    if expect_b_frames and num_frames >= 50:
        assert any(r[2] == B_FRAME for r in rows), path
    return rows


# --------------------------------------------------------------------------- fixtures
# ``dev_split`` (2 sessions, seed 0) and ``train_split`` (1 session with ego, seed 1) are the
# session-scoped fixtures of conftest.py: ``(split_dir, {session name: SessionSpec})``,
# written once per test run and shared with the other test modules.


def first_session(split):
    root, specs = split
    return root, specs["session_00"]


# --------------------------------------------------------------------------- frame code

@pytest.mark.parametrize("size", [(96, 96), (224, 224), (96, 160), (96, 128), (50, 70)])
def test_frame_code_roundtrip(size):
    h, w = size
    for index in list(range(0, 300)) + [1023, 4096, 9999, S.FRAME_INDEX_MAX]:
        image = S.encode_frame_index(index, h, w)
        assert image.dtype == np.uint8 and image.shape == (h, w)
        assert S.decode_frame_index(image) == index
    image = S.encode_frame_index(1234, h, w)
    rgb = np.repeat(image[:, :, None], 3, axis=2)
    for variant in (image[None], rgb, rgb.transpose(2, 0, 1), torch.from_numpy(image),
                    torch.from_numpy(rgb.transpose(2, 0, 1).copy()), torch.from_numpy(image[None])):
        assert S.decode_frame_index(variant) == 1234


def test_frame_code_rejects_non_codes():
    with pytest.raises(ValueError):
        S.decode_frame_index(np.zeros((96, 96), np.uint8))  # a zero padding frame
    with pytest.raises(ValueError):
        S.decode_frame_index(np.full((96, 96), 255, np.uint8))
    with pytest.raises(ValueError):
        S.decode_frame_index(np.full((96, 96), 128, np.uint8))
    blend = (S.encode_frame_index(10, 96, 96).astype(int) + S.encode_frame_index(11, 96, 96)) // 2
    with pytest.raises(ValueError):
        S.decode_frame_index(blend.astype(np.uint8))
    with pytest.raises(ValueError):
        S.encode_frame_index(S.FRAME_INDEX_MAX + 1, 96, 96)
    # Consecutive indices differ in exactly one block (Gray code).
    a = S.encode_frame_index(41, 96, 96) > 128
    b = S.encode_frame_index(42, 96, 96) > 128
    assert 0 < (a != b).mean() <= 2 / 16 + 1e-9


# --------------------------------------------------------------------------- plans

def test_plan_is_deterministic_and_has_the_edge_cases():
    spec = S.plan_session("session_00", 7)
    assert spec == S.plan_session("session_00", 7)
    assert spec != S.plan_session("session_00", 8)
    assert spec.num_frames == 600 and len(spec.speakers) == 4
    assert [s.conversation for s in spec.speakers] == [0, 0, 1, 1]
    duration_ms = spec.duration_ms
    kinds = set()
    for i, spk in enumerate(spec.speakers):
        u0, u1 = spk.uem_start_ms, spk.uem_end_ms
        assert 0 < u0 < u1 < duration_ms
        assert 2 <= len(spk.tracks) <= 3
        assert all(a.frame_stop <= b.frame_start for a, b in zip(spk.tracks, spk.tracks[1:]))
        assert spk.tracks[0].frame_start >= 0 and spk.tracks[-1].frame_stop <= spec.num_frames
        if any(a.frame_stop == b.frame_start for a, b in zip(spk.tracks, spk.tracks[1:])):
            kinds.add("contiguous tracks")
        gaps = [(a.frame_stop, b.frame_start) for a, b in zip(spk.tracks, spk.tracks[1:])
                if a.frame_stop < b.frame_start]
        assert gaps
        covered = set(spk.covered_frames().tolist())
        cues = spk.cues
        assert all(a.end_ms < b.start_ms for a, b in zip(cues, cues[1:]))
        for cue in cues:
            assert 0 <= cue.start_ms < cue.end_ms <= duration_ms
            f0, f1 = timeline.cue_frames(cue.start_ms, cue.end_ms)
            frames = set(range(f0, f1))
            if cue.start_ms < u0 < cue.end_ms:
                kinds.add("crosses uem start")
            if cue.start_ms < u1 < cue.end_ms:
                kinds.add("crosses uem end")
            if cue.end_ms == u1:
                kinds.add("ends at uem end")
            inside = u0 <= cue.start_ms and cue.end_ms <= u1
            if inside and not frames & covered:
                kinds.add("wholly in a gap")
            if inside and frames & covered and frames - covered:
                kinds.add("crosses a gap")
            if inside and f1 - f0 == 1:
                kinds.add("one frame")
            if "\n" in cue.text:
                kinds.add("multi-line")
            if cue.start_ms % 40:
                kinds.add("non-aligned start")
            if set(cue.text.lower().split()) & {"um", "uh", "haha", "wow", "hmm", "yeah"}:
                kinds.add("vocal event")
            if any(ch in cue.text for ch in "’“”'") or any(ch.isdigit() for ch in cue.text):
                kinds.add("quotes/numbers")
        for a, b in zip(spk.tracks, spk.tracks[1:]):
            if a.frame_stop == b.frame_start:
                edge = a.frame_stop * 40
                if any(c.start_ms < edge < c.end_ms and u0 <= c.start_ms and c.end_ms <= u1
                       for c in cues):
                    kinds.add("spans two tracks")
    assert kinds == {"contiguous tracks", "crosses uem start", "crosses uem end",
                     "ends at uem end", "wholly in a gap", "crosses a gap", "one frame",
                     "multi-line", "non-aligned start", "vocal event", "quotes/numbers",
                     "spans two tracks"}


def test_plan_ego_offsets():
    spec = S.plan_session("s", 1, ego=True)
    assert spec.speakers[0].ego_sample_offset == 21056  # 1.316 s
    ends_inside_uem = 0
    for spk in spec.speakers:
        d = spk.ego_sample_offset
        assert d > 0 and d % timeline.SAMPLES_PER_FRAME != 0
        assert d + spk.ego.num_frames * 640 < spec.num_samples
        ends_inside_uem += d + spk.ego.num_frames * 640 < spk.uem_end_ms * 16
        assert spk.ego.uem_start >= 0
    assert ends_inside_uem >= 1


def test_audio_references():
    spec = S.plan_session("s", 2)
    full = S.central_audio(spec, 0, spec.num_samples)
    assert full.dtype == np.float32 and len(full) == 600 * 640
    assert 0.05 < np.abs(full).max() < 0.6
    assert np.array_equal(S.central_audio(spec, 1000, 5000), full[1000:5000])
    edge = S.central_audio(spec, -100, 100)
    assert np.all(edge[:100] == 0) and np.array_equal(edge[100:], full[:100])
    assert np.all(S.central_audio(spec, spec.num_samples - 5, spec.num_samples + 5)[5:] == 0)
    lapel0 = S.lapel_audio(spec, "spk_0", 0, 20000)
    lapel1 = S.lapel_audio(spec, "spk_1", 0, 20000)
    assert abs(np.corrcoef(lapel0, lapel1)[0, 1]) < 0.05
    assert abs(np.corrcoef(lapel0, full[:20000])[0, 1]) < 0.05
    # One sharp autocorrelation peak.
    ac = [float(np.dot(full[64 + k: 64 + k + 50000], full[64: 64 + 50000])) for k in range(0, 64)]
    assert max(ac[4:]) < 0.5 * ac[0]


def test_write_vtt_and_read_back(tmp_path):
    cues = [S.CueSpec(1000, 1020, "One"), S.CueSpec(3_599_999, 3_600_001, "two\nlines it’s 2")]
    path = S.write_synthetic_vtt(tmp_path / "x.vtt", cues)
    assert "00:59:59.999 --> 01:00:00.001" in path.read_text(encoding="utf-8")
    got = read_vtt(path)
    assert [(c.start_ms, c.end_ms, c.text) for c in got] == [
        (c.start_ms, c.end_ms, c.text) for c in cues]


# --------------------------------------------------------------------------- the dev split

def test_layout_and_metadata(dev_split):
    root, spec = first_session(dev_split)
    session = root / spec.name
    assert sorted(p.name for p in root.iterdir()) == ["session_00", "session_01"]
    meta = json.loads((session / "metadata.json").read_text())
    assert sorted(meta) == [s.name for s in spec.speakers]
    assert json.loads((session / "labels/speaker_to_cluster.json").read_text()) == {
        s.name: s.conversation for s in spec.speakers}
    assert (session / "central_video.mp4").is_file()
    for spk in spec.speakers:
        entry = meta[spk.name]
        assert "camera" in entry and "ego" not in entry  # an extra key; no ego outside train
        central = entry["central"]
        assert central["video"] == "central_video.mp4"
        assert central["uem"] == {"start": spk.uem_start, "end": spk.uem_end}
        assert len(central["crops"]) == len(spk.tracks)
        for crop, track in zip(central["crops"], spk.tracks):
            base = f"speakers/{spk.name}/central_crops/{track.name}"
            assert crop == {"video": base + ".mp4", "crop_metadata": base + ".json",
                            "bbox": base + "_bbox.json", "lip": base + "_lip.av.mp4",
                            "asd": base + "_asd.json"}
            for rel in crop.values():
                assert (session / rel).is_file(), rel
            info = json.loads((session / crop["crop_metadata"]).read_text())
            assert info["frame_start"] == track.frame_start
            assert info["frame_end"] == track.written_frame_end
            assert info["frame_end"] - track.frame_stop in (-1, 0)
            assert info["start_time"] == pytest.approx(track.frame_start / 25)
            assert info["end_time"] == pytest.approx(info["frame_end"] / 25)
            assert info["duration"] == pytest.approx(info["end_time"] - info["start_time"])
            bbox = json.loads((session / crop["bbox"]).read_text())
            assert list(bbox) == [str(f) for f in range(track.frame_start, track.frame_stop)]
            for box in bbox.values():
                assert all(isinstance(box[k], int) for k in ("x1", "y1", "x2", "y2"))
                assert 0 <= box["x1"] < box["x2"] <= 160 and 0 <= box["y1"] < box["y2"] <= 96
            asd = json.loads((session / crop["asd"]).read_text())
            assert list(asd) == list(bbox) and all(isinstance(v, float) for v in asd.values())
    # Both frame_end conventions occur.
    ends = {t.written_frame_end - t.frame_stop for s in spec.speakers for t in s.tracks}
    assert ends == {-1, 0}


def test_vtt_labels_match_plan(dev_split):
    root, spec = first_session(dev_split)
    for spk in spec.speakers:
        got = read_vtt(root / spec.name / "labels" / f"{spk.name}.vtt")
        assert [(c.start_ms, c.end_ms, c.text) for c in got] == [
            (c.start_ms, c.end_ms, c.text) for c in spk.cues]


def test_every_crop_frame_decodes_to_its_index(dev_split):
    root, spec = first_session(dev_split)
    for i, spk in enumerate(spec.speakers):
        for track in spk.tracks:
            crop_dir = root / spec.name / "speakers" / spk.name / "central_crops"
            # Y plane on every frame everywhere; rgb24 on every frame of all lip files and of
            # spk_0's face crops, on every 5th frame of the other face crops.
            check_frames(crop_dir / f"{track.name}.mp4", track.frame_start, track.num_frames,
                         rgb_stride=1 if i == 0 else 5)
            check_frames(crop_dir / f"{track.name}_lip.av.mp4", track.frame_start,
                         track.num_frames)


def test_central_video_frames_b_frames_and_keyframes(dev_split):
    root, spec = first_session(dev_split)
    rows = check_frames(root / spec.name / "central_video.mp4", 0, spec.num_frames)
    with av.open(str(root / spec.name / "central_video.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (160, 96) and stream.average_rate == 25
    keyframes = [i for i, r in enumerate(rows) if r[1]]
    assert keyframes == [0, 250, 500]  # x264 defaults: keyint 250 (10 s)
    assert sum(r[2] == B_FRAME for r in rows) > spec.num_frames // 4


def test_crop_audio_is_the_central_mic_at_lag_zero(dev_split):
    root, spec = first_session(dev_split)
    check_audio(root / spec.name / "central_video.mp4", S.central_audio(spec, 0, spec.num_samples))
    for spk in spec.speakers[:2]:
        for track in spk.tracks:
            reference = S.central_audio(spec, track.frame_start * 640, track.frame_stop * 640)
            base = root / spec.name / "speakers" / spk.name / "central_crops"
            check_audio(base / f"{track.name}.mp4", reference, track.audio_format)
            check_audio(base / f"{track.name}_lip.av.mp4", reference, track.audio_format)
    # one track of each session is written as 48 kHz stereo (real cameras and phones)
    assert [t.audio_format for t in spec.speakers[0].tracks][0] == "stereo48k"


# --------------------------------------------------------------------------- the train split

def test_train_split_ego(train_split):
    root, spec = first_session(train_split)
    session = root / spec.name
    meta = json.loads((session / "metadata.json").read_text())
    assert (session / "labels").is_dir()
    for spk in spec.speakers:
        ego = spk.ego
        d = spk.ego_sample_offset
        assert d == timeline.ego_sample_offset(
            meta[spk.name]["central"]["uem"]["start"], meta[spk.name]["ego"]["uem"]["start"])
        entry = meta[spk.name]["ego"]
        assert entry["video"] == f"speakers/{spk.name}/ego_video.mp4"
        assert entry["uem"] == {"start": ego.uem_start, "end": ego.uem_end}
        # The phone video: ego frame indices, lapel audio shifted by D.
        video = session / entry["video"]
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (128, 96)
        check_frames(video, 0, ego.num_frames)
        reference = S.lapel_audio(spec, spk.name, d, d + ego.num_frames * 640)
        assert np.array_equal(reference, S.ego_audio(spec, spk.name, 0, ego.num_frames * 640))
        check_audio(video, reference, ego.audio_format)
        decoded, _, _ = decode_audio(video, ego.audio_format)
        assert best_lag(decoded, S.lapel_audio(spec, spk.name, 0, len(reference))) != 0
        # Ego requests past the recording are zeros.
        assert np.all(S.ego_audio(spec, spk.name, ego.num_frames * 640 - 10,
                                  ego.num_frames * 640 + 10)[10:] == 0)
        assert len(entry["crops"]) == len(ego.tracks)
        for crop, track in zip(entry["crops"], ego.tracks):
            info = json.loads((session / crop["crop_metadata"]).read_text())
            assert info["frame_start"] == track.frame_start  # ego frames
            bbox = json.loads((session / crop["bbox"]).read_text())
            assert list(bbox) == [str(f) for f in range(track.frame_start, track.frame_stop)]
            check_frames(session / crop["video"], track.frame_start, track.num_frames,
                         rgb_stride=5)
            check_audio(session / crop["video"],
                        S.lapel_audio(spec, spk.name, track.frame_start * 640 + d,
                                      track.frame_stop * 640 + d), track.audio_format)
    assert spec.speakers[0].ego.audio_format == "stereo48k"  # a phone's 48 kHz stereo


# --------------------------------------------------------------------------- hand-built specs

def _tiny_spec(frame_end_written=None):
    tracks = [S.TrackSpec(0, 30, 120, frame_end_written=frame_end_written)]
    speaker = S.SpeakerSpec("spk_0", 0, 1.5, 6.0, tracks, [S.CueSpec(2001, 3333, "Hello there")])
    return S.SessionSpec("session_07", 200, [speaker], seed=11)


def test_video_options_and_frame_end_override(tmp_path):
    spec = _tiny_spec(frame_end_written=140)
    session = S.write_synthetic_session(spec, tmp_path / "eval", central_video=False, lip=True, labels=False,
                                        video_options={"g": "12", "bf": "0"})
    assert not (session / "labels").exists() and not (session / "central_video.mp4").exists()
    meta = json.loads((session / "metadata.json").read_text())
    assert meta["spk_0"]["central"]["video"] == "central_video.mp4"  # listed though absent
    crop_dir = session / "speakers/spk_0/central_crops"
    assert json.loads((crop_dir / "track_00.json").read_text())["frame_end"] == 140
    for name in ("track_00.mp4", "track_00_lip.av.mp4"):
        rows = check_frames(crop_dir / name, 30, 120, expect_b_frames=False)
        assert not any(r[2] == B_FRAME for r in rows)
        assert [i for i, r in enumerate(rows) if r[1]] == list(range(0, 120, 12))
        check_audio(crop_dir / name, S.central_audio(spec, 30 * 640, 150 * 640))


def test_write_synthetic_session_validates_tracks(tmp_path):
    spec = _tiny_spec()
    spec.speakers[0].tracks[0].num_frames = 500
    with pytest.raises(ValueError, match="outside"):
        S.write_synthetic_session(spec, tmp_path)


def test_eval_split_has_no_labels(tmp_path):
    specs = S.make_split(tmp_path / "eval", "eval", num_sessions=1, seed=1, central_video=False,
                         lip=False, num_frames=375, num_speakers=1, num_conversations=1)
    session = tmp_path / "eval" / specs[0].name
    assert not (session / "labels").exists() and not (session / "central_video.mp4").exists()
    meta = json.loads((session / "metadata.json").read_text())
    assert list(meta) == ["spk_0"] and "ego" not in meta["spk_0"]
    crops = meta["spk_0"]["central"]["crops"]
    assert all(set(c) == {"video", "crop_metadata", "bbox"} for c in crops)
    with pytest.raises(ValueError):
        S.make_split(tmp_path / "x", "test")
