"""mcorec_torch.transforms: per-sample and batch paths, seeding, levels, features.

Everything runs on small fake samples built from tensors (no media decoded)."""
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torchaudio.compliance.kaldi as kaldi
import torchvision.transforms.v2.functional as TF

from mcorec_torch.data import Collator, collate
from mcorec_torch.transforms import (TRANSFORMS, AddNoise, AudioTimeMask, CenterCrop, Compose, Gray,
                                     HorizontalFlip, InterferingSpeech, LogFbank, Normalize, RandomCrop,
                                     Transform, VideoTimeMask, make_generator, seed_for)

REPO = Path(__file__).resolve().parents[2]
H, W = 96, 100


def make_sample(index, frames, channels=3, masked=(), silent=False):
    g = torch.Generator().manual_seed(1000 + index)
    video = torch.randint(0, 256, (frames, channels, H, W), generator=g, dtype=torch.uint8)
    mask = torch.ones(frames, dtype=torch.bool)
    for t in masked:
        mask[t] = False
        video[t] = 0
    audio = torch.zeros(640 * frames) if silent else 0.1 * torch.randn(640 * frames, generator=g)
    return {"video": video, "video_mask": mask, "audio": audio, "text": "HELLO", "id": f"s/spk_0/{index:07d}",
            "session": "s", "speaker": "spk_0", "conversation": 0, "start": 0.0, "end": frames / 25,
            "frame_start": 0, "frame_end": frames, "index": index}


def make_samples():
    """Three clips of different lengths with padding frames, from indices of FakeDataset."""
    return [make_sample(3, 13, masked=(0, 5)), make_sample(7, 40), make_sample(11, 27, masked=(20, 21, 26))]


class FakeDataset:
    """12 segments in 3 sessions; session 2 has one speaker only. Segment j's audio alternates
    between the levels 0.01 and 0.01 * (j + 2), so an added copy reveals j by its level ratio."""

    segment_session = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2], dtype=np.int64)
    segment_speaker = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], dtype=np.int64)
    frames = [8, 60, 15, 70, 20, 45, 10, 80, 30, 50, 12, 33]

    def __init__(self):
        self.loaded = []

    def __len__(self):
        return len(self.frames)

    def load_audio(self, j):
        self.loaded.append(j)
        n = 640 * self.frames[j]
        return 0.01 * (1.0 + (j + 1) * (torch.arange(n) % 2)).to(torch.float32)


def all_transforms(name, ds):
    table = {
        "center_crop": [CenterCrop(88)],
        "random_crop": [RandomCrop([80, 88])],
        "gray": [Gray()],
        "normalize": [Normalize()],
        "hflip": [HorizontalFlip()],
        "video_time_mask": [VideoTimeMask(max_frames=8, masks_per_second=3.0)],
        "float_video_time_mask": [Normalize(), VideoTimeMask(max_frames=8, masks_per_second=3.0)],
        "audio_time_mask": [AudioTimeMask(max_seconds=0.2, masks_per_second=3.0)],
        "noise": [AddNoise()],
        "interfering_speech": [InterferingSpeech(p=1.0)],
        "fbank": [LogFbank()],
        "all": [RandomCrop(88), Gray(), HorizontalFlip(), VideoTimeMask(), Normalize(), AudioTimeMask(),
                InterferingSpeech(p=1.0), AddNoise(), LogFbank()],
    }
    return Compose(table[name], seed=5).bind(ds)


EXACT = {"center_crop", "random_crop", "gray", "normalize", "hflip", "video_time_mask", "audio_time_mask"}
KEYS = ("video", "video_mask", "video_lengths", "audio", "audio_lengths", "audio_features")


def assert_batches_equal(a, b, exact):
    assert [k for k in KEYS if k in a] == [k for k in KEYS if k in b]
    for key in KEYS:
        if key not in a:
            continue
        assert a[key].dtype == b[key].dtype, key
        assert a[key].shape == b[key].shape, key
        if exact or not a[key].is_floating_point():
            assert torch.equal(a[key], b[key]), key
        else:
            torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)
    assert a["index"] == b["index"]


# -- seeding -----------------------------------------------------------------------------------
def test_seed_is_stable_and_distinct():
    assert seed_for(0, 0, 0, 0) == seed_for(0, 0, 0, 0) < 2 ** 63
    seeds = {seed_for(*args) for args in [(0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]}
    assert len(seeds) == 5
    a, b = make_generator(1, 2, 3, 4), make_generator(1, 2, 3, 4)
    assert torch.equal(torch.rand(5, generator=a), torch.rand(5, generator=b))


@pytest.mark.slow  # starts a Python process
def test_same_seed_same_output_in_another_process():
    compose = Compose([RandomCrop(88), HorizontalFlip(), VideoTimeMask(), Normalize(), AudioTimeMask(),
                       AddNoise(), LogFbank()], seed=11)
    compose.set_epoch(3)
    samples = [make_sample(4, 10), make_sample(9, 6, masked=(1,))]
    here = [compose(s) for s in samples]
    code = ("import pickle, sys\n"
            "compose, samples = pickle.load(sys.stdin.buffer)\n"
            "out = [compose(s) for s in samples]\n"
            "pickle.dump([(o['video'], o['audio'], o['audio_features']) for o in out], sys.stdout.buffer)\n")
    result = subprocess.run([sys.executable, "-c", code], input=pickle.dumps((compose, samples)),
                            capture_output=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    there = pickle.loads(result.stdout)
    for mine, (video, audio, features) in zip(here, there):
        assert torch.equal(mine["video"], video)
        assert torch.equal(mine["audio"], audio)
        assert torch.equal(mine["audio_features"], features)


def test_epoch_and_index_change_the_draws():
    compose = Compose([RandomCrop(88), AddNoise()], seed=0)
    sample = make_sample(4, 10)
    first = compose(sample)
    assert torch.equal(compose(sample)["audio"], first["audio"])
    compose.set_epoch(1)
    assert compose.epoch == 1
    assert not torch.equal(compose(sample)["audio"], first["audio"])
    compose.set_epoch(0)
    assert not torch.equal(compose({**sample, "index": 5})["audio"], first["audio"])
    assert not torch.equal(Compose(compose.transforms, seed=1)(sample)["audio"], first["audio"])
    # the input is not modified
    assert torch.equal(sample["audio"], make_sample(4, 10)["audio"])


# -- per-sample = batch ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["center_crop", "random_crop", "gray", "normalize", "hflip", "video_time_mask",
                                  "float_video_time_mask", "audio_time_mask", "noise", "interfering_speech",
                                  "fbank", "all"])
@pytest.mark.parametrize("multiple", [None, 16])
def test_batch_equals_collated_samples(name, multiple):
    ds = FakeDataset()
    compose = all_transforms(name, ds)
    compose.set_epoch(2)
    collator = Collator(pad_to_multiple_of=multiple)
    samples = make_samples()
    per_sample = collator([compose(s) for s in samples])
    batched = compose.batch(collator(samples))
    assert_batches_equal(per_sample, batched, exact=name in EXACT)
    if name == "all":
        assert batched["video"].dtype == torch.float32 and batched["video"].shape[2:] == (1, 88, 88)
        assert batched["audio_features"].shape == (3, batched["video"].shape[1], 104)
        for b, t in enumerate(batched["video_lengths"].tolist()):
            assert not batched["video"][b, t:].any() and not batched["audio_features"][b, t:].any()
            assert not batched["audio"][b, 640 * t:].any()


def test_batch_row_does_not_depend_on_batch_composition():
    compose = all_transforms("all", FakeDataset())
    samples = make_samples()
    full = compose.batch(collate(samples))
    alone = compose.batch(collate([samples[1]]))
    t = int(alone["video_lengths"][0])
    assert torch.equal(full["video"][1, :t], alone["video"][0])
    torch.testing.assert_close(full["audio_features"][1, :t], alone["audio_features"][0], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_batch_on_cuda_matches_cpu():
    compose = all_transforms("all", FakeDataset())
    batch = collate(make_samples())
    cpu = compose.batch(batch)
    gpu = compose.batch({k: v.cuda() if torch.is_tensor(v) else v for k, v in batch.items()})
    for key in KEYS:
        assert gpu[key].device.type == "cuda"
        torch.testing.assert_close(gpu[key].cpu(), cpu[key], rtol=1e-3, atol=1e-3, msg=key)


# -- video ---------------------------------------------------------------------------------------
def test_center_crop_window():
    sample = make_sample(3, 13, masked=(0, 5))
    out = CenterCrop(88)(sample)["video"]
    assert out.shape == (13, 3, 88, 88) and out.dtype == torch.uint8 and out.is_contiguous()
    assert torch.equal(out, sample["video"][..., 4:92, 6:94])
    rect = CenterCrop([80, 90])(sample)["video"]
    assert torch.equal(rect, sample["video"][..., 8:88, 5:95])


def test_random_crop_same_window_for_all_frames():
    windows = set()
    for index in range(8):
        sample = make_sample(index, 6)
        out = RandomCrop([80, 88])(sample)["video"]
        assert out.shape == (6, 3, 80, 88)
        found = [(top, left) for top in range(H - 80 + 1) for left in range(W - 88 + 1)
                 if torch.equal(out, sample["video"][..., top:top + 80, left:left + 88])]
        assert len(found) == 1
        windows.add(found[0])
    assert len(windows) > 4


def test_crop_smaller_frames_is_an_error():
    with pytest.raises(ValueError, match=r"96x100.*120x120"):
        RandomCrop(120)(make_sample(0, 3))
    with pytest.raises(ValueError, match=r"96x100.*88x101"):
        CenterCrop([88, 101])(make_sample(0, 3))


def test_gray():
    sample = make_sample(1, 5, masked=(2,))
    out = Gray()(sample)["video"]
    assert out.shape == (5, 1, H, W) and out.dtype == torch.uint8
    assert torch.equal(out, TF.rgb_to_grayscale(sample["video"]))
    assert not out[2].any()
    one = make_sample(1, 5, channels=1)
    assert torch.equal(Gray()(one)["video"], one["video"])


def test_normalize_values_and_masked_frames():
    video = torch.zeros(3, 1, 2, 2, dtype=torch.uint8)
    video[0, 0, 0, 0], video[0, 0, 0, 1], video[0, 0, 1, 0], video[0, 0, 1, 1] = 0, 255, 107, 200
    video[2] = 77
    sample = {"video": video, "video_mask": torch.tensor([True, False, True]), "audio": torch.zeros(1920)}
    out = Normalize()(sample)["video"]
    assert out.dtype == torch.float32
    expected = torch.tensor([[-0.421 / 0.165, (1 - 0.421) / 0.165], [(107 / 255 - 0.421) / 0.165,
                                                                      (200 / 255 - 0.421) / 0.165]])
    torch.testing.assert_close(out[0, 0], expected)
    assert not out[1].any()
    torch.testing.assert_close(out[2], torch.full((1, 2, 2), (77 / 255 - 0.421) / 0.165))
    rgb = make_sample(0, 2)
    out = Normalize(mean=[0.5, 0.4, 0.3], std=[0.2, 0.25, 0.5])(rgb)["video"]
    torch.testing.assert_close(out[0, 2], (rgb["video"][0, 2] / 255 - 0.3) / 0.5)
    with pytest.raises(ValueError, match="mean has 2 values"):
        Normalize(mean=[0.5, 0.5])(rgb)


def test_hflip_all_or_nothing():
    outcomes = []
    for index in range(16):
        sample = make_sample(index, 4)
        out = HorizontalFlip()(sample)["video"]
        flipped = torch.equal(out, sample["video"].flip(-1))
        assert flipped or torch.equal(out, sample["video"])
        outcomes.append(flipped)
    assert 2 <= sum(outcomes) <= 14
    sample = make_sample(0, 4)
    assert torch.equal(HorizontalFlip(p=0.0)(sample)["video"], sample["video"])
    assert torch.equal(HorizontalFlip(p=1.0)(sample)["video"], sample["video"].flip(-1))


def test_video_time_mask_counts_and_fill():
    mask = VideoTimeMask(max_frames=10)
    assert [mask.num_masks(t) for t in (0, 1, 24, 25, 49, 50, 100)] == [0, 1, 1, 1, 1, 2, 4]
    assert VideoTimeMask(masks_per_second=2.5).num_masks(50) == 5
    assert VideoTimeMask(masks_per_second=0).num_masks(100) == 0
    changed_any = False
    for index in range(4):
        sample = make_sample(index, 60, channels=1, masked=(3, 30, 31))
        out = mask(sample)["video"]
        valid = sample["video_mask"]
        fill = torch.round(sample["video"][valid].double().mean(0)).to(torch.uint8)
        changed = [t for t in range(60) if not torch.equal(out[t], sample["video"][t])]
        assert len(changed) <= mask.num_masks(60) * 10
        for t in changed:
            assert valid[t] and torch.equal(out[t], fill)
        assert not out[~valid].any()
        changed_any |= bool(changed)
    assert changed_any
    sample = make_sample(0, 60, channels=1)
    assert torch.equal(VideoTimeMask(max_frames=0)(sample)["video"], sample["video"])


def test_audio_time_mask_spans():
    transform = AudioTimeMask(max_seconds=0.1, masks_per_second=2.0)
    sample = make_sample(2, 75)  # 3 s: 6 masks of up to 1600 samples
    out = transform(sample)["audio"]
    zero = out == 0
    assert torch.equal(out[~zero], sample["audio"][~zero])
    assert 0 < int(zero.sum()) <= 6 * 1600
    runs = int((zero[1:] & ~zero[:-1]).sum()) + int(zero[0])
    assert runs <= 6
    assert out.shape == sample["audio"].shape and out.dtype == torch.float32


# -- audio levels ----------------------------------------------------------------------------------
def snr_db(clean, noisy):
    return 10 * math.log10(float(clean.double().pow(2).sum()) / float((noisy - clean).double().pow(2).sum()))


@pytest.mark.parametrize("snr", [0.0, 12.5])
def test_add_noise_snr(snr):
    sample = make_sample(0, 250)  # 10 s
    sample["audio"] = 0.3 * torch.sin(torch.arange(sample["audio"].shape[0]) * 0.05)
    out = AddNoise(snr_db=snr)(sample)["audio"]
    assert abs(snr_db(sample["audio"], out) - snr) < 0.5
    drawn = {round(snr_db(sample["audio"], AddNoise()({**sample, "index": i})["audio"]), 3) for i in range(5)}
    assert len(drawn) == 5 and all(5.0 - 0.5 < v < 20.0 + 0.5 for v in drawn)


def test_add_noise_silent_and_p():
    silent = make_sample(1, 10, silent=True)
    out = AddNoise()(silent)["audio"]
    assert not out.any() and not torch.isnan(out).any()
    batch = AddNoise().batch(collate([silent, make_sample(2, 4)]))
    assert not batch["audio"][0].any() and batch["audio"][1, :2560].any() and not batch["audio"][1, 2560:].any()
    sample = make_sample(1, 10)
    assert torch.equal(AddNoise(p=0.0)(sample)["audio"], sample["audio"])


def test_interfering_speech_other_speaker_same_session():
    ds = FakeDataset()
    compose = Compose([InterferingSpeech(snr_db=5.0, p=1.0)], seed=3).bind(ds)
    targets = [0.1 * torch.randn(640 * 25, generator=torch.Generator().manual_seed(i)) for i in range(10)]
    for index in (0, 3, 5, 6, 9):
        expected = {j for j in range(len(ds)) if ds.segment_session[j] == ds.segment_session[index]
                    and ds.segment_speaker[j] != ds.segment_speaker[index]}
        assert set(compose[0].candidates(index).tolist()) == expected
        picked = set()
        for epoch in range(24):
            compose.set_epoch(epoch)
            target = {"audio": targets[index], "index": index}
            out = compose(target)["audio"]
            j = ds.loaded[-1]
            added = out - target["audio"]
            present = added.abs() > 1e-6
            ratio = float(added[present].abs().max() / added[present].abs().min())
            assert round(ratio) - 2 == j and abs(ratio - (j + 2)) < 1e-3
            n = min(640 * ds.frames[j], 640 * 25)
            assert int(present.sum()) == n
            first = int(present.nonzero()[0])
            assert bool(present[first:first + n].all())
            assert abs(snr_db(target["audio"], out) - 5.0) < 0.01
            picked.add(j)
        assert picked == expected


def test_interfering_speech_range_no_candidate_and_unbound():
    ds = FakeDataset()
    compose = Compose([InterferingSpeech()], seed=0).bind(ds)
    applied = 0
    for index in range(10):
        sample = make_sample(index, 25)
        out = compose(sample)["audio"]
        if not torch.equal(out, sample["audio"]):
            applied += 1
            assert 0.0 - 0.01 < snr_db(sample["audio"], out) < 10.0 + 0.01
    assert 1 <= applied <= 9  # p = 0.5
    lonely = make_sample(10, 25)  # session 2 has one speaker
    assert torch.equal(Compose([InterferingSpeech(p=1.0)]).bind(ds)(lonely)["audio"], lonely["audio"])
    with pytest.raises(RuntimeError, match="bind"):
        InterferingSpeech()(make_sample(0, 5))
    with pytest.raises(IndexError, match="outside the bound dataset"):
        Compose([InterferingSpeech(p=1.0)]).bind(ds)(make_sample(40, 5))
    with pytest.raises(TypeError, match="segment_session"):
        InterferingSpeech().bind(object())


# -- features --------------------------------------------------------------------------------------
def test_log_fbank_matches_kaldi():
    sample = make_sample(6, 20)
    out = LogFbank(normalize=False, scale=1.0)(sample)
    feats = out["audio_features"]
    assert feats.shape == (20, 104) and feats.dtype == torch.float32
    assert out["audio"] is sample["audio"]
    ref = kaldi.fbank(sample["audio"][None], num_mel_bins=26, frame_length=25.0, frame_shift=10.0,
                      sample_frequency=16000.0, dither=0.0)
    assert ref.shape == (78, 26)
    frames = feats.reshape(80, 26)
    torch.testing.assert_close(frames[:78], ref)
    torch.testing.assert_close(frames[78:], ref[-1:].expand(2, 26))
    scaled = LogFbank(normalize=False)(sample)["audio_features"].reshape(80, 26)
    ref16 = kaldi.fbank(sample["audio"][None] * 32768, num_mel_bins=26, dither=0.0)
    torch.testing.assert_close(scaled[:4], ref16[:4])
    normed = LogFbank()(sample)["audio_features"]
    torch.testing.assert_close(normed.mean(0), torch.zeros(104), atol=1e-4, rtol=0)
    torch.testing.assert_close(normed.std(0, unbiased=False), torch.ones(104), atol=1e-3, rtol=0)
    short = LogFbank(n_mels=40, stack=2)(make_sample(1, 1))["audio_features"]
    assert short.shape == (1, 80) and torch.isfinite(short).all()


# -- Compose, config, arguments ----------------------------------------------------------------
def test_compose_errors_repr_and_pickle():
    sample = make_sample(0, 4)
    del sample["index"]
    with pytest.raises(KeyError, match="index"):
        Compose([HorizontalFlip()])(sample)
    assert Compose([CenterCrop(88), Normalize()])(sample)["video"].shape == (4, 3, 88, 88)
    with pytest.raises(KeyError, match="index"):
        Compose([AddNoise()]).batch({k: v for k, v in collate([sample]).items() if k != "index"})
    with pytest.raises(TypeError, match=r"transforms\[1\]"):
        Compose([Gray(), lambda s: s])
    with pytest.raises(ValueError, match="epoch"):
        Compose([Gray()]).set_epoch(-1)
    compose = Compose([RandomCrop(88), AddNoise(snr_db=[3, 4])], seed=9)
    compose.set_epoch(4)
    text = repr(compose)
    assert "RandomCrop(size=[88, 88])" in text and "AddNoise(snr_db=[3.0, 4.0], p=1.0)" in text and "seed=9" in text
    copy = pickle.loads(pickle.dumps(compose))
    assert (copy.seed, copy.epoch, len(copy)) == (9, 4, 2)
    assert Compose([Gray()])(None) is None


def test_config_names():
    assert set(TRANSFORMS) == {"center_crop", "random_crop", "gray", "normalize", "hflip", "video_time_mask",
                               "audio_time_mask", "noise", "interfering_speech", "fbank"}
    for name, cls in TRANSFORMS.items():
        transform = cls()
        assert isinstance(transform, Transform) and repr(transform).startswith(cls.__name__)
    assert {n for n, c in TRANSFORMS.items() if c.random} == {"random_crop", "hflip", "video_time_mask",
                                                             "audio_time_mask", "noise", "interfering_speech"}


@pytest.mark.parametrize("cls, kwargs, argument", [
    (RandomCrop, {"size": 0}, "size"),
    (CenterCrop, {"size": [88, 88, 3]}, "size"),
    (CenterCrop, {"size": True}, "size"),
    (Normalize, {"std": 0}, "std"),
    (Normalize, {"mean": "gray"}, "mean"),
    (HorizontalFlip, {"p": 1.5}, "p"),
    (VideoTimeMask, {"max_frames": -1}, "max_frames"),
    (VideoTimeMask, {"max_frames": 2.5}, "max_frames"),
    (VideoTimeMask, {"masks_per_second": -1}, "masks_per_second"),
    (AudioTimeMask, {"max_seconds": float("nan")}, "max_seconds"),
    (AddNoise, {"snr_db": [20, 5]}, "snr_db"),
    (AddNoise, {"snr_db": "loud"}, "snr_db"),
    (InterferingSpeech, {"p": -0.1}, "p"),
    (LogFbank, {"n_mels": 0}, "n_mels"),
    (LogFbank, {"normalize": "yes"}, "normalize"),
    (Compose, {"transforms": [], "seed": -1}, "seed"),
])
def test_bad_arguments_name_the_argument(cls, kwargs, argument):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: {argument} "):
        cls(**kwargs)
