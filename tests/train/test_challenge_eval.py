"""``train.eval_challenge``: each validation also decodes the valid split in ASD chunks and
scores it with the official scorer; the figures are those of ``mcorec-torch score`` on the
written hypotheses and of ``mcorec-torch decode`` on the checkpoint (SPEC §11, §12)."""
import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from mcorec_torch import cli
from mcorec_torch.config import build_dataset, build_tokenizer, load_config
from mcorec_torch.train.challenge import ChallengeEval
from mcorec_torch.train.decode import decode_config


def train_main(argv):
    """``mcorec-torch train ARGV``."""
    return cli.main(["train", *argv])

pytestmark = pytest.mark.slow  # training: the fixture trains a model with the challenge evaluation

FIGURES = ("speaker_wer", "conversation_f1", "joint_error")


def eval_records(out_dir):
    lines = (Path(out_dir) / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == "eval"]


@pytest.fixture(scope="module")
def challenge_run(tmp_path_factory, tiny_config_file):
    base = tmp_path_factory.mktemp("challenge")
    path = tiny_config_file(base, augment=False)
    out = base / "run"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert train_main(["--config", str(path), "--set", f"train.out_dir={out}", "--set", "train.max_steps=30",
                           "--set", "train.eval_challenge=true"]) == 0
    return path, base, out, stdout.getvalue()


def test_each_validation_logs_the_challenge_figures(challenge_run):
    _, base, out, stdout = challenge_run
    records = eval_records(out)
    assert len(records) >= 2 and records[0]["label"] == "start" and records[-1]["label"] == "end"
    assert stdout.count("    challenge: speaker WER ") == len(records)
    for record in records:
        assert {"loss", "cer", "segments"} <= record.keys()  # the CER on cues is still there
        wer, f1, joint = (record[k] for k in FIGURES)
        assert wer >= 0.0 and 0.0 <= f1 <= 1.0
        # mean of 0.5 * WER + 0.5 * (1 - speaker F1) over the same speakers
        assert 0.5 * wer - 1e-9 <= joint <= 0.5 * wer + 0.5 + 1e-9
        assert record["challenge_chunks"] > 0 and record["challenge_sessions"] == 1
    # written under the run folder, never into the data
    session = base / "data" / "valid" / "session_00"
    assert not (session / "output").exists()
    mirror = out / "challenge" / "valid" / "session_00"
    assert (mirror / "metadata.json").is_symlink() and (mirror / "labels").is_symlink()
    speakers = list(json.loads((session / "metadata.json").read_text()))
    assert sorted(p.stem for p in (mirror / "output").glob("*.vtt")) == sorted(speakers)


def test_the_figures_are_those_of_score_and_of_decode(challenge_run, tmp_path):
    path, base, out, _ = challenge_run
    end = eval_records(out)[-1]
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["score", str(out / "challenge" / "valid"), "--json", str(tmp_path / "score.json")]) == 0
    scored = json.loads((tmp_path / "score.json").read_text())["average"]
    assert {k: end[k] for k in FIGURES} == scored
    # `mcorec-torch decode` of the checkpoint saved just before the end validation, on a copy
    # of the valid split: the same chunks, the same hypothesis files, the same numbers
    copy = tmp_path / "valid"
    shutil.copytree(base / "data" / "valid", copy)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert cli.main(["decode", str(path), str(out / "last.pt"), str(copy), "--json",
                         str(tmp_path / "decode.json"), "--out", str(tmp_path / "hyp")]) == 0
    assert f"{end['challenge_chunks']} chunks (asd, chunk_size 15 s)" in stdout.getvalue()
    assert json.loads((tmp_path / "decode.json").read_text())["average"] == scored
    decoded = tmp_path / "hyp" / "session_00" / "output"
    mirrored = out / "challenge" / "valid" / "session_00" / "output"
    names = sorted(p.name for p in decoded.iterdir())
    assert names == sorted(p.name for p in mirrored.iterdir()) and len(names) > 1
    for name in names:
        assert (decoded / name).read_text() == (mirrored / name).read_text(), name


def test_the_chunks_are_those_of_decode_and_the_eval_split_keeps_its_cues(challenge_run, tmp_path):
    path, base, _, _ = challenge_run
    config = load_config(path)
    tokenizer = build_tokenizer(config)
    challenge = ChallengeEval(config, tokenizer, tokenizer.blank_id, torch.device("cpu"), tmp_path)
    assert config.splits["valid"].dataset.get("segments", "labels") == "labels"  # CER still on cues
    decode = load_config(path)
    reference = build_dataset(decode, decode_config(decode, "valid"), tokenizer=tokenizer)  # as decode does
    ids = [challenge.dataset.segment_id(i) for i in range(len(challenge.dataset))]
    assert ids == [reference.segment_id(i) for i in range(len(reference))] and len(ids) > 4
    assert challenge.root == tmp_path / "challenge" / "valid"


def test_refused_without_labels_tokenizer_or_eval_split(challenge_run, tmp_path, capsys):
    path, base, _, _ = challenge_run
    config = yaml.safe_load(path.read_text())
    config["splits"]["valid"]["roots"] = [str(tmp_path / "eval")]
    config["splits"]["valid"]["synthetic"]["split"] = "eval"  # no labels/
    eval_config = tmp_path / "eval.yaml"
    eval_config.write_text(yaml.safe_dump(config))
    on = ["--set", "train.eval_challenge=true", "--set", "train.max_steps=1"]
    cases = [
        (eval_config, [], "train.eval_challenge: splits.valid cannot be scored: 1 session(s) have no labels/"),
        (path, ["--set", "text.tokenizer=null"], "train.eval_challenge: needs text.tokenizer"),
        (path, ["--set", "train.eval_split=null"], "train.eval_challenge: needs train.eval_split"),
        (path, ["--set", "train.eval_challenge_chunk_size=0"], "train.eval_challenge_chunk_size: must be > 0"),
    ]
    for number, (config_path, extra, message) in enumerate(cases):
        out = tmp_path / f"run_{number}"
        assert train_main(["--config", str(config_path), "--set", f"train.out_dir={out}"] + on + extra) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
        assert not (out / "log.jsonl").exists()
