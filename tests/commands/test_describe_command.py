"""``mcorec-torch describe`` (SPEC §9): the figures of ``MCoRecDataset.describe()``, as tables or JSON."""
import json

import pytest

from mcorec_torch import MCoRecDataset
from mcorec_torch.cli import COMMANDS, main


def test_describe_prints_the_datasets_figures(dev_split, tmp_path, capsys):
    root, _ = dev_split
    assert "describe" in COMMANDS
    assert main(["describe", str(root), "--min-duration", "1", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    expected = MCoRecDataset(root, min_duration=1.0, cache_dir=tmp_path).describe()
    assert out == f"{expected}\n"
    assert f"{expected.segments} segments" in out and "session_01/spk_" in out and "overlap" in out


def test_describe_json_is_the_description_as_a_dict(dev_split, tmp_path, capsys):
    root, _ = dev_split
    assert main(["describe", str(root), "--json", "--crops", "face", "--cache-dir", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = MCoRecDataset(root, crops="face", cache_dir=tmp_path).describe().to_dict()
    assert printed == json.loads(json.dumps(expected))
    assert printed["segments"] > 0 and len(printed["per_session"]) == 2


def test_describe_bad_input_is_exit_2_without_traceback(dev_split, tmp_path, capsys):
    assert main(["describe", str(tmp_path / "missing"), "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "split directory does not exist" in err and "Traceback" not in err
    root, _ = dev_split
    assert main(["describe", str(root), "--min-duration", "500", "--cache-dir", str(tmp_path)]) == 2
    assert "error: min_duration: 0 segments" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["describe", str(root), "--min-duration", "soon"])
    assert stopped.value.code == 2
