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


def save_as_world(checkpoint, world, batches_consumed=None):
    """Make ``checkpoint`` look saved by ``world`` processes: rank 0's sampler state records the
    world size and the batches of the epoch each process consumed (a DDP run's checkpoint
    differs in nothing else: the model is saved unwrapped)."""
    state = torch.load(checkpoint, weights_only=False)
    state["sampler"]["num_replicas"] = world
    if batches_consumed is not None:
        state["sampler"]["batches_consumed"] = batches_consumed
    torch.save(state, checkpoint)


@pytest.mark.slow  # training
def test_a_checkpoint_of_2_processes_after_a_whole_epoch_resumes_with_1(tiny_config, capsys):
    """Issue 21: stopped by 2 processes after the last batch of epoch 0 (each had consumed
    ceil(B / 2) of the epoch's B batches), resumed with 1: the run continues at epoch 1's start,
    says so in the resume line, and trains the batches and learning rates of an uninterrupted
    1-process run (whose epoch 0 the checkpoint holds)."""
    path, base = tiny_config
    script = load_script()
    whole, out = base / "run_world_whole", base / "run_world"
    common = ["--config", str(path), "--set", "train.eval_split=null", "--set", "model.modality_dropout=0.3",
              "--set", "train.epochs=2"]
    assert script.main(common + ["--set", f"train.out_dir={whole}"]) == 0
    per_epoch = len(records(whole, "train")) // 2
    assert script.main(common + ["--set", f"train.out_dir={out}", "--set", f"train.max_steps={per_epoch}"]) == 0
    first = torch.load(out / "last.pt", weights_only=False)
    assert (first["sampler"]["epoch"], first["sampler"]["batches_consumed"]) == (0, per_epoch)
    save_as_world(out / "last.pt", 2, batches_consumed=-(-per_epoch // 2))
    capsys.readouterr()
    assert script.main(common + ["--set", f"train.out_dir={out}", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert (f"resumed {out / 'last.pt'}: epoch 1, batch 0 of the epoch, step {per_epoch}; epoch 0 was complete; "
            "saved by 2 process(es), continuing at the start of epoch 1 with 1\n") in printed
    state = torch.load(out / "last.pt", weights_only=False)
    assert state["step"] == 2 * per_epoch and state["sampler"]["num_replicas"] == 1 and state["sampler"]["epoch"] == 2
    assert [r["loss"] for r in records(out, "train")] == pytest.approx(
        [r["loss"] for r in records(whole, "train")], rel=1e-5, abs=1e-6)


@pytest.mark.slow  # training
def test_a_mid_epoch_checkpoint_of_2_processes_needs_next_epoch(tiny_config, capsys):
    """Saved mid-epoch by 2 processes, resumed with 1: refused as bad input naming the file and
    ``--next-epoch``; with it the run continues at the next epoch's start, saying so. A
    checkpoint of 2 processes saved at an epoch's end (its first batch next) needs no flag."""
    path, base = tiny_config
    script = load_script()
    out = base / "run_world_mid"
    common = ["--config", str(path), "--set", "train.eval_split=null", "--set", f"train.out_dir={out}"]
    assert script.main(common + ["--set", "train.max_steps=2"]) == 0
    save_as_world(out / "last.pt", 2)
    capsys.readouterr()
    assert script.main(common + ["--set", "train.epochs=2", "--resume"]) == 2
    err = capsys.readouterr().err
    assert (f"error: {out / 'last.pt'}: saved by 2 process(es) after batch 2 of epoch 0 on each; this run has 1"
            in err and "Pass --next-epoch to continue at the start of epoch 1 with 1 process(es)" in err)
    assert "Traceback" not in err and len(records(out, "train")) == 2
    assert script.main(common + ["--set", "train.epochs=2", "--resume", "--next-epoch"]) == 0
    printed = capsys.readouterr().out
    assert ("epoch 1, batch 0 of the epoch, step 2; skipped the rest of epoch 0 (saved after its batch 2 on each "
            "process); saved by 2 process(es), continuing at the start of epoch 1 with 1\n") in printed
    state = torch.load(out / "last.pt", weights_only=False)
    per_epoch = len(records(out, "train")) - 2
    assert per_epoch > 2 and state["step"] == 2 + per_epoch
    assert (state["sampler"]["epoch"], state["sampler"]["batches_consumed"]) == (2, 0)  # saved at epoch 1's end
    save_as_world(out / "last.pt", 2)
    assert script.main(common + ["--set", "train.epochs=3", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert (f"epoch 2, batch 0 of the epoch, step {2 + per_epoch}; saved by 2 process(es), continuing at the start "
            "of epoch 2 with 1\n") in printed
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 2 + 2 * per_epoch
    assert script.main(common + ["--next-epoch", "--overwrite"]) == 2
    assert "--next-epoch continues a checkpoint: it needs --resume" in capsys.readouterr().err


@pytest.mark.slow  # training (and writing the tiny config's data)
def test_the_trainer_says_what_it_prepares_before_it_does_it(tmp_path, tiny_config_file, capsys):
    """Issue 21: no minute of silence: a line before writing synthetic data, training the
    tokenizer, indexing each split, the first evaluation and the first batch, in that order;
    a second run finds data and tokenizer there and says only what it does."""
    path = tiny_config_file(tmp_path, train={"epochs": 1, "max_steps": 1, "eval_split": "valid", "eval_max_batches": 1,
                                             "log_every": 1, "threads": 1, "out_dir": str(tmp_path / "run")})
    script = load_script()
    assert script.main(["--config", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = ["writing the synthetic split splits.train (1 session(s) of 450 frames) to ",
                "writing the synthetic split splits.valid (1 session(s) of 450 frames) to ",
                f"training the tokenizer {tmp_path / 'tok' / 'chars.model'} (char, vocab_size 40) on the train split",
                f"indexing splits.train ({tmp_path / 'data' / 'train'}) and building its loader ...",
                f"indexing splits.valid ({tmp_path / 'data' / 'valid'}) and building its loader ...",
                "config ", "evaluating on valid before the first step ...", "[eval start]",
                "epoch 0: waiting for the first batch ...", "epoch 0 step 1: loss "]
    where = [next((n for n, line in enumerate(lines) if line.startswith(start)), None) for start in expected]
    assert None not in where and where == sorted(where), list(zip(expected, where))
    assert script.main(["--config", str(path), "--overwrite"]) == 0
    again = capsys.readouterr().out
    assert "writing the synthetic" not in again and "training the tokenizer" not in again
    assert "indexing splits.train" in again and "epoch 0: waiting for the first batch" in again
