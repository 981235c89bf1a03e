"""One audio-source decision (``SegmentReader.audio_plan``) for the reader and the Kaldi export:
the cut a Kaldi record names, taken from the file it names, is the dataset's audio; without a
central video the export refuses, as the reader falls back to the crops."""
import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.export import ExportSettings, export_split, read_manifest
from mcorec_torch.media.audio import slice_padded
from mcorec_torch.timeline import SAMPLE_RATE


@pytest.fixture(scope="module")
def train(tmp_path_factory):
    root = tmp_path_factory.mktemp("kaldi") / "train"
    synthetic.make_split(root, "train", num_sessions=1, seed=7, num_frames=400)
    return root


@pytest.mark.parametrize("audio,kind", [("central", "central"), ("ego", "ego")])
def test_kaldi_cut_of_the_named_recording_is_the_dataset_audio(train, tmp_path, audio, kind):
    dataset = MCoRecDataset(train, cache_dir=tmp_path / "cache", color="gray", audio=audio)
    export_split(dataset, "train", tmp_path / "out", ExportSettings("kaldi"), progress=False)
    by_id = {dataset.segment_id(i): i for i in range(len(dataset))}
    records = read_manifest(tmp_path / "out")
    assert len(records) == len(dataset) > 0
    for record in records[::3]:
        i = by_id[record["id"]]
        source = dataset.reader.audio_plan(dataset.index_row(i))
        paths = record["paths"]
        assert source.kind == kind and paths["recording"] == source.path
        assert paths["recording_id"].endswith("-ego") == (kind == "ego")
        signal = dataset.reader.pool.audio(source.path, source.samples)
        cut = slice_padded(signal, round(paths["begin"] * SAMPLE_RATE), round(paths["end"] * SAMPLE_RATE))
        assert np.array_equal(cut, dataset.load_audio(i).numpy())


def test_without_central_video_the_reader_uses_the_crops_and_kaldi_refuses(tmp_path):
    root = tmp_path / "dev"
    synthetic.make_split(root, "dev", num_sessions=1, seed=3, num_frames=400, central_video=False)
    dataset = MCoRecDataset(root, cache_dir=tmp_path / "cache", color="gray")
    source = dataset.reader.audio_plan(dataset.index_row(0))
    speaker = int(dataset.index.speaker[dataset.index_row(0)])
    assert source.kind == "crops" and source.path == "" and source.tracks
    assert dataset.index.tracks[source.tracks[0]].owner == speaker  # the speaker's own crop first
    assert dataset.load_audio(0).abs().max() > 0
    with pytest.raises(MCoRecDataError, match="central_video.mp4: missing: a kaldi export cuts the audio"):
        export_split(dataset, "dev", tmp_path / "out", ExportSettings("kaldi"), progress=False)
