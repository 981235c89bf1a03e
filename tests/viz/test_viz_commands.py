"""``mcorec-torch show`` and ``mcorec-torch timeline``: files, messages and exit statuses."""
import pytest

pytest.importorskip("matplotlib")

from conftest import read_png  # noqa: E402
from mcorec_torch import synthetic  # noqa: E402
from mcorec_torch.cli import main  # noqa: E402


def test_show_writes_the_contact_sheet_and_the_preview(dev_dataset, dev_split, viz_cache, tmp_path, capsys,
                                                       monkeypatch):
    dataset, _ = dev_dataset
    root, _ = dev_split
    monkeypatch.chdir(tmp_path)
    segment = dataset.segment_id(5)
    assert main(["show", segment, "--split", str(root), "--cache-dir", str(viz_cache), "--video"]) == 0
    out = capsys.readouterr().out
    png = tmp_path / (segment.replace("/", "_") + ".png")
    assert f"wrote {png.name}: {segment}" in out and "frame tiles" in out and "frames with audio" in out
    assert png.with_suffix(".mp4").is_file()
    image = read_png(png)
    assert image.shape == (1000, 1200, 3)
    first = dataset.load(5)
    if first["video_mask"][0]:  # the first tile is the segment's first frame, at the first tile's box
        assert synthetic.decode_frame_index(image[128:248, 50:170]) == first["frame_start"]


def test_show_by_index_with_an_out_path(dev_split, viz_cache, tmp_path, capsys):
    root, _ = dev_split
    assert main(["show", "0", "--split", str(root), "--cache-dir", str(viz_cache), "--out",
                 str(tmp_path / "sub" / "zero.png")]) == 0
    assert (tmp_path / "sub" / "zero.png").is_file() and not list(tmp_path.glob("sub/*.mp4"))
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("segment,message", [
    ("9999", "segment must be in [0, "),
    ("session_00/spk_0/0000000-0000001", "the id of one of the dataset's segments"),
])
def test_show_bad_segment_is_error_exit_2(dev_split, viz_cache, tmp_path, capsys, segment, message):
    root, _ = dev_split
    assert main(["show", segment, "--split", str(root), "--cache-dir", str(viz_cache), "--out",
                 str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_timeline_writes_the_picture_and_says_what_is_missing(dev_split, viz_cache, tmp_path, capsys, monkeypatch):
    root, _ = dev_split
    monkeypatch.chdir(tmp_path)
    assert main(["timeline", str(root / "session_01"), "--cache-dir", str(viz_cache)]) == 0
    out = capsys.readouterr().out
    assert "wrote session_01_timeline.png: 4 speakers" in out and "note: no hypotheses" in out
    assert read_png(tmp_path / "session_01_timeline.png").shape[1] == 1600


@pytest.mark.parametrize("extra,message", [
    ([], "not a session folder"),
    (["--view", "ego"], "view must be 'central'"),
    (["--hyp", "nowhere"], "hypothesis folder does not exist"),
])
def test_timeline_bad_input_is_error_exit_2(dev_split, viz_cache, tmp_path, capsys, extra, message):
    root, _ = dev_split
    session = root if not extra else root / "session_00"
    assert main(["timeline", str(session), "--cache-dir", str(viz_cache), "--out", str(tmp_path / "t.png"),
                 *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
