"""Frame-exact random access under other GOP / B-frame settings and timestamp origins (SPEC §2, §8)."""
import av
import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.media import VideoReader, decode_audio
from mcorec_torch.synthetic import CueSpec, SessionSpec, SpeakerSpec, TrackSpec
from mcorec_torch.qa.verify import check_sample

ENCODINGS = {
    "no-bframes-short-gop": {"g": "12", "bf": "0"},
    "open-gop-pyramid": {"x264-params": "keyint=100:min-keyint=100:scenecut=0:bframes=5:b-pyramid=normal:open-gop=1"},
    "all-intra": {"g": "1"},
}


def one_speaker_session(name, seed=3):
    cues = [CueSpec(1100, 2900, "one"), CueSpec(4010, 9990, "two"), CueSpec(3000, 3030, "three"),
            CueSpec(10010, 11000, "four"), CueSpec(12500, 13700, "five")]
    spk = SpeakerSpec("spk_0", 0, 1.0, 14.5, [TrackSpec(0, 0, 160), TrackSpec(1, 160, 215)], cues)
    return SessionSpec(name, 375, [spk], seed=seed)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_segments_exact_under_other_encoder_settings(tmp_path, encoding):
    spec = one_speaker_session(f"session_{encoding}")
    synthetic.write_synthetic_session(spec, tmp_path / "dev", video_options=ENCODINGS[encoding])
    for crops, color in (("lip", "gray"), ("face", "rgb")):
        ds = MCoRecDataset(tmp_path / "dev", crops=crops, color=color, cache_dir=tmp_path / "c")
        assert len(ds) == 5
        for i in [4, 0, 2, 1, 3, 3, 0]:  # out of order and repeated: seeks back and forth
            s = ds[i]
            reference = synthetic.central_audio(spec, s["frame_start"] * 640, s["frame_end"] * 640)
            assert check_sample(s, synthetic.decode_frame_index, reference) == []


def test_random_reads_equal_a_sequential_decode(dev_split):
    root, _ = dev_split
    path = str(next(root.glob("session_00/speakers/spk_0/central_crops/track_00_lip.av.mp4")))
    with av.open(path) as container:
        full = np.stack([synthetic.decode_frame_index(f.to_ndarray(format="gray")) for f in container.decode(video=0)])
    reader = VideoReader(path)
    rng = np.random.default_rng(0)
    for _ in range(40):
        first = int(rng.integers(0, len(full)))
        count = int(rng.integers(1, min(60, len(full) - first) + 1))
        frames = reader.read(first, count, "gray")
        assert [synthetic.decode_frame_index(f) for f in frames] == full[first: first + count].tolist()
    with pytest.raises(Exception, match="requested but only"):
        reader.read(len(full) - 2, 5, "gray")
    reader.close()


def test_stream_that_does_not_start_at_zero(tmp_path):
    """Frame j is the j-th frame in presentation order, whatever the first timestamp."""
    path = tmp_path / "late.mp4"
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=25)
    stream.width = stream.height = 96
    stream.pix_fmt = "yuv420p"
    for j in range(60):
        image = np.repeat(synthetic.encode_frame_index(j, 96, 96)[..., None], 3, axis=2)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = j + 7  # the first frame is shown at 0.28 s
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    reader = VideoReader(path)
    assert [synthetic.decode_frame_index(f) for f in reader.read(0, 3, "gray")] == [0, 1, 2]
    assert [synthetic.decode_frame_index(f) for f in reader.read(50, 10, "rgb")] == list(range(50, 60))


def test_decoded_audio_trims_aac_padding_and_keeps_lag_zero(dev_split):
    root, specs = dev_split
    spec = specs["session_00"]
    audio = decode_audio(root / "session_00" / "central_video.mp4", spec.num_samples)
    assert audio.shape == (spec.num_samples,) and audio.dtype == np.float32
    from mcorec_torch.qa.verify import audio_lag
    reference = synthetic.central_audio(spec, 0, spec.num_samples)
    assert audio_lag(audio[16000:48000], reference[16000:48000]) == 0
    assert np.corrcoef(audio, reference)[0, 1] > 0.95


def test_rgb_equals_pyav_conversion_and_gray_equals_pyav_gray(dev_split):
    root, _ = dev_split
    path = str(next(root.glob("session_00/speakers/spk_1/central_crops/track_00.mp4")))
    with av.open(path) as container:
        frames = [f for _, f in zip(range(30), container.decode(video=0))]
        rgb = np.stack([f.to_ndarray(format="rgb24").transpose(2, 0, 1) for f in frames])
        gray = np.stack([f.to_ndarray(format="gray")[None] for f in frames])
    reader = VideoReader(path)
    assert np.array_equal(reader.read(0, 30, "rgb"), rgb)
    assert np.array_equal(reader.read(0, 30, "gray"), gray)  # Y-plane lookup == FFmpeg's gray


@pytest.mark.parametrize("rate,layout", [(48000, "stereo"), (44100, "mono")])
def test_audio_at_other_rates_is_resampled_without_lag(tmp_path, rate, layout):
    spec = synthetic.SessionSpec("x", 375, [], seed=4)
    n16 = 16000 * 4
    reference = synthetic.central_audio(spec, 0, n16)
    n = n16 * rate // 16000 if rate % 16000 == 0 else int(round(n16 * rate / 16000))
    spectrum = np.fft.rfft(reference)
    wide = np.zeros(n // 2 + 1, complex)
    wide[: len(spectrum)] = spectrum
    signal = (np.fft.irfft(wide, n) * (n / n16)).astype(np.float32)  # the same sound at `rate`
    channels = 2 if layout == "stereo" else 1
    path = tmp_path / "a.mp4"
    container = av.open(str(path), "w")
    stream = container.add_stream("aac", rate=rate)
    stream.layout = layout
    for start in range(0, n, 1024):
        chunk = np.ascontiguousarray(np.repeat(signal[None, start: start + 1024], channels, axis=0))
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate, frame.pts = rate, start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    decoded = decode_audio(path, n16)
    from mcorec_torch.qa.verify import audio_lag
    assert decoded.shape == (n16,)
    assert audio_lag(decoded[4000:-4000], reference[4000:-4000]) == 0
    assert np.corrcoef(decoded, reference)[0, 1] > 0.99


def test_gray_paths_agree_for_every_luma_value():
    from av.video.reformatter import VideoReformatter
    from mcorec_torch.media import GRAY_LUT, frame_to_gray, swscale_gray_is_exact

    assert GRAY_LUT[16] == 0 and GRAY_LUT[235] == 255 and GRAY_LUT[0] == 0 and GRAY_LUT[255] == 255
    assert GRAY_LUT[126] == 128  # (126 - 16) * 255 / 219 = 128.08
    assert swscale_gray_is_exact(96, 96) and swscale_gray_is_exact(224, 224)
    assert not swscale_gray_is_exact(97, 96)  # odd sizes always take the lookup table
    rng = np.random.default_rng(1)
    buffer = np.full((144, 96), 128, np.uint8)
    buffer[:96] = rng.integers(0, 256, (96, 96), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(buffer, format="yuv420p")
    expected = GRAY_LUT[buffer[:96]]
    assert np.array_equal(frame_to_gray(frame), expected)                       # lookup table
    assert np.array_equal(frame_to_gray(frame, VideoReformatter()), expected)   # swscale


@pytest.mark.parametrize("audio_delay", [0, 800, -640])
def test_audio_is_placed_against_the_first_video_frame(tmp_path, audio_delay):
    """Audio that starts 50 ms after the video (a stream-copied cut) lands 800 samples in."""
    spec = synthetic.SessionSpec("x", 375, [], seed=9)
    reference = synthetic.central_audio(spec, 0, 32000)
    path = tmp_path / "cut.mp4"
    container = av.open(str(path), "w")
    video = container.add_stream("libx264", rate=25)
    video.width = video.height = 64
    video.pix_fmt = "yuv420p"
    audio = container.add_stream("aac", rate=16000)
    audio.layout = "mono"
    first = max(audio_delay, 0)
    for j in range(50):
        frame = av.VideoFrame.from_ndarray(np.zeros((96, 64), np.uint8), format="yuv420p")
        frame.pts = j + 5  # the video itself starts at 0.2 s
        for packet in video.encode(frame):
            container.mux(packet)
    for start in range(first, 32000, 1024):
        chunk = np.ascontiguousarray(reference[None, start: start + 1024])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        frame.sample_rate = 16000
        frame.pts = 3200 + start + min(audio_delay, 0)  # video start (0.2 s) + offset
        for packet in audio.encode(frame):
            container.mux(packet)
    for stream in (video, audio):
        for packet in stream.encode():
            container.mux(packet)
    container.close()
    decoded = decode_audio(path, 32000)
    from mcorec_torch.qa.verify import audio_lag
    if audio_delay > 0:  # before the audio starts: silence (the encoder's priming decodes to ~0)
        assert np.abs(decoded[:audio_delay]).max() < 0.02 < np.abs(decoded[audio_delay:2 * audio_delay]).max()
    shift = min(audio_delay, 0)  # audio written before the video starts is cut
    assert audio_lag(decoded[4000:28000], np.roll(reference, shift)[4000:28000]) == 0


@pytest.mark.parametrize("size", [(96, 96), (224, 224), (88, 88), (100, 98)])
def test_rgb_into_equals_packed_rgb_for_colour_pictures(size):
    """Planar swscale output is used only where it equals the packed conversion byte for byte."""
    from av.video.reformatter import VideoReformatter
    from mcorec_torch.media.color import frame_to_rgb, frame_to_rgb_into, planar_rgb_is_exact

    height, width = size
    rng = np.random.default_rng(height)
    if size in ((96, 96), (224, 224)):
        assert planar_rgb_is_exact(width, height)  # the crop sizes take the fast path here
    for _ in range(4):
        picture = av.VideoFrame.from_ndarray(rng.integers(0, 256, (height * 3 // 2, width), dtype=np.uint8),
                                             format="yuv420p")
        out = np.full((3, height, width), 7, np.uint8)
        frame_to_rgb_into(picture, VideoReformatter(), out)
        assert np.array_equal(out, frame_to_rgb(picture, VideoReformatter()))


def test_read_decodes_into_the_given_array(dev_split):
    root, _ = dev_split
    path = str(next(root.glob("session_00/speakers/spk_0/central_crops/track_00.mp4")))
    reader = VideoReader(path)
    fresh = reader.read(10, 5, "rgb")
    target = np.full((7, 3, 224, 224), 9, np.uint8)
    assert reader.read(10, 5, "rgb", out=target[1:6]) is not None
    assert np.array_equal(target[1:6], fresh) and (target[0] == 9).all() and (target[6] == 9).all()
    with pytest.raises(ValueError, match="out must be"):
        reader.read(0, 2, "gray", out=np.zeros((2, 3, 224, 224), np.uint8))
    reader.close()
