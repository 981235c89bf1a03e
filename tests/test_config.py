"""YAML experiments (SPEC §9): shipped configs parse, errors name file and key, loaders build."""
from pathlib import Path

import pytest
import yaml

from mcorec_torch.config import ConfigError, build_dataloader, load_config, parse_config, set_epoch

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def write(tmp_path, data, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def minimal(root="data/dev"):
    return {"splits": {"train": {"roots": [str(root)]}}}


@pytest.mark.parametrize("name", ["demo.yaml", "lip_avsr.yaml", "face_avsr.yaml", "ego_clean_audio.yaml"])
def test_shipped_configs_parse(name):
    config = load_config(CONFIGS / name)
    assert {"train", "valid"} <= set(config.splits)
    assert config.source.endswith(name)


def test_ego_config_pairs_central_lips_with_lapel_audio():
    config = load_config(CONFIGS / "ego_clean_audio.yaml")
    assert (config.dataset.view, config.dataset.audio, config.dataset.crops) == ("central", "ego", "lip")
    assert config.split("valid").dataset == {"audio": "central"}
    assert any(t["name"] == "interfering_speech" for t in config.split("train").transforms)


@pytest.mark.parametrize("data,key,fragment", [
    ({**minimal(), "sampler": {"max_frame": 10}}, "sampler.max_frame", "unknown key; known keys here: drop_last"),
    ({**minimal(), "bogus": 1}, "bogus", "unknown key"),
    ({**minimal(), "sampler": {"max_frames": "lots"}}, "sampler.max_frames", "expected an integer, got 'lots'"),
    ({**minimal(), "sampler": {"max_frames": 1.5}}, "sampler.max_frames", "expected an integer"),
    ({**minimal(), "loader": {"pin_memory": "yes"}}, "loader.pin_memory", "expected true/false"),
    ({**minimal(), "dataset": {"crops": "mouth"}}, "dataset.crops", "expected 'lip' or 'face'"),
    ({**minimal(), "dataset": {"max_duration": "long"}}, "dataset.max_duration", "expected a number or null"),
    ({"splits": {"train": {}}}, "splits.train.roots", "missing"),
    ({"splits": {"train": {"roots": "data/dev"}}}, "splits.train.roots", "expected a list of strings"),
    ({"splits": {"train": {"roots": ["d"], "dataset": {"colour": "rgb"}}}}, "splits.train.dataset.colour",
     "unknown key"),
    ({"splits": {"train": {"roots": ["d"], "dataset": {"color": "blue"}}}}, "splits.train.dataset.color",
     "expected 'rgb' or 'gray'"),
    ({"splits": {"train": {"roots": ["d"], "transforms": [{"name": "twirl"}]}}},
     "splits.train.transforms[0].name", "unknown transform 'twirl'"),
    ({"splits": {"train": {"roots": ["d"], "transforms": [{"name": "random_crop", "sise": 88}]}}},
     "splits.train.transforms[0]", "sise"),
    ({"splits": {"train": {"roots": ["d"], "transforms": [{"size": 88}]}}}, "splits.train.transforms[0]",
     "needs a name"),
    ({**minimal(), "text": {"tokenizer": {"units": "u.txt"}}}, "text.tokenizer.model", "missing"),
    ({**minimal(), "model": {"modalities": ["video", "smell"]}}, "model.modalities[1]", "expected 'video' or 'audio'"),
    ({"splits": {}}, "splits", "at least one split"),
])
def test_errors_name_the_file_and_the_key(tmp_path, data, key, fragment):
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment in message, message
    assert info.value.key == key


def test_unreadable_or_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="missing.yaml: cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("splits: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(bad)


def test_overrides_are_typed_and_validated(tmp_path):
    path = write(tmp_path, minimal())
    config = load_config(path, ["sampler.max_frames=800", "dataset.max_duration=null", "train.lr=1e-4"])
    assert config.sampler.max_frames == 800 and config.dataset.max_duration is None
    assert config.train.lr == pytest.approx(1e-4)
    with pytest.raises(ConfigError, match="sampler.max_frames: expected an integer"):
        load_config(path, ["sampler.max_frames=many"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(path, ["sampler.max_frames"])


def test_cuda_decoding_is_refused_with_a_reason(tmp_path, dev_split):
    root, _ = dev_split
    config = parse_config({**minimal(root), "decode": {"device": "cuda"}}, "x.yaml")
    with pytest.raises(ConfigError, match="x.yaml: decode.device: 'cuda' decoding is not available"):
        build_dataloader(config, "train")


def test_build_dataloader_applies_everything(tmp_path, dev_split):
    root, _ = dev_split
    data = {
        "data": {"cache_dir": str(tmp_path / "cache")},
        "dataset": {"color": "rgb", "min_duration": 0.2},
        "splits": {"train": {"roots": [str(root)], "shuffle": True,
                             "dataset": {"color": "gray"},
                             "transforms": [{"name": "random_crop", "size": 88}, {"name": "normalize"},
                                            {"name": "fbank", "n_mels": 26, "stack": 4}]}},
        "sampler": {"max_frames": 150, "max_batch_size": 3, "seed": 2},
        "loader": {"num_workers": 0},
        "transforms": {"seed": 5},
    }
    config = parse_config(data, "inline.yaml")
    loader = build_dataloader(config, "train", epoch=3)
    dataset, sampler = loader.dataset, loader.batch_sampler
    assert dataset.color == "gray" and dataset.options.min_duration == 0.2
    assert sampler.epoch == 3 and sampler.max_frames == 150 and sampler.seed == 2
    assert dataset.transform.epoch == 3 and dataset.transform.seed == 5
    batches = list(loader)
    assert len(batches) == len(sampler) > 0
    assert sum(len(b["id"]) for b in batches) == len(dataset)
    for batch in batches:
        b, t = batch["video"].shape[:2]
        assert b <= 3 and (b * t <= 150 or b == 1)
        assert batch["video"].shape[2:] == (1, 88, 88) and batch["video"].dtype.is_floating_point
        assert batch["audio_features"].shape == (b, t, 104)
    # another epoch: another order, another augmentation
    set_epoch(loader, 4)
    assert dataset.transform.epoch == 4
    again = list(loader)
    assert [b["id"] for b in again] != [b["id"] for b in batches]


def test_ego_audio_with_interfering_speech_of_the_same_session(tmp_path, train_split):
    """The ego_clean_audio setting end to end: lapel audio plus another speaker's lapel audio."""
    root, _ = train_split
    base = {"data": {"cache_dir": str(tmp_path / "cache")}, "dataset": {"audio": "ego", "color": "gray"},
            "loader": {"num_workers": 0}, "sampler": {"max_frames": 400}}
    clean = build_dataloader(parse_config({**base, "splits": {"train": {"roots": [str(root)]}}}), "train")
    mixed = build_dataloader(parse_config({**base, "splits": {"train": {"roots": [str(root)], "transforms": [
        {"name": "interfering_speech", "snr_db": 0.0, "p": 1.0}]}}}), "train")
    dataset = mixed.dataset
    interferer = dataset.transform[0]
    assert interferer.dataset is dataset  # bound by build_dataloader
    for i in range(0, len(dataset), 7):
        candidates = interferer.candidates(i)
        assert len(candidates) > 0
        assert set(dataset.segment_session[candidates]) == {dataset.segment_session[i]}
        assert dataset.segment_speaker[i] not in set(dataset.segment_speaker[candidates])
        target = clean.dataset[i]["audio"]
        added = dataset[i]["audio"] - target
        if float((target ** 2).sum()) > 0:
            # 0 dB: the added speech carries as much energy as the target
            assert float((added ** 2).sum()) == pytest.approx(float((target ** 2).sum()), rel=1e-3)
