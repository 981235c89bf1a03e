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
        assert cli.main(["decode", str(path), str(base / "run" / "last.pt"), str(root), "--no-score"] + extra) == 0
        written[name] = decoded_files(root)
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
