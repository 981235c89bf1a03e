"""``content="speech"`` synthetic sessions: learnable pixels and audio that follow the text.

The speech split is read back through :class:`mcorec_torch.MCoRecDataset` (decoded H.264 and
AAC), and a simple nearest-prototype classifier and an FFT show that what a model sees and
hears is the transcript, frame-aligned.
"""
from __future__ import annotations

import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic as S, timeline
from mcorec_torch.synthetic import speech as SS
from mcorec_torch.text import normalize
from mcorec_torch.timeline import SAMPLES_PER_FRAME, SAMPLE_RATE


@pytest.fixture(scope="module")
def speech_split(tmp_path_factory):
    """A 1-session train split (4 speakers, 2 conversations, ego recordings), speech content."""
    root = tmp_path_factory.mktemp("speech") / "train"
    specs = S.make_split(root, "train", num_sessions=1, seed=3, num_frames=600, content="speech")
    return root, {s.name: s for s in specs}


@pytest.fixture(scope="module")
def lip_dataset(speech_split, tmp_path_factory):
    root, _ = speech_split
    return MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path_factory.mktemp("cache"))


# --------------------------------------------------------------------------- helpers

def mouth_features(image, region):
    """Translation-invariant mouth features of a gray image: opening height and width (rows /
    columns with pixels darker than the lips), dark-fill area and opening area."""
    y0, y1, x0, x1 = region
    crop = np.asarray(image, dtype=np.float32)[y0:y1, x0:x1]
    opening = crop < 92
    height = int(opening.any(axis=1).sum())
    width = int(opening.any(axis=0).sum())
    return np.array([height, width, (crop < 55).sum() / 20.0, opening.sum() / 20.0])


LIP_REGION = (8, 88, 8, 88)  # what every random 88x88 crop of the 96x96 lip crop contains
FACE_REGION = (113, 213, 40, 184)  # the lower middle of the 224x224 face crop
SYMBOLS = np.arange(SS.NEUTRAL, len(SS.CHARSET))


class NearestPrototype:
    """Classifies a crop by the nearest clean template (:func:`mouth_template`) in feature space."""

    def __init__(self, size, region, session=None, speaker_name="spk_0"):
        self.region = region
        self.prototypes = np.stack([
            mouth_features(SS.mouth_template(s, size, session=session, speaker_name=speaker_name), region)
            for s in SYMBOLS])

    def __call__(self, image):
        distance = ((self.prototypes - mouth_features(image, self.region)) ** 2).sum(axis=1)
        return int(SYMBOLS[np.argmin(distance)])


def text_from_symbols(symbols):
    """The characters a run of frames shows: one per run of a symbol, neutral frames split runs."""
    chars, previous = [], SS.NEUTRAL
    for s in symbols:
        if s != SS.NEUTRAL and s != previous:
            chars.append(SS.CHARSET[s])
        previous = s
    return "".join(chars)


def dominant_symbol(audio, pitch):
    """The symbol whose two tones are the strongest peaks below / above 800 Hz."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)), n=8192))
    freqs = np.fft.rfftfreq(8192, 1.0 / SAMPLE_RATE)
    low_band = (freqs > 250) & (freqs < 800)
    high_band = (freqs >= 800) & (freqs < 3600)
    low = freqs[low_band][np.argmax(spectrum[low_band])] / pitch
    high = freqs[high_band][np.argmax(spectrum[high_band])] / pitch
    row = int(np.argmin(np.abs(np.log(np.array(SS.LOW_TONES) / low))))
    col = int(np.argmin(np.abs(np.log(np.array(SS.HIGH_TONES) / high))))
    return row + 4 * col


# --------------------------------------------------------------------------- plans and texts

def test_index_content_is_the_default_and_unchanged():
    plan = S.plan_session("session_00", 7, num_frames=600, ego=True)
    assert plan.content == "index"
    assert plan == S.plan_session("session_00", 7, num_frames=600, ego=True, content="index")
    assert S.SessionSpec("x", 375, [], 4).content == "index"  # positional construction still works
    speech = S.plan_session("session_00", 7, num_frames=600, ego=True, content="speech")
    assert speech.content == "speech"
    # Same plan (UEMs, tracks, ego, cue timings), only the cue texts differ.
    for a, b in zip(plan.speakers, speech.speakers):
        assert (a.uem_start, a.uem_end, a.tracks, a.ego, a.conversation) == \
            (b.uem_start, b.uem_end, b.tracks, b.ego, b.conversation)
        assert [(c.start_ms, c.end_ms) for c in a.cues] == [(c.start_ms, c.end_ms) for c in b.cues]
        assert [c.text for c in a.cues] != [c.text for c in b.cues]
    # Index content keeps its noise signals; speech content has its own.
    assert np.array_equal(S.central_audio(plan, 0, 6400),
                          S._noise(S._seed_words(7, "central"), plan.num_samples)[:6400])
    assert not np.array_equal(S.central_audio(speech, 0, 64000), S.central_audio(plan, 0, 64000))
    for bad in (lambda: S.plan_session("s", 1, content="pixels"),
                lambda: S.SessionSpec("x", 375, [], 4, content="pixels"),
                lambda: S.make_split("/nonexistent", "dev", content="pixels")):
        with pytest.raises(ValueError, match="content"):
            bad()


def test_speech_texts_fit_their_cues():
    ratios, raw = [], []
    for seed in range(3):
        spec = S.plan_session(f"session_{seed:02d}", seed, num_frames=1500, content="speech")
        assert spec == S.plan_session(f"session_{seed:02d}", seed, num_frames=1500, content="speech")
        for spk in spec.speakers:
            for cue in spk.cues:
                f0, f1 = timeline.cue_frames(cue.start_ms, cue.end_ms)
                text = normalize(cue.text, "train")
                assert text and set(text) <= set(SS.CHARSET), cue.text
                raw.append(cue.text)
                if f1 - f0 < 10:  # tiny edge-case cues: one word, at most a letter a frame
                    assert " " not in text and len(text) <= max(1, f1 - f0), (cue, text)
                else:
                    ratios.append((f1 - f0) / len(text))
    ratios = np.array(ratios)
    assert 3.0 <= np.median(ratios) <= 4.5 and ratios.min() >= 2.5 and ratios.max() <= 7.0
    assert any(w in t.lower().split() for t in raw for w in ("um", "uh", "hmm"))  # vocal events
    assert any("'" in normalize(t, "train") for t in raw)  # contractions
    assert all(c in "".join(normalize(t, "train") for t in raw) for c in SS.CHARSET)  # every symbol


def test_articulation_spreads_characters_over_the_cue():
    speaker = S.SpeakerSpec("spk_0", 0, 0.5, 14.0, [S.TrackSpec(0, 0, 375)],
                            [S.CueSpec(1010, 1930, "Um, all ill."), S.CueSpec(3000, 3040, "I")])
    spec = S.SessionSpec("session_x", 375, [speaker], seed=2, content="speech")
    art = SS.articulation(spec, "spk_0")
    assert art.shape == (375,) and art.dtype == np.int64
    f0, f1 = timeline.cue_frames(1010, 1930)  # 25, 49: 24 frames, "ALL ILL" 7 chars, 3-4 frames each
    assert (f0, f1) == (25, 49)
    spans = SS.character_spans(spec, "spk_0")
    assert [s[2] for s in spans] == [SS.symbol_of(c) for c in "ALL ILL"] + [SS.symbol_of("I")]
    assert spans[0][0] == f0 and spans[6][1] == f1
    assert all(b - a in (3, 4) for a, b, _ in spans[:7])
    for a, b, symbol in spans[:7]:  # a closed mouth, then the character
        assert art[a] == SS.NEUTRAL and set(art[a + 1:b]) == {symbol}
    assert text_from_symbols(art[f0:f1]) == "ALL ILL"  # doubled letters stay visible
    assert art[75] == SS.symbol_of("I")  # a one-frame cue: no neutral frame
    outside = np.ones(375, bool)
    outside[f0:f1] = outside[75] = False
    assert np.all(art[outside] == SS.NEUTRAL)
    with pytest.raises(ValueError, match="charset"):
        SS.articulation(S.SessionSpec("y", 375, [S.SpeakerSpec("spk_0", 0, 0.5, 14.0, [], [
            S.CueSpec(1000, 2000, "route 66")])], seed=1, content="speech"), "spk_0")


def test_mouths_are_symmetric_distinct_and_inside_every_88_crop():
    for scale in (1.0, 1.6):
        _, _, layers = SS._mouth_layers(scale, 110.0)
        for mul, add in layers.values():  # horizontal flips keep every symbol
            assert np.allclose(mul, mul[:, ::-1]) and np.allclose(add, add[:, ::-1])
    face = SS._face(0, "spk_0", S.LIP_SIZE)
    bare = (face.base + 0.5).astype(np.uint8)  # the face without a mouth
    for s in SYMBOLS:
        for dy, dx in ((-2, -2), (2, 2)):  # the largest jitter
            rows, cols = np.nonzero(face.render(s, dy, dx) != bare)
            assert rows.min() >= 8 and rows.max() < 88 and cols.min() >= 8 and cols.max() < 88, s
    shapes = {SS.mouth_shape(s) for s in range(len(SS.CHARSET))}
    assert len(shapes) == len(SS.CHARSET) and SS.mouth_shape(SS.NEUTRAL) is None
    tones = {SS.symbol_tones(s) for s in range(len(SS.CHARSET))}
    assert len(tones) == len(SS.CHARSET)
    assert all(300 < f * p < 3400 for t in tones for f in t for p in (0.95, 1.05))


# --------------------------------------------------------------------------- decoded media

def test_lip_crops_show_the_articulation(speech_split, lip_dataset):
    _, specs = speech_split
    classify = NearestPrototype(S.LIP_SIZE, LIP_REGION)
    correct = shifted = total = full = 0
    for i in range(len(lip_dataset)):
        s = lip_dataset[i]
        spec = specs[s["session"]]
        art = SS.articulation(spec, s["speaker"])
        f0, f1 = s["frame_start"], s["frame_end"]
        mask = s["video_mask"].numpy()
        predicted = np.array([classify(frame[0]) for frame in s["video"].numpy()])
        truth = art[f0:f1]
        correct += int((predicted == truth)[mask].sum())
        shifted += int((predicted == art[f0 + 1:f1 + 1])[mask].sum())  # one frame late
        total += int(mask.sum())
        if mask.all():  # the characters the frames show are the transcript
            assert text_from_symbols(predicted) == s["text"], s["id"]
            assert s["text"] == text_from_symbols(truth)
            full += 1
    # speakers take turns (synthetic.conversation): about 45% of a speaker's frames are speech, not 75%
    assert total > 400 and full >= 10
    assert correct / total >= 0.95
    assert shifted / total < 0.75  # the classifier sees alignment: off by one frame is wrong


def test_ego_face_crops_show_the_wearers_mouth(speech_split, tmp_path):
    root, specs = speech_split
    ds = MCoRecDataset(root, crops="face", view="ego", color="gray", audio="ego", cache_dir=tmp_path)
    classify = NearestPrototype(S.FACE_SIZE, FACE_REGION)
    correct = total = 0
    for i in range(0, len(ds), max(1, len(ds) // 6)):  # a few segments: 224x224 decoding is slower
        s = ds[i]
        truth = SS.articulation(specs[s["session"]], s["speaker"])[s["frame_start"]:s["frame_end"]]
        mask = s["video_mask"].numpy()
        predicted = np.array([classify(frame[0]) for frame in s["video"].numpy()])
        correct += int((predicted == truth)[mask].sum())
        total += int(mask.sum())
    assert total > 200 and correct / total >= 0.95


def test_lapel_tones_identify_the_symbols(speech_split, tmp_path):
    root, specs = speech_split
    ds = MCoRecDataset(root, crops="lip", color="gray", audio="ego", cache_dir=tmp_path)
    correct = total = 0
    for i in range(len(ds)):
        s = ds[i]
        spec = specs[s["session"]]
        pitch = SS.speaker_pitch(spec, s["speaker"])
        audio = s["audio"].numpy()
        f0, f1 = s["frame_start"], s["frame_end"]
        spk = spec.speaker(s["speaker"])
        d = spk.ego_sample_offset  # the phone recorded central samples [d, d + ego length)
        recorded = (d, d + spk.ego.num_frames * SAMPLES_PER_FRAME)
        for first, stop, symbol in SS.character_spans(spec, s["speaker"]):
            voiced = first + 1 if stop - first >= 2 else first
            if not (f0 <= voiced and stop <= f1 and stop - voiced >= 2
                    and recorded[0] <= voiced * SAMPLES_PER_FRAME
                    and stop * SAMPLES_PER_FRAME <= recorded[1]):
                continue  # outside the segment, or while the phone was not recording
            chunk = audio[(voiced - f0) * SAMPLES_PER_FRAME: (stop - f0) * SAMPLES_PER_FRAME]
            correct += dominant_symbol(chunk, pitch) == symbol
            total += 1
    # speakers take turns (synthetic.conversation): about half the characters of the 75%-talk plans
    assert total > 120 and correct / total >= 0.98


def test_central_mic_mixes_all_speakers_lapel_does_not(speech_split, lip_dataset, tmp_path):
    _, specs = speech_split
    spec = next(iter(specs.values()))
    n = spec.num_samples
    lapels = {spk.name: S.lapel_audio(spec, spk.name, 0, n) for spk in spec.speakers}
    central = S.central_audio(spec, 0, n)
    assert 0.3 < np.abs(central).max() <= 0.9 + 1e-6
    mix = sum(lapels.values())
    assert np.corrcoef(central, mix)[0, 1] > 0.99
    # Where a speaker's mouth is closed, their lapel mic is near silent but the central mic
    # carries the other speakers.
    for name, lapel in lapels.items():
        closed = np.repeat(SS.articulation(spec, name) == SS.NEUTRAL, SAMPLES_PER_FRAME)
        others = sum(v for k, v in lapels.items() if k != name)
        assert np.sqrt(np.mean(lapel[closed] ** 2)) < 0.003
        assert np.sqrt(np.mean(central[closed] ** 2)) > 0.03
        assert abs(np.corrcoef(lapel, others)[0, 1]) < 0.05
    # The same holds for the decoded samples: central audio = the mix, ego audio = the lapel.
    ego_ds = MCoRecDataset(lip_dataset.roots, crops="lip", color="gray", audio="ego", cache_dir=tmp_path)
    checked = 0
    for i in range(0, len(lip_dataset), 3):
        s, e = lip_dataset[i], ego_ds[i]
        assert s["id"] == e["id"]
        a, b = s["frame_start"] * SAMPLES_PER_FRAME, s["frame_end"] * SAMPLES_PER_FRAME
        own = lapels[s["speaker"]][a:b]
        others = sum(v[a:b] for k, v in lapels.items() if k != s["speaker"])
        if np.std(others) < 0.01 or np.std(own) < 0.01:
            continue
        central_audio, ego_audio = s["audio"].numpy(), e["audio"].numpy()
        assert np.corrcoef(central_audio, central[a:b])[0, 1] > 0.95
        assert np.corrcoef(central_audio, others)[0, 1] > 0.3  # overlap: the other speakers
        recorded = ego_audio != 0
        assert np.corrcoef(ego_audio[recorded], own[recorded])[0, 1] > 0.95
        assert abs(np.corrcoef(ego_audio[recorded], others[recorded])[0, 1]) < 0.1
        checked += 1
    assert checked >= 4


def test_speech_frames_are_deterministic_and_noisy():
    spec = S.plan_session("session_00", 5, num_frames=400, ego=True, content="speech")
    a = SS.crop_renderer(spec, "spk_1", S.LIP_SIZE)
    b = SS.crop_renderer(S.plan_session("session_00", 5, num_frames=400, ego=True, content="speech"),
                         "spk_1", S.LIP_SIZE)
    frames = [a(f) for f in range(100, 140)]
    assert all(np.array_equal(x, b(f)) for f, x in zip(range(100, 140), frames))
    assert all(x.dtype == np.uint8 and x.shape == S.LIP_SIZE for x in frames)
    assert len({x.tobytes() for x in frames}) == len(frames)  # per-frame noise and jitter
    ego = SS.crop_renderer(spec, "spk_1", S.FACE_SIZE, view="ego")
    assert ego(10).shape == S.FACE_SIZE
    with pytest.raises(ValueError):
        ego(spec.speaker("spk_1").ego.num_frames)
    assert np.array_equal(SS.lapel_signal(spec, "spk_1"), S.lapel_audio(spec, "spk_1", 0, spec.num_samples))
