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


def test_bad_input_exits_2_with_the_message(trained, tmp_path, capsys):
    """SPEC §9: a data or config error at the command line prints its message and exits 2."""
    path, base = trained
    assert cli.main(["decode", str(tmp_path / "missing.yaml"), str(base / "run" / "last.pt"), "valid"]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    empty = tmp_path / "empty"
    synthetic.make_split(empty, "eval", num_sessions=1, seed=9, num_frames=400, content="speech")
    for asd in empty.glob("*/speakers/*/central_crops/*_asd.json"):
        asd.write_text("{}")  # no active frames: no chunks
    code = cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(empty)])
    err = capsys.readouterr().err
    assert code == 2 and "no chunks to decode" in err and "Traceback" not in err


def test_scores_read_the_splits_own_label_dir(dev_split, tmp_path):
    """A split whose labels live in another folder (the ``label_dir`` option) is scored from it."""
    import shutil

    from mcorec_torch.train.decode import score_roots

    root = tmp_path / "dev"
    shutil.copytree(dev_split[0], root)
    for session in root.iterdir():
        (session / "labels").rename(session / "labels_v2")
        shutil.copytree(session / "labels_v2", session / "output")  # perfect hypotheses
    assert score_roots([str(root)], "output") == []  # no labels/ folder: nothing to score
    (result,) = score_roots([str(root)], "output", "labels_v2")
    assert result["label_dir_name"] == "labels_v2" and result["average"]["speaker_wer"] == 0.0
