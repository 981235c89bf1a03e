"""Malformed input: one error type naming the file; check lists every problem (SPEC §10)."""
import json
import shutil

import pytest

from mcorec_torch import MCoRecDataError, MCoRecDataset, collate
from mcorec_torch.qa.check import check_split


@pytest.fixture
def broken_copy(dev_copy):
    return dev_copy


def session(root):
    return root / "session_00"


def test_crop_listed_but_absent(broken_copy, tmp_path):
    victim = session(broken_copy) / "speakers" / "spk_1" / "central_crops" / "track_00_lip.av.mp4"
    victim.unlink()
    with pytest.raises(MCoRecDataError) as err:
        MCoRecDataset(broken_copy, crops="lip", cache_dir=tmp_path / "c")
    assert "track_00_lip.av.mp4" in str(err.value) and "does not exist" in str(err.value)
    MCoRecDataset(broken_copy, crops="face", cache_dir=tmp_path / "c")  # face crops are all there


def test_metadata_not_the_documented_shape(broken_copy, tmp_path):
    path = session(broken_copy) / "metadata.json"
    doc = json.loads(path.read_text())
    del doc["spk_2"]["central"]["uem"]["end"]
    path.write_text(json.dumps(doc))
    with pytest.raises(MCoRecDataError) as err:
        MCoRecDataset(broken_copy, cache_dir=tmp_path / "c")
    assert err.value.key == "spk_2.central.uem.end" and str(path) in str(err.value)


def test_speaker_in_labels_unknown_to_metadata(broken_copy, tmp_path):
    labels = session(broken_copy) / "labels"
    shutil.copy(labels / "spk_0.vtt", labels / "spk_9.vtt")
    with pytest.raises(MCoRecDataError, match="spk_9.vtt.*metadata.json does not list"):
        MCoRecDataset(broken_copy, cache_dir=tmp_path / "c")


def test_vtt_that_does_not_parse_names_the_line(broken_copy, tmp_path):
    vtt = session(broken_copy) / "labels" / "spk_1.vtt"
    lines = vtt.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if "-->" in line) + 1
    lines[number - 1] = lines[number - 1].replace(".", ",", 1)
    vtt.write_text("\n".join(lines) + "\n")
    with pytest.raises(MCoRecDataError) as err:
        MCoRecDataset(broken_copy, cache_dir=tmp_path / "c")
    assert err.value.path == str(vtt) and err.value.line == number


def test_truncated_mp4_raises_naming_it(broken_copy, tmp_path):
    ds = MCoRecDataset(broken_copy, crops="face", color="gray", cache_dir=tmp_path / "c")
    victim_track = ds.index.tracks[ds.index.pieces(int(ds._rows[0]))[0][0]].path
    data = open(victim_track, "rb").read()
    with open(victim_track, "wb") as handle:
        handle.write(data[: len(data) // 3])
    with pytest.raises(MCoRecDataError) as err:
        ds[0]
    assert victim_track in str(err.value)
    # a fresh index cannot read the truncated file's header: building it names the file
    with pytest.raises(MCoRecDataError) as err:
        MCoRecDataset(broken_copy, crops="face", cache_dir=tmp_path / "c2")
    assert victim_track in str(err.value) and "truncated or corrupt" in str(err.value)


def test_on_error_skip_counts_and_collate_drops(broken_copy, tmp_path):
    ds = MCoRecDataset(broken_copy, crops="face", color="gray", cache_dir=tmp_path / "c", on_error="skip")
    row = int(ds._rows[0])
    track = ds.index.tracks[ds.index.pieces(row)[0][0]]
    users = [i for i in range(len(ds)) if any(ds.index.tracks[p[0]].path == track.path
                                               for p in ds.index.pieces(int(ds._rows[i])))]
    data = open(track.path, "rb").read()
    with open(track.path, "wb") as handle:
        handle.write(data[:2000])
    assert ds[users[0]] is None
    batch = collate([ds[users[0]], ds[len(ds) - 1] if len(ds) - 1 not in users else None])
    assert batch["num_skipped"] >= 1
    skipped = ds.report().total()["skipped"]
    assert skipped == 2


def test_check_reports_every_problem_in_one_run(broken_copy):
    s = session(broken_copy)
    (s / "speakers" / "spk_0" / "central_crops" / "track_01.mp4").unlink()
    (s / "speakers" / "spk_1" / "central_crops" / "track_00.json").write_text("{not json")
    vtt = s / "labels" / "spk_2.vtt"
    vtt.write_text(vtt.read_text() + "\n00:00:05.000 --> 00:00:04.000\nbackwards cue\n"
                   "\n00:09:00.000 --> 00:09:01.000\nbeyond the video\n")
    clusters = s / "labels" / "speaker_to_cluster.json"
    doc = json.loads(clusters.read_text())
    doc["spk_7"] = 3
    clusters.write_text(json.dumps(doc))
    lip = s / "speakers" / "spk_3" / "central_crops" / "track_00_lip.av.mp4"
    lip.write_bytes(lip.read_bytes()[:3000])
    result = check_split(broken_copy)
    text = "\n".join(str(p) for p in result.problems)
    assert "track_01.mp4: file listed in metadata.json does not exist" in text
    assert "track_00.json:1" in text and "invalid JSON" in text
    assert "cue ends at 4000 ms, not after its start 5000 ms" in text
    assert "beyond the video" in text
    assert "key 'spk_7'" in text
    assert "spk_3/central_crops/track_00_lip.av.mp4" in text
    assert len(result.problems) == 6, text
    assert result.sessions == 2 and not result.ok


def test_check_passes_a_clean_split(dev_split):
    root, _ = dev_split
    result = check_split(root)
    assert result.ok, [str(p) for p in result.problems]
    assert result.files > 50
