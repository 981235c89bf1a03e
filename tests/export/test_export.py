"""mcorec-torch export: every format read back (by the package and by webdataset, lhotse and
datasets) shows frame indices F0..F1-1, aligned audio and the dataset's texts and ids; a killed
export resumes to the same result; shards plus merge equal one run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.cli import main
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.export import (ExportSettings, export_split, iter_wds, read_files_record, read_manifest,
                                 shard_paths, verify_export)
from mcorec_torch.export.formats.kaldi import kaldi_utt


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = tmp_path_factory.mktemp("exp") / "dev"
    specs = synthetic.make_split(root, "dev", num_sessions=2, seed=4, num_frames=400)
    return root, {s.name: s for s in specs}


@pytest.fixture(scope="module")
def dataset(split, tmp_path_factory):
    return MCoRecDataset(split[0], cache_dir=tmp_path_factory.mktemp("excache"), color="gray")


@pytest.fixture(scope="module")
def exports(dataset, tmp_path_factory):
    """One export per format (lossy defaults), and one lossless mp4."""
    base = tmp_path_factory.mktemp("exports")
    outs = {}
    for name, settings in {"mp4": ExportSettings("mp4"), "wds": ExportSettings("wds", shard_size="7"),
                           "lhotse": ExportSettings("lhotse"), "hf": ExportSettings("hf"),
                           "kaldi": ExportSettings("kaldi"), "mp4-lossless": ExportSettings("mp4", lossless=True),
                           "wds-npy": ExportSettings("wds", video="npy", lossless=True)}.items():
        outs[name] = base / name
        export_split(dataset, "dev", outs[name], settings, progress=False)
    return outs


def _reference(dataset):
    return {dataset.segment_id(i): i for i in range(len(dataset))}


def _check_alignment(sample, dataset, by_id):
    """Frame indices from the pixels equal F0..F1-1, audio at lag 0, text and ids the dataset's."""
    from mcorec_torch.qa.verify import audio_lag

    reference = dataset.load(by_id[sample["id"]])
    for key in ("text", "session", "speaker", "conversation", "frame_start", "frame_end", "start", "end"):
        assert sample[key] == reference[key], key
    mask = np.asarray(sample["video_mask"])
    assert np.array_equal(mask, reference["video_mask"].numpy())
    video = np.asarray(sample["video"])
    shown = [synthetic.decode_frame_index(video[t]) for t in np.flatnonzero(mask)]
    assert shown == [sample["frame_start"] + int(t) for t in np.flatnonzero(mask)]
    assert not video[~mask].any()
    audio = np.asarray(sample["audio"])
    assert len(audio) == 640 * (sample["frame_end"] - sample["frame_start"])
    assert abs(audio_lag(audio, reference["audio"].numpy())) <= 2


@pytest.mark.parametrize("name", ["mp4", "lhotse", "mp4-lossless"])
def test_files_formats_read_back_aligned(exports, dataset, name):
    records = read_manifest(exports[name])
    assert [r["id"] for r in records] == sorted(_reference(dataset), key=lambda s: (s.split("/")[0], s))
    by_id = _reference(dataset)
    for record in records[::3]:
        assert (exports[name] / record["paths"]["text"]).read_text() == record["text"] + "\n"
        _check_alignment(read_files_record(exports[name], record, "gray"), dataset, by_id)
    csv = (exports[name] / "dev.csv").read_text().splitlines() if name.startswith("mp4") else None
    if csv:
        assert csv[0] == f"dev,{records[0]['paths']['video']},{records[0]['frames']}"


def test_lossless_mp4_gives_the_dataset_back_exactly(exports, dataset):
    by_id = _reference(dataset)
    for record in read_manifest(exports["mp4-lossless"])[:6]:
        sample = read_files_record(exports["mp4-lossless"], record, "gray")
        reference = dataset.load(by_id[record["id"]])
        assert np.array_equal(sample["video"].numpy(), reference["video"].numpy())
        assert np.array_equal(sample["audio"].numpy(), reference["audio"].numpy())
    result = verify_export(exports["mp4-lossless"], dataset, count=8)
    assert result["problems"] == [] and result["checked"] == 8


@pytest.mark.parametrize("name", ["wds", "wds-npy"])
def test_wds_shards_read_by_tarfile_and_the_package(exports, dataset, name):
    shards = shard_paths(exports[name])
    records = read_manifest(exports[name])
    size = 7 if name == "wds" else 1000  # samples per shard
    assert len(shards) == -(-len(records) // size) and all(p.suffix == ".tar" for p in shards)
    samples = list(iter_wds(shards, "gray"))
    where = {r["paths"]["key"]: r["paths"]["shard"] for r in records}
    assert sorted(s["id"] for s in samples) == sorted(r["id"] for r in records)
    assert [where[s["id"].replace("/", "_")] for s in samples] == sorted(where[s["id"].replace("/", "_")]
                                                                          for s in samples)
    by_id = _reference(dataset)
    for sample in samples[::4]:
        _check_alignment(sample, dataset, by_id)


def test_wds_shards_read_by_webdataset(exports, dataset):
    wds = pytest.importorskip("webdataset")
    from mcorec_torch.export import sample_from_wds

    shards = [str(p) for p in shard_paths(exports["wds"])]
    groups = list(wds.WebDataset(shards, shardshuffle=False))
    by_id = {r["id"]: r for r in read_manifest(exports["wds"])}
    assert [json.loads(g["json"])["id"] for g in groups] == [s["id"] for s in iter_wds(shard_paths(exports["wds"]))]
    assert sorted(by_id) == sorted(json.loads(g["json"])["id"] for g in groups)
    assert all(g["txt"].decode() == by_id[json.loads(g["json"])["id"]]["text"] for g in groups)
    _check_alignment(sample_from_wds(groups[5], "gray"), dataset, _reference(dataset))


def test_lhotse_loads_the_cuts(exports, dataset):
    lhotse = pytest.importorskip("lhotse")
    cuts = lhotse.CutSet.from_jsonl(exports["lhotse"] / "lhotse" / "cuts.jsonl.gz")
    recordings = lhotse.load_manifest(exports["lhotse"] / "lhotse" / "recordings.jsonl.gz")
    supervisions = lhotse.load_manifest(exports["lhotse"] / "lhotse" / "supervisions.jsonl.gz")
    assert len(cuts) == len(recordings) == len(supervisions) == len(dataset)
    by_id = _reference(dataset)
    for cut in list(cuts)[::5]:
        reference = dataset.load(by_id[cut.id])
        audio = cut.load_audio()[0]
        assert audio.shape == reference["audio"].shape
        assert np.abs(audio - reference["audio"].numpy()).max() < 2e-4  # 16-bit FLAC
        assert cut.supervisions[0].text == reference["text"]
        assert cut.supervisions[0].custom["frame_start"] == reference["frame_start"]


def test_hf_dataset_loads_with_its_features(exports, dataset):
    datasets = pytest.importorskip("datasets")
    from mcorec_torch.export.formats.hf import row_sample

    table = datasets.load_from_disk(str(exports["hf"] / "hf" / "dataset"))
    assert table.features["audio"] == datasets.List(datasets.Value("float32"))  # samples at 16 kHz
    assert table.features["video"] == datasets.Value("binary") and table.features["frames"] == datasets.Value("int32")
    assert table["id"] == [r["id"] for r in read_manifest(exports["hf"])]
    assert set(table["color"]) == {"gray"}
    by_id = _reference(dataset)
    for k in range(0, len(table), 6):
        sample = row_sample(table[k])
        _check_alignment(sample, dataset, by_id)
        assert np.array_equal(sample["audio"].numpy(), dataset.load(by_id[sample["id"]])["audio"].numpy())


def test_kaldi_directory(exports, dataset):
    folder = exports["kaldi"] / "kaldi"
    segments = [line.split() for line in (folder / "segments").read_text().splitlines()]
    texts = dict(line.split(" ", 1) for line in (folder / "text").read_text().splitlines())
    assert len(segments) == len(texts) == len(dataset)
    by_utt = {kaldi_utt(r)[0]: r for r in read_manifest(exports["kaldi"])}
    for utt, recording, begin, end in segments:
        record = by_utt[utt]
        assert recording == record["session"]
        assert round(float(begin) * 25) == record["frame_start"] and round(float(end) * 25) == record["frame_end"]
        assert texts[utt] == record["text"]
    wav = dict(line.split(" ", 1) for line in (folder / "wav.scp").read_text().splitlines())
    central = os.path.abspath(dataset.roots[0] / "session_00" / "central_video.mp4")
    assert f"-m mcorec_torch.export.kaldi_wav --length " in wav["session_00"]
    assert f" --source {central} " in wav["session_00"] and wav["session_00"].endswith(" |")
    spk2utt = [line.split() for line in (folder / "spk2utt").read_text().splitlines()]
    assert sum(len(row) - 1 for row in spk2utt) == len(dataset)
    assert all(u.startswith(row[0] + "-") for row in spk2utt for u in row[1:])


def test_another_configuration_is_refused_naming_every_difference_in_full(exports, dataset, split):
    """Every setting and option that differs, with both values, none shortened: here the format,
    the shard size and the colour (a dataset option)."""
    rgb = MCoRecDataset(split[0], cache_dir=dataset.cache_dir, color="rgb")
    with pytest.raises(MCoRecDataError) as refused:
        export_split(rgb, "dev", exports["mp4"], ExportSettings("wds", shard_size="7"), progress=False)
    text = str(refused.value)
    assert "another configuration" in text
    for difference in ("settings.format: 'mp4' there, 'wds' now", "settings.shard_size: '1000' there, '7' now",
                       "options.color: 'gray' there, 'rgb' now"):
        assert difference in text
    assert text.count(" there, ") == 3


def test_the_fingerprint_is_what_export_json_holds(dataset, tmp_path):
    """A tuple option (``exclude``) is compared as the JSON list ``export.json`` holds, so the
    same export run again is not refused."""
    from mcorec_torch.export import ExportPlan

    from mcorec_torch import DatasetOptions

    tuple_option = "exclude" in DatasetOptions.__dataclass_fields__  # landing beside this change
    excluding = MCoRecDataset(dataset.roots[0], cache_dir=dataset.cache_dir, color="gray",
                              **({"exclude": ("session_01/spk_1",)} if tuple_option else {}))
    fingerprint = ExportPlan(excluding, "dev", ExportSettings("kaldi")).fingerprint()
    assert fingerprint["options"].get("exclude", ["session_01/spk_1"]) == ["session_01/spk_1"]
    assert json.loads(json.dumps(fingerprint)) == fingerprint
    for _ in range(2):
        assert export_split(excluding, "dev", tmp_path / "out", ExportSettings("kaldi"), progress=False).merged


def test_the_refusal_shows_long_values_whole(tmp_path):
    from mcorec_torch.export.plan import claim_folder

    long_name = "normalizer_" + "x" * 300
    saved = {"split": "dev", "normalizer": long_name, "sessions": {f"session_{k:02d}": 5 for k in range(30)},
             "options": {"min_duration": 0.5, "exclude": ["session_00", "session_01/spk_1"]}}
    assert claim_folder(tmp_path / "out", saved)
    now = {"split": "dev", "normalizer": long_name + "y", "sessions": {f"session_{k:02d}": 6 for k in range(30)},
           "options": {"min_duration": 500, "color": "rgb"}}
    with pytest.raises(MCoRecDataError) as refused:
        claim_folder(tmp_path / "out", now)
    text = str(refused.value)
    assert f"normalizer: {long_name!r} there, {long_name + 'y'!r} now" in text
    assert all(f"sessions.session_{k:02d}: 5 there, 6 now" in text for k in range(30))
    assert "options.min_duration: 0.5 there, 500 now" in text
    assert "options.exclude: ['session_00', 'session_01/spk_1'] there, (absent) now" in text
    assert "options.color: (absent) there, 'rgb' now" in text
    assert "split:" not in text


@pytest.mark.parametrize("where", ["open_writer", "load"])
def test_an_export_failing_before_any_segment_leaves_no_export_json(dataset, tmp_path, monkeypatch, where):
    """A bad option found while opening the first session, or an error before the first segment
    is written: the folder keeps no ``export.json``, so a run with other settings is not refused."""
    from mcorec_torch.export.formats.base import ExportFormat, SessionWriter

    def bad(*args, **kwargs):
        raise MCoRecDataError("session_00", "a bad option found while opening the session")

    monkeypatch.setattr(ExportFormat if where == "open_writer" else SessionWriter, where, bad)
    out = tmp_path / "out"
    with pytest.raises(MCoRecDataError, match="a bad option found"):
        export_split(dataset, "dev", out, ExportSettings("wds"), progress=False)
    assert out.is_dir() and not list(out.rglob("*"))
    monkeypatch.undo()
    result = export_split(dataset, "dev", out, ExportSettings("kaldi"), progress=False)
    assert result.merged and len(read_manifest(out)) == len(dataset)


def test_an_export_failing_after_segments_keeps_its_export_json(dataset, tmp_path, monkeypatch):
    from mcorec_torch.export.formats.base import SessionWriter

    load, calls = SessionWriter.load, []

    def fail_fifth(self, i):
        calls.append(i)
        if len(calls) == 5:
            raise MCoRecDataError("segment", "bad")
        return load(self, i)

    monkeypatch.setattr(SessionWriter, "load", fail_fifth)
    with pytest.raises(MCoRecDataError, match="bad"):
        export_split(dataset, "dev", tmp_path / "out", ExportSettings("mp4"), progress=False)
    assert (tmp_path / "out" / "export.json").exists() and len(list((tmp_path / "out").rglob("*.mp4"))) == 4
    with pytest.raises(MCoRecDataError, match="another configuration"):
        export_split(dataset, "dev", tmp_path / "out", ExportSettings("kaldi"), progress=False)


def _files(folder):
    """Every file's bytes; for media (encoded anew by each run) and tars of them: the name and,
    for tars, the members' names and their .json/.txt bytes."""
    import tarfile

    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".tar":
            with tarfile.open(path) as tar:
                files[name] = [(m.name, tar.extractfile(m).read() if m.name.endswith((".json", ".txt")) else None)
                               for m in tar]
        else:
            files[name] = None if path.suffix in (".mp4", ".flac") else path.read_bytes()
    return files


def test_shards_and_merge_equal_one_run(exports, dataset, tmp_path):
    out = tmp_path / "sharded"
    for i in (0, 1):
        result = export_split(dataset, "dev", out, ExportSettings("wds", shard_size="7"), shard=(i, 2), progress=False)
        assert not result.merged and result.sessions == 1
    with pytest.raises(MCoRecDataError):
        read_manifest(out)
    assert main(["export-merge", str(out)]) == 0
    assert _files(out) == _files(exports["wds"])


@pytest.mark.slow
def test_killed_export_resumes_to_the_same_result(split, dataset, exports, tmp_path, capsys):
    """The export dies after 8 segments (the private ``FAIL_AFTER_ENV`` hook of
    ``export.formats.base``: ``os._exit``, no cleanup, as a kill) with the 9th segment's first
    file still under its temporary name; the next run removes that file and ends with the files
    of an uninterrupted run."""
    from mcorec_torch._io import temporary_target
    from mcorec_torch.export.formats.base import FAIL_AFTER_ENV, FAIL_EXIT

    out = tmp_path / "killed"
    cache = dataset.cache_dir
    cmd = [sys.executable, "-m", "mcorec_torch.cli", "export", str(split[0]), str(out), "--format", "mp4",
           "--color", "gray", "--cache-dir", str(cache), "--no-progress"]
    died = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, **{FAIL_AFTER_ENV: "8"}))
    assert died.returncode == FAIL_EXIT, died.stderr[-2000:]
    assert not (out / "manifest.jsonl").exists()  # killed before the end
    assert len(list(out.rglob("*.mp4"))) == 8
    left = [p for p in out.rglob("*") if temporary_target(p.name)]
    assert len(left) == 1 and temporary_target(left[0].name).endswith(".mp4")
    assert main(cmd[3:]) == 0
    assert "removed 1 partial file(s) of an interrupted run" in capsys.readouterr().out
    files = _files(out)
    assert not [name for name in files if ".partial" in name or temporary_target(name.rsplit("/", 1)[-1])]
    assert files == _files(exports["mp4"])


def test_cli_workers_and_verify(split, dataset, tmp_path, capsys):
    out = tmp_path / "two"
    code = main(["export", str(split[0]), str(out), "--format", "mp4", "--color", "gray", "--workers", "2",
                 "--cache-dir", str(dataset.cache_dir), "--no-progress", "--verify", "6"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert f"exported {len(dataset)} segments" in text and "verify: 6 segments re-read, 0 problem(s)" in text
    assert [r["id"] for r in read_manifest(out)] == [json.loads(x)["id"] for x in
                                                     (out / "manifest.jsonl").read_text().splitlines()]


def test_hf_export_needs_no_torchcodec(dataset, tmp_path):
    """datasets >= 4 encodes and decodes ``Audio`` values only through torchcodec, which needs
    the system FFmpeg libraries and is not a dependency: the export writes no such column, so it
    runs without torchcodec (reading it too: tests/export/test_open_in_one_call.py)."""
    datasets = pytest.importorskip("datasets")
    script = f"""
import sys
for name in ("torchcodec", "torchcodec.encoders", "torchcodec.decoders"):
    sys.modules[name] = None  # any import of torchcodec fails, as on a machine without it
from mcorec_torch import MCoRecDataset
from mcorec_torch.export import ExportSettings, export_split
ds = MCoRecDataset({str(dataset.roots[0])!r}, cache_dir={str(tmp_path / 'cache')!r}, color="gray")
export_split(ds, "dev", {str(tmp_path / 'out')!r}, ExportSettings("hf"), progress=False)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    table = datasets.load_from_disk(str(tmp_path / "out" / "hf" / "dataset"))
    assert table.features["audio"] == datasets.List(datasets.Value("float32")) and len(table) == len(dataset)


@pytest.mark.parametrize("name", ["mp4", "lhotse", "wds", "wds-npy", "hf", "mp4-lossless"])
def test_read_export_reads_every_format_through_the_registry(exports, dataset, name):
    from mcorec_torch.export import read_export

    records = read_manifest(exports[name])[:5]
    samples = list(read_export(exports[name], records))
    assert [s["id"] for s in samples] == [r["id"] for r in records]
    by_id = _reference(dataset)
    for sample in samples:
        _check_alignment(sample, dataset, by_id)


def test_read_export_of_kaldi_is_refused(exports):
    from mcorec_torch.export import read_export

    with pytest.raises(MCoRecDataError, match="holds no media"):
        read_export(exports["kaldi"])


@pytest.mark.parametrize("name", ["wds", "wds-npy", "lhotse", "hf", "kaldi"])
def test_verify_every_format(exports, dataset, name):
    from mcorec_torch.export import format_verify_report

    result = verify_export(exports[name], dataset, count=4)
    assert result["problems"] == [] and result["checked"] == 4
    assert format_verify_report(result).startswith("verify: 4 segments re-read, 0 problem(s); ")
    assert ("note" in result) == (name == "kaldi")


def test_a_failed_session_leaves_no_temporary_shard(dataset, tmp_path, monkeypatch):
    """A segment that fails (``on_error="raise"``) stops the export; the session's open part tar
    is dropped, not left under its temporary name, and the next run completes the export."""
    from mcorec_torch._io import temporary_target
    from mcorec_torch.export.formats.base import SessionWriter

    out = tmp_path / "failed"
    load, calls = SessionWriter.load, []

    def fail_fourth(self, i):
        calls.append(i)
        if len(calls) == 4:
            raise RuntimeError("bad segment")
        return load(self, i)

    monkeypatch.setattr(SessionWriter, "load", fail_fourth)
    with pytest.raises(MCoRecDataError, match="export failed: RuntimeError: bad segment"):
        export_split(dataset, "dev", out, ExportSettings("wds", shard_size="2"), progress=False)
    assert not list(out.rglob("*.tar")) and not (out / "wds").exists()
    assert not [p for p in out.rglob("*") if temporary_target(p.name) or ".partial" in p.name]
    monkeypatch.undo()
    result = export_split(dataset, "dev", out, ExportSettings("wds", shard_size="2"), progress=False)
    assert result.merged and [r["id"] for r in read_manifest(out)] == [r["id"] for r in plan_order(dataset)]


def plan_order(dataset):
    from mcorec_torch.export import ExportPlan

    plan = ExportPlan(dataset, "dev", ExportSettings("wds"))
    return [plan.record(i) for rows in plan.sessions.values() for i in rows]


def _bytes(folder):
    """Every file's bytes by its path under ``folder``."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _no_leftovers(folder):
    """No file under a temporary or ``.partial`` name anywhere under ``folder``."""
    from mcorec_torch._io import temporary_target

    return not [p for p in folder.rglob("*") if temporary_target(p.name) or ".partial" in p.name]


def test_interrupted_export_keeps_only_complete_files_and_resumes_to_the_same_bytes(dataset, exports, tmp_path,
                                                                                     monkeypatch):
    """Ctrl-C (``KeyboardInterrupt``, raised by the private ``INTERRUPT_AFTER_ENV`` hook while a
    segment's mp4 is still under its temporary name, in the second session): the temporary file
    is removed, the first session stays complete, and ``ExportInterrupted`` says so; the same
    export run again ends with the bytes of an uninterrupted run (lossless mp4 is deterministic)."""
    from mcorec_torch.export import ExportInterrupted, ExportPlan
    from mcorec_torch.export.formats import base

    first = len(next(iter(ExportPlan(dataset, "dev", ExportSettings("mp4")).sessions.values())))
    monkeypatch.setattr(base, "_WRITTEN", [0])
    monkeypatch.setenv(base.INTERRUPT_AFTER_ENV, str(first + 3))
    out = tmp_path / "interrupted"
    with pytest.raises(ExportInterrupted) as stopped:
        export_split(dataset, "dev", out, ExportSettings("mp4", lossless=True), progress=False)
    assert isinstance(stopped.value, KeyboardInterrupt)
    assert (stopped.value.sessions_done, stopped.value.sessions, stopped.value.segments_done) == (1, 2, first)
    assert str(stopped.value) == (f"export interrupted: 1 of 2 sessions complete in {out} ({first} segments), "
                                  "nothing half-written; the same export run again continues there")
    assert _no_leftovers(out) and not (out / "manifest.jsonl").exists()
    assert len(list(out.rglob("*.mp4"))) == first + 3
    monkeypatch.delenv(base.INTERRUPT_AFTER_ENV)
    result = export_split(dataset, "dev", out, ExportSettings("mp4", lossless=True), progress=False)
    assert result.reused == first + 3 and result.removed_partials == 0
    assert _bytes(out) == _bytes(exports["mp4-lossless"])


def test_interrupted_tar_shard_is_dropped_and_the_rerun_equals_one_run(dataset, exports, tmp_path, monkeypatch):
    """Ctrl-C while a session's part tar is open (between two of a sample's entries)."""
    from mcorec_torch.export import ExportInterrupted, ExportPlan
    from mcorec_torch.export.formats import wds

    first = len(next(iter(ExportPlan(dataset, "dev", ExportSettings("wds")).sessions.values())))
    add, calls = wds.add_entry, []

    # 3 entries a sample: the second entry of session_01's second sample
    def interrupt_in_the_second_session(tar, name, data):
        calls.append(name)
        if len(calls) == 3 * (first + 1) + 2:
            raise KeyboardInterrupt
        return add(tar, name, data)

    monkeypatch.setattr(wds, "add_entry", interrupt_in_the_second_session)
    out = tmp_path / "wds"
    with pytest.raises(ExportInterrupted):
        export_split(dataset, "dev", out, ExportSettings("wds", shard_size="7"), progress=False)
    assert _no_leftovers(out) and [p.name for p in out.rglob("*.tar")] == ["dev-session_00.tar"]
    monkeypatch.undo()
    export_split(dataset, "dev", out, ExportSettings("wds", shard_size="7"), progress=False)
    assert _files(out) == _files(exports["wds"])


def test_interrupted_merge_resumes_to_the_same_bytes(dataset, exports, tmp_path, monkeypatch):
    """Ctrl-C while the Kaldi directory is being written (every session complete)."""
    from mcorec_torch.export import ExportInterrupted
    from mcorec_torch.export.formats import kaldi

    write, calls = kaldi.atomic_write_text, []

    def interrupt_the_third(path, text):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return write(path, text)

    monkeypatch.setattr(kaldi, "atomic_write_text", interrupt_the_third)
    out = tmp_path / "kaldi"
    with pytest.raises(ExportInterrupted) as stopped:
        export_split(dataset, "dev", out, ExportSettings("kaldi"), progress=False)
    assert stopped.value.sessions_done == stopped.value.sessions == 2
    assert _no_leftovers(out) and len(list((out / "kaldi").iterdir())) == 2 and not (out / "manifest.jsonl").exists()
    monkeypatch.undo()
    export_split(dataset, "dev", out, ExportSettings("kaldi"), progress=False)
    assert _bytes(out) == _bytes(exports["kaldi"])


@pytest.mark.slow
def test_interrupted_export_with_workers_stops_them_and_resumes(dataset, exports, tmp_path, monkeypatch):
    """With ``--workers 2`` the interrupt is raised inside a worker (the hook, while an mp4 is
    under its temporary name): the pool stops, every worker removes what it had half-written,
    and the same export run again ends with the files of an uninterrupted run."""
    from mcorec_torch.export import ExportInterrupted
    from mcorec_torch.export.formats import base

    monkeypatch.setattr(base, "_WRITTEN", [0])
    monkeypatch.setenv(base.INTERRUPT_AFTER_ENV, "3")
    out = tmp_path / "pool"
    with pytest.raises(ExportInterrupted) as stopped:
        export_split(dataset, "dev", out, ExportSettings("mp4"), workers=2, progress=False)
    assert stopped.value.sessions_done == 0
    assert _no_leftovers(out)
    assert not list((out / "parts").glob("*.jsonl")) and 3 <= len(list(out.rglob("*.mp4"))) <= 6
    monkeypatch.delenv(base.INTERRUPT_AFTER_ENV)
    export_split(dataset, "dev", out, ExportSettings("mp4"), workers=2, progress=False)
    assert _files(out) == _files(exports["mp4"])
