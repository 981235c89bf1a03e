"""Files as ordinary encoders and editors write them (SPEC §2-§3): open-GOP streams read from
every position, stream-copy cuts whose edit list hides pre-roll packets, and 48 kHz stereo
audio made mono by averaging its channels."""
import fractions
import json

import av
import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.media import HeaderCache, VideoReader, decode_audio, read_header
from mcorec_torch.qa.check import check_split
from mcorec_torch.qa.verify import audio_lag, check_sample, gain_db
from mcorec_torch.synthetic import CueSpec, SessionSpec, SpeakerSpec, TrackSpec

OPEN_GOP = "open-gop=1:b-pyramid=normal:bframes=8:keyint=60:min-keyint=60:scenecut=0"
NUM_FRAMES = 150  # keyframes at 0, 60, 120: two GOP boundaries with 8 leading B-frames each


def write_video(path, options, num_frames=NUM_FRAMES, first_index=0, muxer_options=None, audio=None):
    """An H.264 mp4 whose frame j shows index first_index + j (libx264 through PyAV)."""
    container = av.open(str(path), "w", options=muxer_options or {})
    stream = container.add_stream("libx264", rate=25)
    stream.width = stream.height = 96
    stream.pix_fmt = "yuv420p"
    stream.options = options
    astream = None
    if audio is not None:
        astream = container.add_stream("aac", rate=16000)
        astream.layout = "mono"
    for j in range(num_frames):
        image = np.repeat(synthetic.encode_frame_index(first_index + j, 96, 96)[..., None], 3, axis=2)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = j
        for packet in stream.encode(frame):
            container.mux(packet)
        if astream is not None:
            chunk = np.ascontiguousarray(audio[None, j * 640: (j + 1) * 640])
            aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            aframe.sample_rate, aframe.pts, aframe.time_base = 16000, j * 640, fractions.Fraction(1, 16000)
            for packet in astream.encode(aframe):
                container.mux(packet)
    for s in [stream] + ([astream] if astream is not None else []):
        for packet in s.encode():
            container.mux(packet)
    container.close()
    return path


def packet_frames(path):
    """``(presented frame index, is keyframe)`` of every video packet, in decoding order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tick = int(1 / (25 * stream.time_base))
        packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]
    origin = min(pts for pts, _ in packets)
    return [((pts - origin) // tick, key) for pts, key in packets]


def leading_b_frames(path):
    """Frames (by index) presented before a keyframe but decoded after it: open-GOP leading B-frames."""
    leading, last_key = [], None
    for index, key in packet_frames(path):
        if key:
            last_key = index
        elif last_key is not None and index < last_key:
            leading.append(index)
    return leading


@pytest.fixture(scope="module")
def open_gop_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("opengop")
    return {
        "open-gop": write_video(folder / "open_gop.mp4", {"x264-params": OPEN_GOP}),
        "open-gop-fragmented": write_video(folder / "open_gop_frag.mp4", {"x264-params": OPEN_GOP},
                                           muxer_options={"movflags": "frag_keyframe+empty_moov+default_base_moof"}),
        "closed-gop-b-pyramid": write_video(folder / "closed.mp4", {
            "x264-params": "b-pyramid=normal:bframes=8:keyint=60:min-keyint=60:scenecut=0"}),
    }


def indices(frames):
    return [synthetic.decode_frame_index(f) for f in frames]


def test_the_open_gop_files_have_leading_b_frames(open_gop_files):
    for name in ("open-gop", "open-gop-fragmented"):
        assert 59 in leading_b_frames(open_gop_files[name]), name  # the frame just before keyframe 60
    assert leading_b_frames(open_gop_files["closed-gop-b-pyramid"]) == []


@pytest.mark.parametrize("name", ["open-gop", "open-gop-fragmented", "closed-gop-b-pyramid"])
@pytest.mark.parametrize("count", [1, 2, 9, 40])
def test_every_read_position_from_a_fresh_reader(open_gop_files, name, count):
    """Each read opens the file anew, so each one seeks (no decoding on from an earlier read)."""
    path = open_gop_files[name]
    wrong = []
    for first in range(0, NUM_FRAMES - count + 1):
        reader = VideoReader(path)
        try:
            got = indices(reader.read(first, count, "gray"))
        except Exception as exc:  # noqa: BLE001 - collected, reported together
            got = repr(exc)
        finally:
            reader.close()
        if got != list(range(first, first + count)):
            wrong.append((first, got))
    assert wrong == []


@pytest.mark.parametrize("name", ["open-gop", "open-gop-fragmented"])
def test_random_and_backward_reads_on_one_reader(open_gop_files, name):
    reader = VideoReader(open_gop_files[name])
    rng = np.random.default_rng(5)
    positions = [(59, 1), (119, 1), (58, 2), (112, 8), (0, 150), (118, 2), (52, 70)]
    positions += [(int(f), int(rng.integers(1, NUM_FRAMES - f + 1))) for f in rng.integers(0, NUM_FRAMES, 60)]
    for first, count in positions:
        assert indices(reader.read(first, count, "rgb")) == list(range(first, first + count)), (first, count)
    reader.close()


def test_dataset_segments_on_an_open_gop_track_around_keyframes(tmp_path):
    """One-frame and short cues ending just before each keyframe of an open-GOP crop."""
    near_keyframes = [f for k in (50, 100, 150, 200) for f in range(k - 6, k + 3)]
    cues = [CueSpec(f * 40, f * 40 + 20, "one") for f in near_keyframes]   # one frame each
    cues += [CueSpec(1920, 2040, "two"), CueSpec(3880, 4010, "three"), CueSpec(5000, 9000, "long")]
    spk = SpeakerSpec("spk_0", 0, 0.5, 9.5, [TrackSpec(0, 0, 240, encoding="open_gop")], cues)
    spec = SessionSpec("session_og", 250, [spk], seed=2)
    synthetic.write_synthetic_session(spec, tmp_path / "dev")
    lip = tmp_path / "dev/session_og/speakers/spk_0/central_crops/track_00_lip.av.mp4"
    assert set(leading_b_frames(lip)) & set(near_keyframes)  # written open-GOP, keyframes every 50
    for crops in ("lip", "face"):
        ds = MCoRecDataset(tmp_path / "dev", crops=crops, color="gray", cache_dir=tmp_path / "cache")
        assert len(ds) == len(cues)
        for i in range(len(ds)):
            s = ds[i]
            reference = synthetic.central_audio(spec, s["frame_start"] * 640, s["frame_end"] * 640)
            assert check_sample(s, synthetic.decode_frame_index, reference) == []


# ------------------------------------------------------------------ edit lists (stream-copy cuts)

@pytest.fixture(scope="module")
def cut_file(tmp_path_factory):
    """Source frames show 100..259 with keyframes every 50; cut at source frame 40 (index 140):
    the packets of source frames 0..39 stay in the file, hidden by the edit list."""
    folder = tmp_path_factory.mktemp("cut")
    audio = synthetic.central_audio(SessionSpec("x", 400, [], seed=3), 100 * 640, 260 * 640)
    source = write_video(folder / "source.mp4", {"g": "50"}, num_frames=160, first_index=100, audio=audio)
    target = folder / "cut.mp4"
    assert synthetic.cut_by_stream_copy(source, target, 40) == 40
    return target, audio[40 * 640:]


def test_cut_header_counts_hidden_packets_but_frames_are_what_is_presented(cut_file, tmp_path):
    path, _ = cut_file
    header = read_header(path)
    assert header.num_frames == 160 and header.duration_frames == 120  # 40 packets hidden
    assert not header.frames_shown()
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 120  # what the decoder presents
    cache = HeaderCache(tmp_path / "headers.json")
    # The track json agrees with the presented count, not with the header: frames decide.
    assert cache.frame_count(path, expected=120) == 120
    assert cache.frame_count(path, expected=160) == 120
    cache.save()
    assert HeaderCache(tmp_path / "headers.json").frame_count(path) == 120  # counted once, cached
    reader = VideoReader(path)
    assert indices(reader.read(0, 3, "gray")) == [140, 141, 142]
    assert indices(reader.read(117, 3, "gray")) == [257, 258, 259]
    with pytest.raises(Exception, match="requested but only"):
        reader.read(118, 5, "gray")
    reader.close()


def test_cut_audio_lands_on_the_cut_track_timeline(cut_file):
    path, reference = cut_file
    decoded = decode_audio(path, len(reference))
    assert audio_lag(decoded[2000:-2000], reference[2000:-2000]) == 0
    assert abs(gain_db(decoded[2000:-2000], reference[2000:-2000])) < 0.3


@pytest.fixture(scope="module")
def cut_split(tmp_path_factory):
    """spk_0: tracks [0,100), [140,260) and [320,375); the middle one is a stream-copy cut with
    40 hidden packets, so its header says 160 frames and it *seems* to run to frame 300."""
    cues = [CueSpec(6000, 6800, "inside the cut track"),     # frames [150,170)
            CueSpec(10000, 10800, "across the cut end"),     # [250,270): 10 frames of track, 10 gap
            CueSpec(10800, 11600, "in the real gap"),         # [270,290): no track covers it
            CueSpec(2000, 2400, "first track"),               # [50,60)
            CueSpec(13000, 14000, "last track")]              # [325,350)
    tracks = [TrackSpec(0, 0, 100), TrackSpec(1, 140, 120, frame_end_written=260), TrackSpec(2, 320, 55)]
    spec = SessionSpec("session_cut", 375, [SpeakerSpec("spk_0", 0, 0.5, 14.5, tracks, cues)], seed=8)
    root = tmp_path_factory.mktemp("cutsplit") / "dev"
    session = synthetic.write_synthetic_session(spec, root)
    crops = session / "speakers/spk_0/central_crops"
    audio = synthetic.central_audio(spec, 100 * 640, 260 * 640)
    for name, size in (("track_01.mp4", synthetic.FACE_SIZE), ("track_01_lip.av.mp4", synthetic.LIP_SIZE)):
        source = crops.parent / f"source_{name}"
        synthetic.write_track_video(source, range(100, 260), size, audio, {"g": "50"})
        assert synthetic.cut_by_stream_copy(source, crops / name, 40) == 40
        source.unlink()
    return root, spec


@pytest.mark.parametrize("crops", ["lip", "face"])
def test_index_counts_presented_frames_of_a_cut_track(cut_split, tmp_path, crops):
    root, spec = cut_split
    ds = MCoRecDataset(root, crops=crops, color="gray", missing_video="pad", cache_dir=tmp_path)
    track = [t for t in ds.index.tracks if t.path.endswith(f"track_01{'_lip.av' if crops == 'lip' else ''}.mp4")][0]
    assert (track.start, track.num_frames) == (140, 120)
    report = ds.report().by_speaker()[("dev", "session_cut", "spk_0")]
    assert report["kept"] == 4 and report["no_video"] == 1  # the cue in the real gap is dropped
    by_text = {ds.text(i).lower(): i for i in range(len(ds))}
    assert "in the real gap" not in by_text
    across = ds[by_text["across the cut end"]]
    assert across["video_mask"].tolist() == [True] * 10 + [False] * 10
    for i in range(len(ds)):
        s = ds[i]
        reference = synthetic.central_audio(spec, s["frame_start"] * 640, s["frame_end"] * 640)
        assert check_sample(s, synthetic.decode_frame_index, reference) == [], s["id"]
    headers = json.loads((tmp_path / "headers.json").read_text())
    assert headers[track.path]["presented_frames"] == 120
    dropped = MCoRecDataset(root, crops=crops, missing_video="drop", cache_dir=tmp_path)
    assert sorted(dropped.text(i).lower() for i in range(len(dropped))) == [
        "first track", "inside the cut track", "last track"]


def test_check_reports_no_problem_on_a_cut_track(cut_split):
    root, _ = cut_split
    result = check_split(root)
    assert result.problems == []


def test_check_uses_presented_frames_against_the_track_json(cut_split, tmp_path):
    """With a json that claims the stored count (160), check names the mismatch."""
    import shutil

    root, _ = cut_split
    copy = tmp_path / "dev"
    shutil.copytree(root, copy)
    track_json = copy / "session_cut/speakers/spk_0/central_crops/track_01.json"
    info = json.loads(track_json.read_text())
    info["frame_end"] = 300
    track_json.write_text(json.dumps(info))
    messages = [str(p) for p in check_split(copy).problems]
    assert any("holds 120 frames but its track json says 160" in m for m in messages), messages


# ------------------------------------------------------------------ stereo / 48 kHz audio

def write_stereo(path, left, right, rate):
    container = av.open(str(path), "w")
    stream = container.add_stream("aac", rate=rate)
    stream.layout = "stereo"
    planes = np.stack([left, right]).astype(np.float32)
    for start in range(0, planes.shape[1], 1024):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planes[:, start: start + 1024]),
                                           format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, fractions.Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


@pytest.mark.parametrize("rate", [48000, 16000])
def test_stereo_becomes_mono_by_averaging_without_gain(tmp_path, rate):
    seconds = 3
    t = np.arange(seconds * rate) / rate
    tone = 0.9 * np.sin(2 * np.pi * 440 * t)
    same = decode_audio(write_stereo(tmp_path / "same.mp4", tone, tone, rate))
    reference = 0.9 * np.sin(2 * np.pi * 440 * np.arange(len(same)) / 16000)
    core = slice(4000, seconds * 16000 - 4000)
    assert abs(gain_db(same[core], reference[core])) < 0.1  # a signal in both channels keeps its level
    assert np.abs(same).max() <= 1.0
    other = 0.5 * np.sin(2 * np.pi * 1000 * t)
    mixed = decode_audio(write_stereo(tmp_path / "mixed.mp4", tone, other, rate))
    mean = ((0.9 * np.sin(2 * np.pi * 440 * np.arange(len(mixed)) / 16000)
             + 0.5 * np.sin(2 * np.pi * 1000 * np.arange(len(mixed)) / 16000)) / 2)
    assert audio_lag(mixed[core], mean[core]) == 0
    assert abs(gain_db(mixed[core], mean[core])) < 0.1
    assert np.sqrt(np.mean((mixed[core] - mean[core]) ** 2)) < 0.05  # the mean; one channel is ~0.3 off


def test_decoded_audio_stays_in_range_on_a_full_scale_stereo_source(tmp_path):
    rate = 48000
    t = np.arange(2 * rate) / rate
    full = np.sign(np.sin(2 * np.pi * 200 * t)) * 0.999  # a square wave rings past 1 after AAC
    decoded = decode_audio(write_stereo(tmp_path / "loud.mp4", full, full, rate))
    assert np.abs(decoded).max() <= 1.0


def test_stereo_48k_track_of_the_synthetic_split_feeds_crop_audio(dev_split_without_central, tmp_path):
    """Without central_video.mp4 the speaker's own (stereo 48 kHz) track carries the audio."""
    root, specs = dev_split_without_central
    ds = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)
    checked = 0
    for i in range(len(ds)):
        s = ds[i]
        spec = specs[s["session"]]
        stereo = spec.speaker(s["speaker"]).tracks[0]
        if s["speaker"] != "spk_0" or not (stereo.frame_start <= s["frame_start"] and s["frame_end"] <= stereo.frame_stop):
            continue
        assert stereo.audio_format == "stereo48k"
        reference = synthetic.central_audio(spec, s["frame_start"] * 640, s["frame_end"] * 640)
        audio = s["audio"].numpy()
        assert audio_lag(audio, reference) == 0
        assert abs(gain_db(audio, reference)) < 0.5
        checked += 1
    assert checked >= 2


def test_fragmented_mp4_without_a_frame_count_is_counted_by_decoding(open_gop_files, tmp_path):
    path = open_gop_files["open-gop-fragmented"]
    header = read_header(path)
    assert header.num_frames == 0 and not header.frames_shown()
    assert HeaderCache(tmp_path / "h.json").frame_count(path, expected=150) == NUM_FRAMES


def test_audio_cached_on_disk_by_an_older_decoder_is_decoded_anew(tmp_path, monkeypatch):
    from mcorec_torch import media
    from mcorec_torch.media import audio as media_audio

    t = np.arange(48000) / 48000
    path = str(write_stereo(tmp_path / "s.mp4", 0.5 * np.sin(2 * np.pi * 300 * t), 0 * t, 48000))
    fresh = media.MediaPool(tmp_path / "audio").audio(path, None)
    cached = list((tmp_path / "audio").glob("*.npy"))
    assert len(cached) == 1
    np.save(cached[0], fresh * 1.41)  # what the +3 dB downmix left in caches
    assert np.allclose(media.MediaPool(tmp_path / "audio").audio(path, None), fresh * 1.41)
    monkeypatch.setattr(media_audio, "AUDIO_DECODER_VERSION", media_audio.AUDIO_DECODER_VERSION + 1)
    assert np.array_equal(media.MediaPool(tmp_path / "audio").audio(path, None), fresh)
