"""``show_segment`` and ``preview_segment``: the pictures read back pixel by pixel, on the synthetic
split whose frames carry their central frame number."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from conftest import read_png, region_colour, rgb  # noqa: E402
from mcorec_torch import synthetic  # noqa: E402
from mcorec_torch.checks import OptionError  # noqa: E402
from mcorec_torch.timeline import FPS  # noqa: E402
from mcorec_torch.viz import show_segment  # noqa: E402
from mcorec_torch.viz._figure import CUE_LINE, PADDING, PRESENT, WAVEFORM, conversation_colour  # noqa: E402
from mcorec_torch.viz.segment_data import PADDING_RGB, find_segment  # noqa: E402


def padded_segment(dataset):
    """Index of the first segment with both present and padding frames, over 30 frames long."""
    for i in range(len(dataset)):
        mask = dataset.load(i, video=False)["video_mask"].numpy()
        if mask.any() and not mask.all() and len(mask) > 30:
            return i
    raise AssertionError("the dev split has no segment with padding")


@pytest.fixture(scope="module")
def drawn(dev_dataset, tmp_path_factory):
    dataset, specs = dev_dataset
    i = padded_segment(dataset)
    path = tmp_path_factory.mktemp("show") / "segment.png"
    picture = show_segment(dataset, i, path)
    return dataset, specs, dataset.load(i), picture, read_png(path)


def test_the_tiles_show_every_kth_frame_with_its_number_and_padding_marked(drawn):
    _, _, sample, picture, image = drawn
    f0, count = sample["frame_start"], len(sample["video_mask"])
    mask = sample["video_mask"].numpy()
    assert picture.every == -(-count // 24) and picture.every > 1
    assert [t.frame for t in picture.tiles] == list(range(f0, f0 + count, picture.every))
    assert any(t.padding for t in picture.tiles) and not all(t.padding for t in picture.tiles)
    for tile in picture.tiles:
        pixels = image[tile.box.y0: tile.box.y1, tile.box.x0: tile.box.x1]
        assert pixels.shape[:2] == (120, 120)
        red = np.all(pixels == PADDING_RGB, axis=-1).mean()
        assert tile.padding == (not mask[tile.offset])
        if tile.padding:
            assert red > 0.1, tile  # the red border and cross
            with pytest.raises(ValueError):
                synthetic.decode_frame_index(pixels)
        else:
            assert red == 0.0, tile
            assert synthetic.decode_frame_index(pixels) == tile.frame


def test_the_time_panels_span_exactly_the_segment(drawn):
    _, _, sample, picture, image = drawn
    t0, t1 = sample["frame_start"] / FPS, sample["frame_end"] / FPS
    for axis in (picture.mask, picture.activity, picture.waveform, picture.spectrogram):
        assert (axis.t0, axis.t1) == (t0, t1)
        assert (axis.box.x0, axis.box.x1) == (picture.waveform.box.x0, picture.waveform.box.x1)
    box = picture.waveform.box
    panel = image[box.y0 + 2: box.y1 - 2, box.x0: box.x1]
    near = np.abs(panel.astype(int) - rgb(WAVEFORM)).max(axis=-1) <= 12  # an edge pixel blends with the frame
    columns = np.flatnonzero(near.any(axis=0)) + box.x0
    assert columns[0] <= box.x0 + 1 and columns[-1] >= box.x1 - 2  # first and last column inside the frame
    assert len(columns) >= box.width - 8  # the noise fills the whole span (but under the two cue lines)


def test_the_cue_lines_are_at_the_columns_of_the_cue_times(drawn):
    _, _, sample, picture, image = drawn
    for axis in (picture.waveform, picture.spectrogram):
        box = axis.box
        panel = image[box.y0 + 3: box.y1 - 3, box.x0: box.x1]
        columns = np.flatnonzero(np.all(panel == rgb(CUE_LINE), axis=-1).mean(axis=0) > 0.9) + box.x0
        assert len(columns) >= 2
        for seconds in (sample["start"], sample["end"]):
            assert np.min(np.abs(columns - axis.column(seconds))) <= 1, (seconds, columns)


def test_the_mask_panel_shows_each_frame(drawn):
    _, _, sample, picture, image = drawn
    axis = picture.mask
    middle = (axis.box.y0 + axis.box.y1) // 2
    for j, present in enumerate(sample["video_mask"].numpy()):
        x = axis.column((sample["frame_start"] + j + 0.5) / FPS)
        if abs(x - axis.column(sample["start"])) > 3 and abs(x - axis.column(sample["end"])) > 3:
            assert region_colour(image, x, middle, 1) == rgb(PRESENT if present else PADDING), j


def test_the_activity_rows_show_the_other_speakers_cues(drawn):
    _, specs, sample, picture, image = drawn
    spec = specs[sample["session"]]
    axis = picture.activity
    assert picture.activity_rows[0] == sample["speaker"]
    assert sorted(picture.activity_rows) == sorted(s.name for s in spec.speakers)
    row_height = axis.box.height / len(picture.activity_rows)
    seen = 0
    for k, name in enumerate(picture.activity_rows):
        speaker = spec.speaker(name)
        y = axis.box.y0 + (k + 0.5) * row_height
        for cue in speaker.cues:
            start, end = max(cue.start_ms / 1000, axis.t0), min(cue.end_ms / 1000, axis.t1)
            if axis.column(end) - axis.column(start) > 8:
                middle = axis.column((start + end) / 2)
                assert region_colour(image, middle, y, 1) == rgb(conversation_colour(speaker.conversation)), name
                seen += 1
        silent = [t for t in np.linspace(axis.t0, axis.t1, 40)[1:-1]
                  if all(not (c.start_ms / 1000 - 0.1 < t < c.end_ms / 1000 + 0.1) for c in speaker.cues)]
        for t in silent[:3]:
            if min(abs(axis.column(t) - axis.column(s)) for s in (sample["start"], sample["end"])) > 3:
                assert region_colour(image, axis.column(t), y, 1) == (255, 255, 255), (name, t)
    assert seen >= 3


def test_the_picture_is_deterministic_and_dateless(drawn, tmp_path):
    from PIL import Image

    dataset, _, sample, picture, _ = drawn
    again = show_segment(dataset, sample["id"], tmp_path / "again.png")  # by id this time
    assert again.path.read_bytes() == picture.path.read_bytes()
    with Image.open(picture.path) as png:
        assert png.size == picture.size == (1200, 1000)
        assert not any(key.lower() in ("software", "date", "creation time") for key in png.info)
    assert 0 < picture.seconds < 60


def test_an_unlabeled_chunk_of_gray_face_crops(dev_split, viz_cache, tmp_path):
    """No text (an ASD chunk, SPEC §12), 224x224 gray crops scaled down into the tiles."""
    from mcorec_torch import MCoRecDataset

    root, _ = dev_split
    dataset = MCoRecDataset(root, segments="asd", crops="face", color="gray", cache_dir=viz_cache)
    sample = dataset.load(0)
    picture = show_segment(dataset, 0, tmp_path / "chunk.png")
    image = read_png(picture.path)
    assert "text" not in sample and len(picture.tiles) <= 24
    decoded = [synthetic.decode_frame_index(image[t.box.y0: t.box.y1, t.box.x0: t.box.x1])
               for t in picture.tiles if not t.padding]
    assert decoded == [t.frame for t in picture.tiles if not t.padding] and len(decoded) >= 10


def test_a_segment_that_does_not_exist_is_an_option_error(dev_dataset):
    dataset, _ = dev_dataset
    with pytest.raises(OptionError, match=r"segment must be in \[0, "):
        find_segment(dataset, len(dataset))
    with pytest.raises(OptionError, match="session/spk_N/F0-F1"):
        find_segment(dataset, "session_00/spk_0/0000000-0000001")
    assert find_segment(dataset, dataset.segment_id(3)) == 3


def test_the_preview_mp4_holds_every_frame_with_its_number_and_the_audio(drawn, tmp_path):
    import av

    from mcorec_torch.viz.preview import preview_segment

    dataset, _, sample, _, _ = drawn
    preview = preview_segment(dataset, sample["index"], tmp_path / "preview.mp4")
    mask = sample["video_mask"].numpy()
    with av.open(str(preview.path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        audio = container.streams.audio[0]
        assert audio.sample_rate == 16000
        seconds = float(audio.duration * audio.time_base)
    assert len(frames) == preview.frames == len(mask)
    assert abs(seconds - len(mask) / FPS) < 0.1
    box = preview.crop
    for j, frame in enumerate(frames):
        crop = frame[box.y0: box.y1, box.x0: box.x1]
        if mask[j]:
            assert synthetic.decode_frame_index(crop) == sample["frame_start"] + j
        else:
            reddish = (crop[..., 0] > 150) & (crop[..., 1] < 90) & (crop[..., 2] < 90)
            assert reddish.mean() > 0.05, j


def test_importing_viz_does_not_import_matplotlib_and_a_missing_extra_is_named(monkeypatch):
    code = "import sys, mcorec_torch.viz; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    from mcorec_torch.viz._figure import require

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'mcorec_torch\[viz\]'"):
        require("matplotlib")
