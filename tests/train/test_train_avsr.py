"""scripts/train_avsr.py on a tiny synthetic "speech" split: loss falls, resume is exact."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_avsr.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_avsr", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    """A config over a 1-session train split and a 1-session valid split, tiny model, no workers."""
    base = tmp_path_factory.mktemp("train")
    config = {
        "data": {"cache_dir": str(base / "cache")},
        "dataset": {"crops": "lip", "color": "gray", "min_duration": 0.5, "max_duration": 6.0},
        "text": {"normalizer": "train",
                 "tokenizer": {"model": str(base / "tok" / "chars.model"), "units": str(base / "tok" / "chars_units.txt"),
                               "train_if_missing": {"vocab_size": 40, "model_type": "char"}}},
        "splits": {
            "train": {"roots": [str(base / "data" / "train")],
                      "synthetic": {"split": "dev", "num_sessions": 1, "num_frames": 450, "seed": 3, "content": "speech"},
                      "transforms": [{"name": "random_crop", "size": 88}, {"name": "hflip"}, {"name": "normalize"},
                                     {"name": "noise", "snr_db": [10.0, 30.0], "p": 0.5}, {"name": "fbank"}]},
            "valid": {"roots": [str(base / "data" / "valid")], "shuffle": False,
                      "synthetic": {"split": "dev", "num_sessions": 1, "num_frames": 450, "seed": 4, "content": "speech"},
                      "transforms": [{"name": "center_crop", "size": 88}, {"name": "normalize"}, {"name": "fbank"}]},
        },
        "sampler": {"max_frames": 300, "max_batch_size": 8},
        "loader": {"num_workers": 0},
        "model": {"d_model": 32, "video_channels": [8, 16], "video_downsample": 4, "layers": 1, "heads": 2,
                  "ff_dim": 64, "conv_kernel": 7, "dropout": 0.1},
        "train": {"epochs": 100, "lr": 0.003, "warmup_steps": 5, "log_every": 1, "checkpoint_every": 1000,
                  "eval_max_batches": 2, "threads": 1},
    }
    path = base / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, base


def records(out_dir, event):
    lines = (Path(out_dir) / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


def test_training_loss_goes_down(tiny_config):
    path, base = tiny_config
    out = base / "run_smoke"
    assert load_script().main(["--config", str(path), "--set", f"train.out_dir={out}",
                               "--set", "train.max_steps=40"]) == 0
    train = records(out, "train")
    assert len(train) == 40
    first = sum(r["loss"] for r in train[:5]) / 5
    last = sum(r["loss"] for r in train[-5:]) / 5
    assert last < 0.6 * first, (first, last)
    evals = records(out, "eval")
    assert evals[0]["label"] == "start" and evals[-1]["label"] == "end"
    assert evals[-1]["loss"] < evals[0]["loss"]
    state = torch.load(out / "last.pt", weights_only=False)
    assert state["step"] == 40 and state["sampler"]["batches_consumed"] > 0


def test_resume_gives_the_uninterrupted_run(tiny_config):
    path, base = tiny_config
    script = load_script()
    whole, split = base / "run_whole", base / "run_split"
    common = ["--config", str(path), "--set", "train.eval_split=null", "--set", "model.modality_dropout=0.3"]
    assert script.main(common + ["--set", f"train.out_dir={whole}", "--set", "train.max_steps=14"]) == 0
    # interrupted mid-epoch at step 9, then resumed to step 14
    assert script.main(common + ["--set", f"train.out_dir={split}", "--set", "train.max_steps=9"]) == 0
    assert script.main(common + ["--set", f"train.out_dir={split}", "--set", "train.max_steps=14", "--resume"]) == 0
    losses_whole = [r["loss"] for r in records(whole, "train")]
    losses_split = [r["loss"] for r in records(split, "train")]
    assert len(losses_whole) == len(losses_split) == 14
    assert losses_split == pytest.approx(losses_whole, rel=1e-5, abs=1e-6)
    a = torch.load(whole / "last.pt", weights_only=False)
    b = torch.load(split / "last.pt", weights_only=False)
    assert a["sampler"] == b["sampler"]
    for key, value in a["model"].items():
        assert torch.allclose(value.float(), b["model"][key].float(), atol=1e-5), key
