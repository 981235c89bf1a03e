"""Who speaks when in the exports (issue 25): with the ``activity`` option every format with
media carries ``activity``, ``stno`` (and ``activity_scores``) and ``activity_speakers`` where
it has a place (npy entries in wds, TemporalArray custom fields in lhotse, columns in hf, side
.npy files in mp4), and reading them back gives the dataset's values exactly."""
import gzip
import json

import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.data.sample import ACTIVITY_KEYS, ACTIVITY_SPEAKERS
from mcorec_torch.export import ExportSettings, export_split, read_export, read_manifest, verify_export

FORMATS = {"mp4": ExportSettings("mp4"), "lhotse": ExportSettings("lhotse"), "wds": ExportSettings("wds"),
           "wds-npy": ExportSettings("wds", video="npy", shard_size="4"), "hf": ExportSettings("hf"),
           "hf-npy": ExportSettings("hf", video="npy")}


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = tmp_path_factory.mktemp("act") / "dev"
    synthetic.make_split(root, "dev", num_sessions=2, seed=6, num_frames=400)
    return root


@pytest.fixture(scope="module")
def dataset(split, tmp_path_factory):
    """activity="asd": all three arrays (activity, stno, activity_scores)."""
    return MCoRecDataset(split, cache_dir=tmp_path_factory.mktemp("actcache"), color="gray", activity="asd")


@pytest.fixture(scope="module")
def exports(dataset, tmp_path_factory):
    base = tmp_path_factory.mktemp("actexports")
    for name, settings in FORMATS.items():
        export_split(dataset, "dev", base / name, settings, progress=False)
    return base


def _reference(dataset):
    by_id = {dataset.segment_id(i): i for i in range(len(dataset))}
    return lambda sid: dataset.load(by_id[sid])


def _same_activity(sample, reference):
    assert reference["activity"].shape[1] >= 2 and "activity_scores" in reference
    for key in ACTIVITY_KEYS:
        assert sample[key].dtype == reference[key].dtype, key
        assert np.array_equal(sample[key].numpy(), reference[key].numpy()), key
    assert sample[ACTIVITY_SPEAKERS] == reference[ACTIVITY_SPEAKERS]


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_reads_back_the_activity_exactly(exports, dataset, name):
    records = read_manifest(exports / name)
    assert len(records) == len(dataset)
    assert all(r[ACTIVITY_SPEAKERS][0] == r["speaker"] for r in records)  # the target first
    load = _reference(dataset)
    samples = list(read_export(exports / name))
    assert [s["id"] for s in samples] == [r["id"] for r in records]
    assert any(s["activity"][:, 1:].any() for s in samples)  # others speak somewhere
    for sample in samples:
        _same_activity(sample, load(sample["id"]))
    assert verify_export(exports / name, dataset, count=6)["problems"] == []


def test_verify_finds_a_wrong_activity_file(exports, dataset, tmp_path):
    import shutil

    out = tmp_path / "mp4"
    shutil.copytree(exports / "mp4", out)
    record = read_manifest(out)[0]
    path = out / record["paths"]["activity"]
    np.save(path, ~np.load(path))
    result = verify_export(out, dataset, count=len(dataset))
    assert result["problems"] == [f"{record['id']}: activity differs from the dataset's"]


def test_mp4_side_files_and_wds_entries(exports, dataset):
    record = read_manifest(exports / "mp4")[2]
    stem = record["paths"]["video"][: -len(".mp4")]
    assert {record["paths"][key] for key in ACTIVITY_KEYS} == {f"{stem}.{key}.npy" for key in ACTIVITY_KEYS}
    reference = _reference(dataset)(record["id"])
    assert np.array_equal(np.load(exports / "mp4" / record["paths"]["stno"]), reference["stno"].numpy())
    wds = pytest.importorskip("webdataset")
    from mcorec_torch.export import shard_paths

    groups = list(wds.WebDataset([str(p) for p in shard_paths(exports / "wds-npy")], shardshuffle=False))
    assert {"activity.npy", "stno.npy", "activity_scores.npy", "npy", "json"} <= set(groups[0])
    decoded = list(wds.WebDataset([str(p) for p in shard_paths(exports / "wds-npy")], shardshuffle=False)
                   .decode())
    first = json.loads(groups[0]["json"])
    reference = _reference(dataset)(first["id"])
    assert np.array_equal(decoded[0]["activity.npy"], reference["activity"].numpy())
    assert first[ACTIVITY_SPEAKERS] == reference[ACTIVITY_SPEAKERS]


def test_lhotse_cuts_load_the_activity(exports, dataset):
    lhotse = pytest.importorskip("lhotse")
    cuts = lhotse.CutSet.from_jsonl(exports / "lhotse" / "lhotse" / "cuts.jsonl.gz")
    load = _reference(dataset)
    for cut in list(cuts)[::3]:
        reference = load(cut.id)
        assert np.array_equal(cut.load_activity(), reference["activity"].numpy())
        assert np.array_equal(cut.load_stno(), reference["stno"].numpy())
        assert np.array_equal(cut.load_activity_scores(), reference["activity_scores"].numpy())
        assert cut.custom[ACTIVITY_SPEAKERS] == reference[ACTIVITY_SPEAKERS]
    with gzip.open(exports / "lhotse" / "lhotse" / "cuts.jsonl.gz", "rt") as handle:
        custom = json.loads(handle.readline())["custom"]
    assert custom["stno"]["frame_shift"] == 0.04 and custom["stno"]["array"]["shape"][1] == 4


def test_hf_columns_hold_the_activity(exports, dataset):
    datasets = pytest.importorskip("datasets")
    table = datasets.load_from_disk(str(exports / "hf" / "hf" / "dataset"))
    assert table.features["activity"] == datasets.List(datasets.List(datasets.Value("bool")))
    assert table.features["stno"] == datasets.List(datasets.List(datasets.Value("float32")))
    row = table[1]  # python lists, as a user reads them
    reference = _reference(dataset)(row["id"])
    assert row["activity"] == reference["activity"].tolist() and row["stno"] == reference["stno"].tolist()
    assert row["activity_scores"] == reference["activity_scores"].tolist()
    assert row[ACTIVITY_SPEAKERS] == reference[ACTIVITY_SPEAKERS]


def test_labels_activity_has_no_scores_anywhere(split, dataset, tmp_path):
    """activity="labels" gives activity and stno only: no scores file, entry or column."""
    datasets = pytest.importorskip("datasets")
    labels = MCoRecDataset(split, cache_dir=dataset.cache_dir, color="gray", activity="labels")
    export_split(labels, "dev", tmp_path / "hf", ExportSettings("hf", video="npy"), progress=False)
    export_split(labels, "dev", tmp_path / "mp4", ExportSettings("mp4"), progress=False)
    table = datasets.load_from_disk(str(tmp_path / "hf" / "hf" / "dataset"))
    assert "activity" in table.features and "activity_scores" not in table.features
    assert not list((tmp_path / "mp4").rglob("*.activity_scores.npy"))
    assert len(list((tmp_path / "mp4").rglob("*.stno.npy"))) == len(labels)
    load = _reference(labels)
    for name in ("hf", "mp4"):
        for sample in read_export(tmp_path / name, read_manifest(tmp_path / name)[::4]):
            reference = load(sample["id"])
            assert "activity_scores" not in sample and "activity_scores" not in reference
            assert np.array_equal(sample["activity"].numpy(), reference["activity"].numpy())
            assert np.array_equal(sample["stno"].numpy(), reference["stno"].numpy())
