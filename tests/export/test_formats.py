"""Export formats as objects: one registry gives the formats, the settings' and the command
line's choices; merge, read and verify dispatch through it; every file is written atomically
(a failed write leaves no temporary file) and a resumed run removes what a killed one left."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from mcorec_torch.checks import OptionError
from mcorec_torch.export import FORMATS, VIDEO_CHOICES, ExportSettings, get_format
from mcorec_torch.export.formats import REGISTRY
from mcorec_torch.export.formats.base import ExportFormat


def test_registry_keys_are_the_formats_and_name_their_classes():
    assert FORMATS == tuple(REGISTRY) == ("mp4", "wds", "lhotse", "hf", "kaldi")
    for name in FORMATS:
        fmt = get_format(name)
        assert isinstance(fmt, ExportFormat) and fmt.name == name
    assert [name for name in FORMATS if get_format(name).raw_video] == ["wds", "hf"]


def test_the_command_line_choices_come_from_the_registry():
    from mcorec_torch.cli import build_parser

    parser = build_parser()
    export = parser._subparsers._group_actions[0].choices["export"]
    choices = {action.dest: action.choices for action in export._actions if action.choices}
    assert tuple(choices["format"]) == FORMATS and tuple(choices["video"]) == VIDEO_CHOICES
    from mcorec_torch.text.normalize import NORMALIZERS

    assert tuple(choices["normalizer"]) == (*NORMALIZERS, "none")


@pytest.mark.parametrize("kwargs,option,text", [
    ({"format": "tar"}, "format", "format must be one of ('mp4', 'wds', 'lhotse', 'hf', 'kaldi'), got 'tar'"),
    ({"format": "wds", "video": "raw"}, "video", "video must be one of ('mp4', 'npy'), got 'raw'"),
    ({"format": "mp4", "video": "npy"}, "video", "'npy' is for the wds and hf formats"),
    ({"format": "wds", "shard_size": "1.5"}, "shard_size", "shard_size must be a number of samples (1000) or of "
                                                           "megabytes (100MB), got '1.5'"),
    ({"format": "wds", "shard_size": "nan"}, "shard_size", "got 'nan'"),
])
def test_settings_errors_name_the_option(kwargs, option, text):
    with pytest.raises(OptionError, match="^ExportSettings: ") as caught:
        ExportSettings(**kwargs)
    assert caught.value.option == option and caught.value.owner == "ExportSettings"
    assert text in str(caught.value)


def test_settings_accept_what_they_did():
    assert ExportSettings("wds", shard_size="100MB").shard_limit() == ("bytes", 100e6)
    assert ExportSettings("hf", video="npy").shard_limit() == ("samples", 1000)


def test_parse_shard_error_is_an_option_error():
    from mcorec_torch.export import parse_shard

    with pytest.raises(OptionError, match="--shard must be i/n with 0 <= i < n, got '2/2'"):
        parse_shard("2/2")


def test_commit_bytes_that_fails_leaves_no_temporary_file(tmp_path, monkeypatch):
    from mcorec_torch.export.formats.base import commit_bytes

    target = tmp_path / "a" / "b.txt"

    def half_then_fail(self, data):
        with open(self, "wb") as handle:
            handle.write(data[:3])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        commit_bytes(target, b"hello")
    monkeypatch.undo()
    assert list(target.parent.iterdir()) == []
    commit_bytes(target, b"hello")
    assert [p.name for p in target.parent.iterdir()] == ["b.txt"] and target.read_bytes() == b"hello"


def test_hf_join_that_fails_leaves_no_temporary_folder(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    from mcorec_torch.export.formats.hf import join_parts

    datasets.Dataset.from_dict({"audio": [{"bytes": b"x", "path": None}], "id": ["a"]}).save_to_disk(
        str(tmp_path / "src"))
    part = next((tmp_path / "src").glob("*.arrow"))
    target = tmp_path / "out" / "dataset"
    stale = target.with_name(".dataset.tmp999999999")  # a killed merge's
    stale.mkdir(parents=True)

    def half_then_fail(self, path, *args, **kwargs):
        Path(path).mkdir(parents=True)
        (Path(path) / "half.arrow").write_bytes(b"x")
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(datasets.Dataset, "save_to_disk", half_then_fail)
        with pytest.raises(OSError, match="disk full"):
            join_parts([part], target)
    assert list(target.parent.iterdir()) == []
    join_parts([part], target)
    assert [p.name for p in target.parent.iterdir()] == ["dataset"]
    assert datasets.load_from_disk(str(target))["id"] == ["a"]


def _removes_exactly(folder, mine, others):
    """Plant ``mine`` and ``others`` (paths in ``folder``); ``remove_partials`` for session_4 of
    split train removes ``mine`` (and says how many) and leaves ``others``."""
    from mcorec_torch.export.writers import remove_partials

    for name in mine + others:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")
    plan = SimpleNamespace(split="train", sessions={"session_4": [0]})
    assert remove_partials(folder, plan) == len(mine)
    assert not [name for name in mine if (folder / name).exists()]
    assert [name for name in others if (folder / name).exists()] == others


def test_remove_partials_leaves_other_sessions_with_a_longer_name(tmp_path):
    """A --shard job removes its own sessions' partial files only: session_4's names are not a
    prefix match for session_40's (nor session_4-1's)."""
    def partials(session):
        return [f"parts/wds/train-{session}.partial.tar",
                f"hf/parts/train-{session}.partial.arrow", f"parts/train-{session}-4242.partial.mp4",
                f"train/{session}/spk_1/0000000-0000050.partial.mp4"]

    mine, others = partials("session_4"), partials("session_40") + partials("session_4-1") + partials("session_4x")
    _removes_exactly(tmp_path, mine, others)


def test_remove_partials_removes_temporary_names_of_its_sessions_only(tmp_path):
    """What a killed run leaves under ``_io.temporary_name`` names (any process id) is removed
    for the run's own sessions; other sessions' (also those whose names start alike) and
    complete files stay."""
    def leftovers(session):
        return [f"parts/wds/.train-{session}.tar.tmp77", f"hf/parts/.train-{session}.arrow.tmp1",
                f"train/{session}/spk_1/.0000000-0000050.mp4.tmp4242",
                f"train/{session}/spk_1/.0000000-0000050.flac.tmp9"]

    def complete(session):
        return [f"parts/wds/train-{session}.tar", f"train/{session}/spk_1/0000000-0000050.txt",
                f"parts/train-{session}.jsonl"]

    mine = leftovers("session_4")
    others = (leftovers("session_40") + leftovers("session_4-1") + complete("session_4")
              + ["wds/.shards.txt.tmp5", "wds/.train-00004.tar.tmp6"])  # the merge's own, removed by the merge
    _removes_exactly(tmp_path, mine, others)
