"""YAML experiments (SPEC §9): shipped configs parse, errors name file and key, loaders build."""
from pathlib import Path

import pytest
import torch
import yaml

from mcorec_torch.config import ConfigError, build_dataloader, load_config, parse_config, set_epoch

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


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
     "splits.train.transforms[0].sise", "transform 'random_crop' has no argument 'sise'; its arguments: size"),
    ({"splits": {"train": {"roots": ["d"], "transforms": [{"size": 88}]}}}, "splits.train.transforms[0]",
     "needs a name"),
    ({**minimal(), "text": {"tokenizer": {"units": "u.txt"}}}, "text.tokenizer.model", "missing"),
    ({**minimal(), "model": {"modalities": ["video", "smell"]}}, "model.modalities[1]", "expected 'video' or 'audio'"),
    ({"splits": {}}, "splits", "at least one split"),
])
def test_errors_name_the_file_and_the_key(tmp_path, data, key, fragment):
    assert_config_error(tmp_path, data, key, fragment)


def assert_config_error(tmp_path, data, key, fragment):
    """Loading ``data`` raises a one-line ConfigError naming the file and ``key``, holding
    ``fragment`` and none of OmegaConf's own error text."""
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment in message, message
    assert info.value.key == key
    assert "full_key" not in message and "object_type" not in message and "\n" not in message


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


def test_cuda_decoding_builds_the_gpu_stage(tmp_path, dev_split):
    """``decode.device: cuda`` gives the GPU stage (without CUDA here: the CPU decoder, said in
    its report) with the configured lanes; its batches equal the CPU loader's."""
    from mcorec_torch.gpu import GpuBatchLoader

    root, _ = dev_split
    data = {**minimal(root), "data": {"cache_dir": str(tmp_path / "cache")}}
    cpu = build_dataloader(parse_config(data, "x.yaml"), "train")
    gpu = build_dataloader(parse_config({**data, "decode": {"device": "cuda", "threads": 2}}, "x.yaml"), "train")
    assert isinstance(gpu, GpuBatchLoader) and gpu.threads == 2
    first_cpu, first_gpu = next(iter(cpu)), next(iter(gpu))
    assert first_cpu["id"] == first_gpu["id"]
    assert torch.equal(first_cpu["video"], first_gpu["video"].cpu())
    if not torch.cuda.is_available():
        assert gpu.report()["run_fallback"] == "torch sees no CUDA device"
    gpu.close()
    with pytest.raises(ConfigError, match="decode.threads: must be >= 1"):
        build_dataloader(parse_config({**data, "decode": {"device": "cuda", "threads": 0}}, "x.yaml"), "train")


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


# --- OmegaConf structured configs ---------------------------------------------------------

def test_dataset_section_is_derived_from_dataset_options():
    import dataclasses
    import typing

    from mcorec_torch.config import DatasetConfig, ExperimentConfig
    from mcorec_torch.index.options import DatasetOptions, option_fields

    ours, theirs = dataclasses.fields(DatasetConfig), dataclasses.fields(DatasetOptions)
    assert [(f.name, f.default) for f in ours] == [(f.name, f.default) for f in theirs]
    # the same types, a closed choice (Literal in DatasetOptions) as str holding its choices in metadata
    option_hints = typing.get_type_hints(DatasetOptions)

    def plain(hint):  # Optional[Literal[...]] (an option that may be off) is Optional[str]
        if typing.get_origin(hint) is typing.Literal:
            return str
        if typing.get_origin(hint) is typing.Union:
            return typing.Union[tuple(plain(arg) for arg in typing.get_args(hint))]
        return hint

    def literal(hint):
        if typing.get_origin(hint) is typing.Union:
            return next((literal(arg) for arg in typing.get_args(hint) if literal(arg)), None)
        return hint if typing.get_origin(hint) is typing.Literal else None

    assert typing.get_type_hints(DatasetConfig) == {name: plain(hint) for name, hint in option_hints.items()}
    assert {n: typing.get_args(literal(h)) for n, h in option_hints.items() if literal(h)} == \
        {s.name: i.choices for s, i in option_fields() if i.choices}
    assert {f.name: f.metadata.get("choices") for f in ours} == {s.name: i.choices for s, i in option_fields()}
    assert typing.get_type_hints(ExperimentConfig)["dataset"] is DatasetConfig
    assert dataclasses.asdict(DatasetConfig()) == dataclasses.asdict(DatasetOptions())


def test_a_new_dataset_option_appears_in_the_config_schema():
    import dataclasses

    from mcorec_torch.config import make_dataset_config
    from mcorec_torch.index.options import DatasetOptions, OptionInfo

    extended = dataclasses.make_dataclass(
        "ExtendedOptions", [("fps_tolerance", float, dataclasses.field(
            default=0.25, metadata={"option": OptionInfo(help="new", unit="fraction")}))],
        bases=(DatasetOptions,), frozen=True)
    schema = make_dataset_config(extended)
    names = [f.name for f in dataclasses.fields(schema)]
    assert names == [f.name for f in dataclasses.fields(DatasetOptions)] + ["fps_tolerance"]
    assert schema().fps_tolerance == 0.25


@pytest.mark.parametrize("data,key,fragment", [
    ({**minimal(), "dataset": {"min_video_coverage": 1.5}}, "dataset.min_video_coverage",
     "min_video_coverage must be in [0, 1], got 1.5"),
    ({**minimal(), "dataset": {"max_duration": 0}}, "dataset.max_duration", "max_duration must be > 0 seconds"),
    ({"splits": {"train": {"roots": ["d"], "dataset": {"min_duration": -1}}}}, "splits.train.dataset.min_duration",
     "min_duration must be >= 0 seconds"),
    ({"splits": {"train": {"roots": ["d"], "dataset": {"label_dir": 5}}}}, "splits.train.dataset.label_dir",
     "expected a string, got 5"),
    ({"splits": {"train": {"roots": ["d", ["e"]]}}}, "splits.train.roots[1]", "expected a string, got ['e']"),
    ({**minimal(), "train": {"out_dir": 7}}, "train.out_dir", "expected a string, got 7"),
    ({**minimal(), "sampler": {"max_frames": "800"}}, "sampler.max_frames", "expected an integer, got '800'"),
    ({**minimal(), "sampler": 5}, "sampler", "expected a mapping, got 5"),
    ({**minimal(), "source": "x"}, "source", "unknown key"),
    ({**minimal(), "text": {"normalizer": "fancy"}}, "text.normalizer",
     "expected 'default' or 'train' or 'official' or null, got 'fancy'"),
    ({**minimal(), "text": {"tokenizer": {"model": "m.model", "train_if_missing": {"model_type": "wordpiece"}}}},
     "text.tokenizer.train_if_missing.model_type", "expected 'unigram' or 'bpe' or 'char' or 'word'"),
    ({"splits": {"train": {"roots": ["d"], "synthetic": {"content": "video"}}}}, "splits.train.synthetic.content",
     "expected 'index' or 'speech', got 'video'"),
    ({"splits": {"train": {"roots": ["d"], "synthetic": {"split": "test"}}}}, "splits.train.synthetic.split",
     "expected 'train' or 'dev' or 'eval'"),
    ({**minimal(), "loader": {"multiprocessing_context": "thread"}}, "loader.multiprocessing_context",
     "expected 'fork' or 'spawn' or 'forkserver'"),
    ({**minimal(), "decode": {"device": "tpu"}}, "decode.device", "expected 'cpu' or 'cuda', got 'tpu'"),
    ({**minimal(), "train": {"device": "tpu"}}, "train.device", "expected 'auto' or 'cpu' or 'cuda'"),
    ({**minimal(), "model": {"audio_input": "mfcc"}}, "model.audio_input", "expected 'fbank' or 'waveform'"),
    ({**minimal(), "model": {"modalities": "video"}}, "model.modalities", "expected a list of ('video' or 'audio')"),
    ({"splits": {"train": {"roots": ["d"], "transforms": [{"name": "hflip"}, {"name": "noise", "snr_db": "x"}]}}},
     "splits.train.transforms[1]", "snr_db"),
])
def test_more_errors_name_the_file_and_the_key(tmp_path, data, key, fragment):
    assert_config_error(tmp_path, data, key, fragment)


def test_environment_interpolation(tmp_path, monkeypatch):
    monkeypatch.setenv("MCOREC_TEST_ROOT", "/data/mcorec")
    monkeypatch.delenv("MCOREC_TEST_UNSET", raising=False)
    data = {"splits": {"train": {"roots": ["${oc.env:MCOREC_TEST_ROOT}/train", "$MCOREC_TEST_ROOT/dev"]}},
            "data": {"cache_dir": "${oc.env:MCOREC_TEST_UNSET,'~/.cache/x'}"},
            "train": {"out_dir": "${oc.env:MCOREC_TEST_ROOT}/runs", "lr": "${oc.env:MCOREC_TEST_LR,2e-4}"}}
    config = load_config(write(tmp_path, data))
    assert config.split("train").roots == ["/data/mcorec/train", "$MCOREC_TEST_ROOT/dev"]  # $VARS: when built
    assert config.data.cache_dir == "~/.cache/x" and config.train.out_dir == "/data/mcorec/runs"
    assert config.train.lr == pytest.approx(2e-4)
    missing = write(tmp_path, {"splits": {"train": {"roots": ["${oc.env:MCOREC_TEST_UNSET}/train"]}}}, "m.yaml")
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert str(info.value).startswith(f"{missing}: splits.train.roots[0]: environment variable MCOREC_TEST_UNSET "
                                      "is not set")
    unquoted = write(tmp_path, {**minimal(), "data": {"cache_dir": "${oc.env:MCOREC_TEST_UNSET,~/x}"}}, "u.yaml")
    with pytest.raises(ConfigError, match=r"u.yaml: data.cache_dir: not a valid interpolation"):
        load_config(unquoted)
    shell = write(tmp_path, {"splits": {"train": {"roots": ["${MCOREC_TEST_ROOT}/train"]}}}, "s.yaml")
    with pytest.raises(ConfigError, match=r"splits.train.roots\[0\]: .*\$\{oc.env:MCOREC_TEST_ROOT\}"):
        load_config(shell)


def test_paths_expand_home_and_variables_when_built(tmp_path, monkeypatch, dev_split):
    root, _ = dev_split
    monkeypatch.setenv("MCOREC_TEST_DATA", str(root.parent))
    monkeypatch.setenv("HOME", str(tmp_path))
    config = parse_config({"splits": {"train": {"roots": [f"$MCOREC_TEST_DATA/{root.name}"]}},
                           "data": {"cache_dir": "~/cache"}, "loader": {"num_workers": 0}})
    loader = build_dataloader(config, "train")
    assert len(loader.dataset) > 0
    assert (tmp_path / "cache").is_dir()


def test_yaml_floats_null_sections_and_round_trip(tmp_path):
    import pickle

    text = "splits:\n  train:\n    roots: [d]\ntrain:\n  lr: 1e-4\nsampler:\n"
    config = parse_config(yaml.safe_load(text), "inline.yaml")  # PyYAML: lr is the string '1e-4'
    assert config.train.lr == pytest.approx(1e-4) and isinstance(config.train.lr, float)
    assert config.sampler.max_frames == 2000  # an empty section means its defaults
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    assert load_config(path).train.lr == pytest.approx(1e-4)
    plain = config.to_dict()
    assert "source" not in plain and isinstance(plain["splits"]["train"], dict)
    assert parse_config(plain).to_dict() == plain
    assert pickle.loads(pickle.dumps(config)).to_dict() == plain


def test_override_errors_name_the_key(tmp_path):
    path = write(tmp_path, minimal())
    with pytest.raises(ConfigError, match=r"sampler.max_frame: unknown key; known keys here: drop_last"):
        load_config(path, ["sampler.max_frame=10"])
    config = load_config(path, ["train.eval_split=null", "splits.train.roots=[a, b]"])
    assert config.train.eval_split is None and config.split("train").roots == ["a", "b"]


def test_split_dataset_options_applies_overrides():
    from mcorec_torch.config import split_dataset_options

    config = parse_config({"dataset": {"crops": "face", "min_duration": 0.3},
                           "splits": {"train": {"roots": ["d"], "dataset": {"color": "gray"}},
                                      "valid": {"roots": ["e"]}}})
    train, valid = split_dataset_options(config, "train"), split_dataset_options(config, "valid")
    assert (train.crops, train.color, train.min_duration) == ("face", "gray", 0.3)
    assert (valid.crops, valid.color) == ("face", "rgb")


@pytest.mark.parametrize("data,key,fragment", [
    # NaN and infinity were accepted for these options (YAML writes them .nan / .inf)
    ({**minimal(), "dataset": {"merge_gap": float("nan")}}, "dataset.merge_gap", "merge_gap must be a finite number"),
    ({**minimal(), "dataset": {"chunk_size": float("inf")}}, "dataset.chunk_size", "chunk_size must be a finite number"),
    ({"splits": {"train": {"roots": ["d"], "dataset": {"max_duration": float("nan")}}}},
     "splits.train.dataset.max_duration", "max_duration must be a finite number"),
    # a rule across options names the option the error carries, not a prefix guessed from the text
    ({**minimal(), "dataset": {"segments": "asd", "view": "ego", "crops": "face"}}, "dataset.view",
     "segments='asd' reads the central view"),
])
def test_option_errors_name_the_key_the_error_carries(tmp_path, data, key, fragment):
    assert_config_error(tmp_path, data, key, fragment)
