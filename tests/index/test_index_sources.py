"""What the options need from the data is checked while the index is built: one crop size
per speaker, ego recordings for view/audio "ego", where crops="lip" frames come from; numbers finite."""
import json
import shutil

import pytest

from mcorec_torch import MCoRecDataError, MCoRecDataset


@pytest.fixture
def copy(dev_copy):
    return dev_copy


def test_crop_sizes_differing_in_one_speaker_fail_at_index_time(copy, tmp_path):
    crops = copy / "session_00" / "speakers" / "spk_2" / "central_crops"
    shutil.copy(crops / "track_01_lip.av.mp4", crops / "track_01.mp4")  # 96x96 where 224x224 belongs
    with pytest.raises(MCoRecDataError) as info:
        MCoRecDataset(copy, crops="face", cache_dir=tmp_path / "c")
    assert info.value.path == str(crops / "track_01.mp4")
    assert "crop size 96x96 differs from 224x224" in str(info.value) and "track_00.mp4" in str(info.value)


@pytest.mark.parametrize("options,fragment", [
    ({"view": "ego", "crops": "face"}, "view='ego' but no speaker of this split has ego crops"),
    ({"audio": "ego"}, "audio='ego' but no speaker of this split has an ego_video.mp4"),
])
def test_ego_options_on_dev_say_ego_is_train_only(dev_split, tmp_path, options, fragment):
    root, _ = dev_split
    with pytest.raises(MCoRecDataError, match=fragment) as info:
        MCoRecDataset(root, cache_dir=tmp_path, **options)
    assert "train split only" in str(info.value)


def test_lip_crops_of_the_ego_view_are_derived_from_the_face_tracks(train_split, tmp_path):
    """Ego crops have no mouth crop video: the index reads their face tracks at the ROI's size
    and marks them derived (the reader crops them, SPEC §13; tests/lips)."""
    from mcorec_torch.index.build import build_index
    from mcorec_torch.index.options import DatasetOptions

    root, _ = train_split
    index = build_index([root], DatasetOptions(view="ego", crops="lip"), tmp_path)
    assert index.tracks and {t.lip for t in index.tracks} == {"derived"}
    assert {(t.width, t.height) for t in index.tracks} == {(96, 96)}
    assert not any(t.path.endswith("_lip.av.mp4") for t in index.tracks)
    central = build_index([root], DatasetOptions(view="central", crops="lip"), tmp_path)
    assert {t.lip for t in central.tracks} == {"released"}


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400])
def test_numbers_that_are_not_numbers_name_file_and_key(copy, tmp_path, raw):
    path = copy / "session_00" / "metadata.json"
    text = path.read_text()
    start = json.loads(text)["spk_1"]["central"]["uem"]["start"]
    doc = json.loads(text)
    doc["spk_1"]["central"]["uem"]["start"] = "@@"
    path.write_text(json.dumps(doc).replace('"@@"', raw))
    with pytest.raises(MCoRecDataError) as info:
        MCoRecDataset(copy, cache_dir=tmp_path / "c")
    assert info.value.path == str(path) and info.value.key == "spk_1.central.uem.start", (start, str(info.value))
    assert "finite number" in str(info.value) or "plausible" in str(info.value)


def test_lip_dir_takes_a_path_and_keeps_it_as_text(tmp_path):
    """A pathlib.Path (what Python users pass for a folder) is taken and kept as text, the form
    the index's cache key and export.json hold; a number is still refused naming lip_dir."""
    from mcorec_torch.index.options import DatasetOptions

    options = DatasetOptions(lip_dir=tmp_path / "lips")
    assert options.lip_dir == str(tmp_path / "lips") and isinstance(options.lip_dir, str)
    with pytest.raises(ValueError, match="lip_dir"):
        DatasetOptions(lip_dir=3)
