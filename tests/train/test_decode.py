"""``mcorec-torch decode`` / scripts/infer_avsr.py: a tiny trained model over a dev split (scored)
and an eval-like split without labels (hypotheses written, nothing scored) (SPEC §12)."""
import json

import pytest

from mcorec_torch import cli, synthetic
from mcorec_torch.corpus.vtt import read_vtt
from mcorec_torch.hypotheses.clustering import cluster_session
from mcorec_torch.train.loop import main as train_main


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_config_file):
    base = tmp_path_factory.mktemp("decode")
    path = tiny_config_file(base, augment=False, sampler={"max_frames": 600, "max_batch_size": 8},
                            train={"epochs": 1, "max_steps": 3, "warmup_steps": 1, "log_every": 1, "eval_split": None,
                                   "threads": 1, "out_dir": str(base / "run")})
    assert train_main(["--config", str(path)]) == 0
    return path, base


def test_decode_a_dev_split_and_score(trained, capsys):
    path, base = trained
    assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), "valid", "--json", str(base / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "chunks (asd, chunk_size 15 s)" in out and "Average Speaker WER:" in out
    session = base / "data" / "valid" / "session_00"
    speakers = list(json.loads((session / "metadata.json").read_text()))
    assert sorted(p.stem for p in (session / "output").glob("*.vtt")) == sorted(speakers)
    clusters = json.loads((session / "output" / "speaker_to_cluster.json").read_text())
    assert clusters == cluster_session(session)
    assert json.loads((base / "s.json").read_text())["average"]["speaker_wer"] is not None


def test_decode_an_eval_split_without_labels(trained, capsys):
    path, base = trained
    root = base / "eval"
    synthetic.make_split(root, "eval", num_sessions=1, seed=9, num_frames=400, content="speech")
    assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--segments", "windows",
                     "--chunk-size", "5"]) == 0
    out = capsys.readouterr().out
    assert "nothing to score" in out and "Average" not in out
    for vtt in (root / "session_00" / "output").glob("*.vtt"):
        for cue in read_vtt(vtt):
            assert cue.end_ms - cue.start_ms <= 5000
