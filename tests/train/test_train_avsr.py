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
def tiny_config(tmp_path_factory, tiny_config_file):
    """A config over a 1-session train split and a 1-session valid split, tiny model, no workers."""
    base = tmp_path_factory.mktemp("train")
    return tiny_config_file(base), base


def records(out_dir, event):
    lines = (Path(out_dir) / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


@pytest.mark.slow  # training
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
    assert "speaker_wer" not in evals[-1] and not (out / "challenge").exists()  # train.eval_challenge is off
    state = torch.load(out / "last.pt", weights_only=False)
    assert state["step"] == 40 and state["sampler"]["batches_consumed"] > 0


@pytest.mark.slow  # training
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


@pytest.mark.slow  # training
def test_an_existing_run_needs_resume_or_overwrite_and_max_steps_0_takes_no_step(tiny_config, capsys):
    path, base = tiny_config
    out = base / "run_guard"
    common = ["--config", str(path), "--set", f"train.out_dir={out}"]
    script = load_script()
    assert script.main(common + ["--set", "train.max_steps=0"]) == 0
    state = torch.load(out / "last.pt", weights_only=False)
    assert state["step"] == 0 and records(out, "train") == []
    capsys.readouterr()
    # a second start into the same folder is refused, naming what is there and what to pass
    assert script.main(common + ["--set", "train.max_steps=2"]) == 2
    err = capsys.readouterr().err
    assert "already holds a run (last.pt, log.jsonl)" in err and "--resume" in err and "--overwrite" in err
    assert "Traceback" not in err
    assert script.main(common + ["--set", "train.max_steps=2", "--overwrite"]) == 0
    assert len(records(out, "train")) == 2 and records(out, "eval")[0]["label"] == "start"
    assert script.main(common + ["--resume", "--overwrite"]) == 2
    assert script.main(["--config", str(path), "--set", f"train.out_dir={base / 'nothing'}", "--resume"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_input_exits_2_naming_an_unset_variable(tiny_config, capsys, monkeypatch):
    path, base = tiny_config
    monkeypatch.delenv("MCOREC_TOKENIZER", raising=False)
    code = load_script().main(["--config", str(path), "--set", f"train.out_dir={base / 'run_env'}",
                               "--set", "text.tokenizer.model=$MCOREC_TOKENIZER/unigram5000.model",
                               "--set", "text.tokenizer.train_if_missing=null"])
    assert code == 2
    err = capsys.readouterr().err
    assert "text.tokenizer.model: environment variable MCOREC_TOKENIZER is not set" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("config", sorted((SCRIPT.parents[1] / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_config_headers_name_their_own_file_and_a_working_tokenizer_command(config):
    """The commands in a config's header comment run as written: its own file name, and the
    tokenizer command's flags parse and produce the files the config names."""
    import shlex

    from mcorec_torch.cli import build_parser

    header = [line[1:].strip() for line in config.read_text().splitlines() if line.startswith("#")]
    runs = [line for line in header if "train_avsr.py" in line]
    assert runs and all(f"--config configs/{config.name}" in line for line in runs), runs
    for line in header:
        if "train_tokenizer.py" not in line:
            continue
        argv = shlex.split(line.replace("$MCOREC_ROOT", "/data").replace("$MCOREC_TOKENIZER", "/tok"))
        args = build_parser().parse_args(["tokenizer", *argv[argv.index("scripts/train_tokenizer.py") + 1:]])
        name = args.name or f"{args.model_type}{args.vocab_size}"
        tokenizer = yaml.safe_load(config.read_text())["text"]["tokenizer"]
        assert tokenizer["model"] == f"$MCOREC_TOKENIZER/{name}.model" and str(args.out_dir) == "/tok"
        assert tokenizer["units"] == f"$MCOREC_TOKENIZER/{name}_units.txt"


def test_a_missing_tokenizer_is_a_config_error_naming_the_key(tiny_config, capsys):
    """CTC training without ``text.tokenizer`` is bad input (exit 2, the key named), as in decode
    (issue 20, finding 1: it was a bare SystemExit)."""
    from mcorec_torch import cli

    path, base = tiny_config
    out = base / "run_no_tokenizer"
    assert cli.main(["train", "--config", str(path), "--set", f"train.out_dir={out}",
                     "--set", "text.tokenizer=null"]) == 2
    err = capsys.readouterr().err
    assert "text.tokenizer: is needed" in err and "Traceback" not in err
    assert not (out / "log.jsonl").exists()
