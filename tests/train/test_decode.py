"""``mcorec-torch decode`` / scripts/infer_avsr.py: a tiny trained model over a dev split (scored)
and an eval-like split without labels (hypotheses written, nothing scored) (SPEC §12)."""
import json
import shutil

import pytest

from mcorec_torch import MCoRecDataError, cli, synthetic
from mcorec_torch.corpus.vtt import read_vtt
from mcorec_torch.hypotheses.clustering import cluster_session


def train_main(argv):
    """``mcorec-torch train ARGV``."""
    return cli.main(["train", *argv])


pytestmark = pytest.mark.slow  # training: the fixture trains a model to decode with


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_config_file):
    base = tmp_path_factory.mktemp("decode")
    path = tiny_config_file(base, augment=False, sampler={"max_frames": 600, "max_batch_size": 8},
                            train={"epochs": 1, "max_steps": 3, "warmup_steps": 1, "log_every": 1, "eval_split": None,
                                   "threads": 1, "out_dir": str(base / "run")})
    assert train_main(["--config", str(path)]) == 0
    return path, base


def test_decode_a_dev_split_and_score(trained, capsys):
    """By default the hypotheses go under the run folder, ``<train.out_dir>/hypotheses/<split>``,
    beside links to each session's metadata and labels, not into the data."""
    path, base = trained
    assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), "valid", "--json", str(base / "s.json")]) == 0
    out = capsys.readouterr().out
    hypotheses = base / "run" / "hypotheses" / "valid"
    assert "chunks (asd, chunk_size 15 s)" in out and "Average Speaker WER:" in out and f"to {hypotheses} in" in out
    session = base / "data" / "valid" / "session_00"
    assert not (session / "output").exists()
    speakers = list(json.loads((session / "metadata.json").read_text()))
    written = hypotheses / "session_00" / "output"
    assert sorted(p.stem for p in written.glob("*.vtt")) == sorted(speakers)
    clusters = json.loads((written / "speaker_to_cluster.json").read_text())
    assert clusters == cluster_session(session)
    average = json.loads((base / "s.json").read_text())["average"]
    assert average["speaker_wer"] is not None
    # the folder reads as a split (links to metadata.json and labels/): `score` gives the same figures
    assert cli.main(["score", str(hypotheses), "--json", str(base / "again.json")]) == 0
    assert json.loads((base / "again.json").read_text())["average"] == average


def test_decode_an_eval_split_without_labels(trained, capsys):
    path, base = trained
    root = base / "eval"
    synthetic.make_split(root, "eval", num_sessions=1, seed=9, num_frames=400, content="speech")
    assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--segments", "windows",
                     "--chunk-size", "5"]) == 0
    out = capsys.readouterr().out
    assert "nothing to score" in out and "Average" not in out
    written = base / "run" / "hypotheses" / "eval" / "session_00" / "output"  # a directory's last name
    assert f"of {base / 'run' / 'hypotheses' / 'eval'}" in out
    vtts = list(written.glob("*.vtt"))
    assert vtts and not (root / "session_00" / "output").exists()
    for vtt in vtts:
        for cue in read_vtt(vtt):
            assert cue.end_ms - cue.start_ms <= 5000


def tree_state(root):
    """Every path under ``root`` with its mode, size and modification time."""
    return {str(p.relative_to(root)): (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def read_only_split(trained, tmp_path):
    """A copy of the valid split with every file and folder read-only (restored afterwards).
    Tests also compare the tree before and after, since root ignores the permissions."""
    import os
    import stat

    _, base = trained
    root = tmp_path / "valid"
    shutil.copytree(base / "data" / "valid", root)
    paths = [root, *root.rglob("*")]
    modes = {p: p.lstat().st_mode for p in paths}
    for p in paths:
        os.chmod(p, stat.S_IMODE(modes[p]) & ~0o222)
    try:
        yield root
    finally:
        for p in paths:
            os.chmod(p, stat.S_IMODE(modes[p]))


def test_a_read_only_split_decodes_to_out_and_scores_with_hyp(trained, read_only_split, tmp_path, capsys):
    """Issue 21: decode never writes into the data (``--out DIR``), and ``score --hyp DIR`` reads
    hypotheses kept apart from the labels."""
    path, base = trained
    root, out = read_only_split, tmp_path / "hyp"
    before = tree_state(root)
    assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--out", str(out),
                     "--json", str(tmp_path / "decode.json")]) == 0
    assert f"to {out} in" in capsys.readouterr().out
    assert tree_state(root) == before
    decoded = json.loads((tmp_path / "decode.json").read_text())
    assert decoded["hyp_root"] == str(out) and decoded["average"]["speaker_wer"] is not None
    assert cli.main(["score", str(root), "--hyp", str(out), "--json", str(tmp_path / "score.json"),
                     "--per-speaker"]) == 0
    scored = json.loads((tmp_path / "score.json").read_text())
    assert scored["average"] == decoded["average"] and scored["sessions"] == decoded["sessions"]
    assert scored["split_dir"] == str(root) and scored["hyp_root"] == str(out)
    assert tree_state(root) == before
    # a hypothesis folder one level too high, or missing, is named with what it should hold
    assert cli.main(["score", str(root), "--hyp", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path}: holds none of the split's sessions (session_00); expected SESSION/output/" in err
    assert cli.main(["score", str(root), "--hyp", str(tmp_path / "nope")]) == 2
    assert f"error: {tmp_path / 'nope'}: hypothesis folder does not exist" in capsys.readouterr().err


def test_in_place_writes_the_official_layout_into_the_split(trained, tmp_path, capsys):
    """``--in-place``: SPLIT/SESSION/output/ as before ``--out`` existed; ``score SPLIT`` reads it."""
    path, base = trained
    root = tmp_path / "valid"
    shutil.copytree(base / "data" / "valid", root)
    assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--in-place"]) == 0
    out = capsys.readouterr().out
    assert "to the split's SESSION/output/ (--in-place)" in out
    assert (root / "session_00" / "output" / "speaker_to_cluster.json").is_file()
    assert cli.main(["score", str(root)]) == 0
    assert "Average Speaker WER:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:  # one place or the other
        cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--in-place", "--out", "x"])
    assert info.value.code == 2


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
    # the dataset refuses an empty split (naming it) before decode's own "no chunks to decode"
    assert code == 2 and f"0 segments from {empty}" in err and "Traceback" not in err


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


def decoded_files(root):
    output = root / "session_00" / "output"
    return {p.name: p.read_text() for p in sorted(output.iterdir())}


def test_decode_loads_through_the_configs_loader(trained, tmp_path, monkeypatch):
    """Finding 1 of issue 20: decode's loader is the one ``config.build_dataloader`` builds, so
    ``loader.pin_memory``, the worker-seed generator and ``decode.device: cuda`` (the GPU stage,
    here falling back to the CPU decoder) reach it; the hypotheses are those of the default run."""
    import mcorec_torch.train.decode as decode
    from mcorec_torch.gpu import GpuBatchLoader

    path, base = trained
    loaders = []
    original = decode.decode_texts

    def spy(model, loader, *args, **kwargs):
        loaders.append(loader)
        return original(model, loader, *args, **kwargs)

    monkeypatch.setattr(decode, "decode_texts", spy)
    written = {}
    for name, extra in (("plain", []), ("pinned", ["--set", "loader.pin_memory=true", "--set", "sampler.seed=7"]),
                        ("gpu_stage", ["--set", "decode.device=cuda", "--set", "decode.threads=2"])):
        root = tmp_path / name
        shutil.copytree(base / "data" / "valid", root)
        assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--no-score",
                         "--out", str(tmp_path / "hyp" / name)] + extra) == 0
        written[name] = decoded_files(tmp_path / "hyp" / name)
    plain, pinned, gpu_stage = loaders
    assert not plain.pin_memory and pinned.pin_memory
    assert plain.generator.initial_seed() == 0 and pinned.generator.initial_seed() == 7  # sampler.seed
    assert isinstance(gpu_stage, GpuBatchLoader) and gpu_stage.threads == 2
    assert written["pinned"] == written["plain"] == written["gpu_stage"] and written["plain"]


def test_decode_reads_input_sizes_from_the_first_chunk_that_loads(trained, tmp_path, monkeypatch, capsys):
    """Under ``on_error="skip"`` a first chunk that fails is None: the model's input sizes come
    from the first chunk that loads (issue 20, finding 1)."""
    from mcorec_torch.data.reader import SegmentReader

    path, base = trained
    root = tmp_path / "valid"
    shutil.copytree(base / "data" / "valid", root)
    original, calls = SegmentReader.audio, []

    def first_fails(self, row):
        calls.append(row)
        if len(calls) == 1:
            raise MCoRecDataError("first.mp4", "a broken file")
        return original(self, row)

    monkeypatch.setattr(SegmentReader, "audio", first_fails)
    assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--no-score",
                     "--set", "dataset.on_error=skip"]) == 0
    assert "decoded " in capsys.readouterr().out and len(calls) > 1
