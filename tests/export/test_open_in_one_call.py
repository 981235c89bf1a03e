"""Exports that open in one call (issue 25): ``datasets.load_from_disk(OUT)[0]`` decodes in the
library's own install (no torchcodec), and WebDataset shards mix the sessions in a seeded
order, deterministic and resumable, every segment exactly once."""
import json
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.export import ExportSettings, export_split, iter_wds, read_manifest, shard_paths


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix") / "dev"
    synthetic.make_split(root, "dev", num_sessions=3, seed=4, num_frames=400)
    return root


@pytest.fixture(scope="module")
def dataset(split, tmp_path_factory):
    return MCoRecDataset(split, cache_dir=tmp_path_factory.mktemp("mixcache"), color="gray")


def _npy(shard_size="5", seed=0):
    """Lossless raw frames: every byte of a shard is deterministic."""
    return ExportSettings("wds", video="npy", lossless=True, shard_size=shard_size, seed=seed)


@pytest.fixture(scope="module")
def mixed(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("wds") / "seed0"
    export_split(dataset, "dev", out, _npy(), progress=False)
    return out


def _bytes(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _shard_keys(out):
    """``[[key, ...] per shard]`` in shard order, as a plain tarfile reads them."""
    keys = []
    for path in shard_paths(out):
        with tarfile.open(path) as tar:
            names = [m.name for m in tar]
        keys.append(list(dict.fromkeys(name.partition(".")[0] for name in names)))
    return keys


# ---- WebDataset shards that mix sessions ------------------------------------------------------


def test_shards_hold_several_sessions_and_speakers_and_every_segment_once(mixed, dataset):
    records = read_manifest(mixed)
    assert len(records) == len(dataset) and len(dataset) >= 15
    keys = _shard_keys(mixed)
    assert [len(k) for k in keys] == [5] * (len(dataset) // 5) + ([len(dataset) % 5] if len(dataset) % 5 else [])
    flat = [key for shard in keys for key in shard]
    assert sorted(flat) == sorted(dataset.segment_id(i).replace("/", "_") for i in range(len(dataset)))
    assert len(set(flat)) == len(flat)  # exactly once
    by_key = {r["paths"]["key"]: r for r in records}
    for number, (path, shard) in enumerate(zip(shard_paths(mixed), keys)):
        assert path.name == f"dev-{number:05d}.tar"
        assert all(by_key[k]["paths"]["shard"] == f"wds/{path.name}" for k in shard)
    sessions = [{by_key[k]["session"] for k in shard} for shard in keys]
    speakers = [{(by_key[k]["session"], by_key[k]["speaker"]) for k in shard} for shard in keys]
    full = [k for k, shard in enumerate(keys) if len(shard) == 5]
    assert sum(len(sessions[k]) >= 2 for k in full) >= len(full) - 1  # one shard of one session may happen by chance
    assert max(len(s) for s in sessions) == 3 and all(len(speakers[k]) >= 3 for k in full)
    # not the file order: the permutation of numpy.random.default_rng(0)
    file_order = [r["paths"]["key"] for r in records]
    assert flat == [file_order[p] for p in np.random.default_rng(0).permutation(len(records))]
    # the part tars are gone once the shards are written
    assert not list((mixed / "parts").glob("wds/*"))


def test_mixed_shards_read_back_as_the_dataset(mixed, dataset):
    by_id = {dataset.segment_id(i): i for i in range(len(dataset))}
    samples = list(iter_wds(shard_paths(mixed), "gray"))
    assert len(samples) == len(dataset)
    for sample in samples[::4]:
        reference = dataset.load(by_id[sample["id"]])
        assert np.array_equal(sample["video"].numpy(), reference["video"].numpy())
        assert np.array_equal(sample["audio"].numpy(), reference["audio"].numpy())
        assert sample["text"] == reference["text"]
    from mcorec_torch.export import read_export

    wanted = read_manifest(mixed)[::-3]  # read_export keeps the records' order, whatever their shards
    assert [s["id"] for s in read_export(mixed, wanted)] == [r["id"] for r in wanted]


def test_the_same_seed_gives_the_same_bytes_another_seed_another_order(mixed, dataset, tmp_path):
    again = tmp_path / "again"
    export_split(dataset, "dev", again, _npy(), progress=False, workers=2)
    assert _bytes(again) == _bytes(mixed)
    other = tmp_path / "seed1"  # through the command line's --seed
    from mcorec_torch.cli import main

    assert main(["export", str(dataset.roots[0]), str(other), "--format", "wds", "--video", "npy", "--lossless",
                 "--shard-size", "5", "--seed", "1", "--color", "gray", "--cache-dir", str(dataset.cache_dir),
                 "--no-progress"]) == 0
    assert _shard_keys(other) != _shard_keys(mixed)
    assert sorted(k for s in _shard_keys(other) for k in s) == sorted(k for s in _shard_keys(mixed) for k in s)
    assert json.loads((other / "export.json").read_text())["settings"]["seed"] == 1


def test_shard_size_in_megabytes_counts_the_entries(dataset, mixed, tmp_path):
    """Each sample's entries (data plus a 512-byte header each) fill a shard up to the limit;
    the next sample that would pass it opens a new shard."""
    out = tmp_path / "mb"
    sizes = {}
    for path in shard_paths(mixed):
        with tarfile.open(path) as tar:
            for member in tar:
                key = member.name.partition(".")[0]
                sizes[key] = sizes.get(key, 0) + member.size + 512
    settings = _npy(shard_size=f"{3 * np.median(list(sizes.values())) / 1e6:.4f}MB")
    limit = settings.shard_limit()[1]
    export_split(dataset, "dev", out, settings, progress=False)
    keys = _shard_keys(out)
    assert [k for s in keys for k in s] == [k for s in _shard_keys(mixed) for k in s]  # the same order
    totals = [sum(sizes[k] for k in shard) for shard in keys]
    assert all(total <= limit or len(shard) == 1 for total, shard in zip(totals, keys))
    assert all(totals[k] + sizes[keys[k + 1][0]] > limit for k in range(len(keys) - 1))


def test_interrupted_session_export_resumes_to_the_same_bytes(dataset, mixed, tmp_path, monkeypatch):
    """Ctrl-C between two entries of the second session's part tar: the first session's part tar
    is kept, the second's dropped; the rerun's shards are byte-identical to one run's."""
    from mcorec_torch.export import ExportInterrupted, ExportPlan
    from mcorec_torch.export.formats import wds

    first = len(next(iter(ExportPlan(dataset, "dev", _npy()).sessions.values())))
    add, calls = wds.add_entry, []

    def interrupt(tar, name, data):
        calls.append(name)
        if len(calls) == 4 * first + 2:  # 4 entries a sample (npy, txt, wav, json)
            raise KeyboardInterrupt
        return add(tar, name, data)

    monkeypatch.setattr(wds, "add_entry", interrupt)
    out = tmp_path / "out"
    with pytest.raises(ExportInterrupted) as stopped:
        export_split(dataset, "dev", out, _npy(), progress=False)
    assert stopped.value.sessions_done == 1
    assert sorted(p.name for p in out.rglob("*.tar")) == ["dev-session_00.tar"]
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    monkeypatch.undo()
    export_split(dataset, "dev", out, _npy(), progress=False)
    assert _bytes(out) == _bytes(mixed)


def test_interrupted_mixing_keeps_complete_shards_and_resumes_to_the_same_bytes(dataset, mixed, tmp_path,
                                                                               monkeypatch):
    """Ctrl-C while the third shard is being copied from the part tars: the two complete shards
    stay, the third is dropped, the part tars are kept; the rerun writes the rest and ends with
    one run's bytes (the complete shards are not written again)."""
    from mcorec_torch.export import ExportInterrupted
    from mcorec_torch.export.formats import wds

    entries, calls = wds.TarIndex.entries, []

    def interrupt_in_the_third_shard(self, *args):
        calls.append(args)
        if len(calls) == 2 * 5 + 2:  # 5 samples a shard: the third shard's second sample
            raise KeyboardInterrupt
        return entries(self, *args)

    monkeypatch.setattr(wds.TarIndex, "entries", interrupt_in_the_third_shard)
    out = tmp_path / "out"
    with pytest.raises(ExportInterrupted) as stopped:
        export_split(dataset, "dev", out, _npy(), progress=False)
    assert stopped.value.sessions_done == stopped.value.sessions == 3
    assert sorted(p.name for p in (out / "wds").iterdir()) == ["dev-00000.tar", "dev-00001.tar"]
    assert len(list((out / "parts" / "wds").glob("*.tar"))) == 3 and not (out / "manifest.jsonl").exists()
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    monkeypatch.undo()
    kept = {name: (out / "wds" / name).stat().st_mtime_ns for name in ("dev-00000.tar", "dev-00001.tar")}
    (out / "wds" / ".dev-00002.tar.tmp999999").write_bytes(b"half a shard")  # what a killed merge leaves
    write, written = wds.write_shard, []
    monkeypatch.setattr(wds, "write_shard", lambda *args: written.append(args[1]) or write(*args))
    export_split(dataset, "dev", out, _npy(), progress=False)
    assert written[0] == "wds/dev-00002.tar" and "wds/dev-00000.tar" not in written
    assert {name: (out / "wds" / name).stat().st_mtime_ns for name in kept} == kept
    assert _bytes(out) == _bytes(mixed)


def test_a_missing_part_tar_is_named(dataset, tmp_path, monkeypatch):
    """Mixing needs every session's part tar; one deleted by hand is named, with what to do."""
    from mcorec_torch.export import merge_export

    out = tmp_path / "out"
    for i in range(3):
        export_split(dataset, "dev", out, _npy(), shard=(i, 3), progress=False)
    (out / "parts" / "wds" / "dev-session_01.tar").unlink()
    with pytest.raises(MCoRecDataError, match=r"dev-session_01\.tar: missing: wds/dev-0000\d\.tar is written from "
                                              r"it .*export into a new folder"):
        merge_export(out)


def test_a_session_whose_every_segment_is_skipped_leaves_no_part_tar(split, dataset, tmp_path, monkeypatch):
    """on_error="skip": session_01 fails throughout; the shards hold the other segments exactly
    once, skipped.jsonl lists session_01's, and no part tar is left (also not session_01's, which
    no record names)."""
    from mcorec_torch.export.formats.base import SessionWriter

    skipping = MCoRecDataset(split, cache_dir=dataset.cache_dir, color="gray", on_error="skip")
    load = SessionWriter.load

    def fail_session_01(self, i):
        if self.session == "session_01":
            raise RuntimeError("unreadable")
        return load(self, i)

    monkeypatch.setattr(SessionWriter, "load", fail_session_01)
    out = tmp_path / "out"
    result = export_split(skipping, "dev", out, _npy(), progress=False)
    others = sorted(skipping.segment_id(i) for i in range(len(skipping))
                    if not skipping.segment_id(i).startswith("session_01/"))
    assert sorted(seg for seg, _ in result.skipped) == sorted(set(map(skipping.segment_id, range(len(skipping))))
                                                              - set(others))
    assert sorted(k for shard in _shard_keys(out) for k in shard) == sorted(s.replace("/", "_") for s in others)
    assert not list(out.rglob("parts/wds/*")) and len((out / "skipped.jsonl").read_text().splitlines()) == \
        len(skipping) - len(others)


# ---- Hugging Face: the first access as a user types it -----------------------------------------

#: What a user types, in a Python where ``import torchcodec`` fails (as in the library's own
#: install: datasets decodes Audio and Video columns only through torchcodec).
FIRST_ACCESS = """
import sys
sys.modules["torchcodec"] = None  # import torchcodec raises ImportError
from datasets import load_from_disk
ds = load_from_disk(sys.argv[1])
row = ds[0]
from mcorec_torch.export import row_sample
sample = row_sample(row)
import numpy as np
np.savez(sys.argv[2], audio=np.asarray(row["audio"], dtype=np.float64), mask=np.asarray(row["video_mask"]),
         raw_video=np.asarray(row["video"], dtype=np.uint8) if not isinstance(row["video"], bytes) else np.zeros(0),
         video=sample["video"].numpy(), sample_audio=sample["audio"].numpy())
print(row["id"], type(row["audio"]).__name__, type(row["video"]).__name__, sample["video"].dtype)
"""


def _first_access(folder, tmp_path):
    done = subprocess.run([sys.executable, "-c", FIRST_ACCESS, str(folder), str(tmp_path / "row.npz")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split(), np.load(tmp_path / "row.npz")


@pytest.mark.parametrize("video", ["mp4", "npy"])
def test_hf_first_access_without_torchcodec(dataset, tmp_path, video):
    pytest.importorskip("datasets")
    out = tmp_path / "hf"
    export_split(dataset, "dev", out, ExportSettings("hf", video=video), progress=False)
    (sid, audio_type, video_type, dtype), row = _first_access(out / "hf" / "dataset", tmp_path)
    reference = dataset.load({dataset.segment_id(i): i for i in range(len(dataset))}[sid])
    assert audio_type == "list" and video_type == ("bytes" if video == "mp4" else "list") and dtype == "torch.uint8"
    # audio: float32 samples at 16 kHz, the dataset's exactly, straight from ds[0]
    assert np.array_equal(row["audio"].astype(np.float32), reference["audio"].numpy())
    assert np.array_equal(row["sample_audio"], reference["audio"].numpy())
    assert np.array_equal(row["mask"], reference["video_mask"].numpy())
    mask = reference["video_mask"].numpy()
    if video == "npy":  # frames straight from ds[0]
        assert np.array_equal(row["raw_video"], reference["video"].numpy())
    # frames by content: each shows its central frame number (lossy mp4 too)
    shown = [synthetic.decode_frame_index(row["video"][t]) for t in np.flatnonzero(mask)]
    assert shown == [reference["frame_start"] + int(t) for t in np.flatnonzero(mask)]
    assert row["video"].shape == tuple(reference["video"].shape) and not row["video"][~mask].any()


def test_hf_rows_in_the_torch_and_numpy_formats_give_the_same_sample(dataset, tmp_path):
    datasets = pytest.importorskip("datasets")
    from mcorec_torch.export import row_sample

    out = tmp_path / "hf"
    export_split(dataset, "dev", out, ExportSettings("hf", video="npy"), progress=False)
    table = datasets.load_from_disk(str(out / "hf" / "dataset"))
    assert table.features["audio"] == datasets.List(datasets.Value("float32"))
    assert "MCoRec segments exported by mcorec_torch" in table.info.description
    plain = row_sample(table[3])
    for fmt in ("numpy", "torch"):
        other = row_sample(table.with_format(fmt)[3])
        for key, value in plain.items():
            if not hasattr(value, "numpy"):  # datasets' torch format gives float64 columns as float32
                approx = fmt == "torch" and isinstance(value, float)
                assert other[key] == (pytest.approx(value, rel=1e-6) if approx else value), (fmt, key)
        for key in ("video", "video_mask", "audio"):
            assert other[key].dtype == plain[key].dtype and bool((other[key] == plain[key]).all()), (fmt, key)
