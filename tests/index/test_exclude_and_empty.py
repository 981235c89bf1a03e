"""The ``exclude`` option (sessions and speakers left out, counted, typos refused) and a result of
0 segments, which is an error naming the option most likely at fault unless ``allow_empty``."""
import json

import pytest

from mcorec_torch import MCoRecDataset
from mcorec_torch.checks import OptionError
from mcorec_torch.cli import main
from mcorec_torch.config import parse_config, split_dataset_options
from mcorec_torch.config.schema import ConfigError
from mcorec_torch.index.options import DatasetOptions
from mcorec_torch.index.report import EXCLUDED, NoSegmentsError


def test_excluded_sessions_and_speakers_are_left_out_and_counted(dev_split, tmp_path):
    root, specs = dev_split
    ds = MCoRecDataset(root, crops="face", cache_dir=tmp_path, exclude=["session_01", "session_00/spk_1"])
    kept = {(ds[i]["session"], ds[i]["speaker"]) for i in range(len(ds))}
    assert kept == {("session_00", s.name) for s in specs["session_00"].speakers} - {("session_00", "spk_1")}
    report = ds.report()
    excluded = {key: counts for key, counts in report.by_speaker().items() if counts[EXCLUDED]}
    expected = {("dev", "session_01", s.name) for s in specs["session_01"].speakers} | {("dev", "session_00", "spk_1")}
    assert set(excluded) == expected and all(counts == {EXCLUDED: 1} for counts in excluded.values())
    assert report.total()[EXCLUDED] == len(expected)
    assert report.cues(report.total()) == sum(len(s.cues) for s in specs["session_00"].speakers
                                              if s.name != "spk_1")  # speakers are not cues
    assert "excluded" in report.format()


@pytest.mark.parametrize("entry, message", [
    ("sesion_00", "there is no session 'sesion_00' (did you mean 'session_00'?)"),
    ("session_00/spk_9", "session 'session_00' has no speaker 'spk_9'"),
    ("session_00/spk1", "(did you mean session_00/spk_1?)"),
])
def test_an_exclude_entry_that_names_nothing_is_an_error_naming_it(dev_split, tmp_path, entry, message):
    root, _ = dev_split
    with pytest.raises(OptionError) as err:
        MCoRecDataset(root, crops="face", cache_dir=tmp_path, exclude=["session_01", entry])
    assert err.value.option == "exclude" and repr(entry) in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("value", ["session_00", ["a/b/c"], ["session_00/"], [" session_00"], [3]])
def test_exclude_takes_a_list_of_names(value):
    with pytest.raises(OptionError) as err:
        DatasetOptions(exclude=value)
    assert err.value.option == "exclude" and str(err.value).startswith("exclude must be a list of")


def test_exclude_from_a_config_and_overrides_is_a_list():
    config = parse_config({"splits": {"train": {"roots": ["x"], "dataset": {"exclude": ["session_01/spk_0"]}}},
                           "dataset": {"exclude": ["session_00"]}}, overrides=["dataset.exclude=[s1,s2/spk_0]"])
    assert config.dataset.exclude == ("s1", "s2/spk_0")
    assert split_dataset_options(config, "train").exclude == ("session_01/spk_0",)
    assert DatasetOptions(**{"exclude": list(config.dataset.exclude)}).exclude == ("s1", "s2/spk_0")
    with pytest.raises(ConfigError, match=r"dataset\.exclude: expected a list of strings, got 'session_00'"):
        parse_config({"splits": {"train": {"roots": ["x"]}}, "dataset": {"exclude": "session_00"}})
    with pytest.raises(ConfigError, match=r"dataset\.exclude\[0\]: expected a string, got 1"):
        parse_config({"splits": {"train": {"roots": ["x"]}}, "dataset": {"exclude": [1]}})


def test_exclude_flag_is_repeatable(dev_split, tmp_path, capsys):
    root, _ = dev_split
    assert main(["index", str(root), "--crops", "face", "--cache-dir", str(tmp_path), "--exclude", "session_01",
                 "--exclude", "session_00/spk_1", "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["splits"]["dev"]["session_00"]["spk_1"] == {"excluded": 1}
    assert all(counts == {"excluded": 1} for counts in report["splits"]["dev"]["session_01"].values())
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(["index", str(root), "--exclude", "a/b/c"])
    assert stopped.value.code == 2 and "argument --exclude: exclude must be a list" in capsys.readouterr().err


def test_zero_segments_is_an_error_naming_the_option_at_fault(dev_split, tmp_path):
    root, _ = dev_split
    with pytest.raises(NoSegmentsError) as err:
        MCoRecDataset(root, crops="face", cache_dir=tmp_path, min_duration=500)  # typed in ms
    message = str(err.value)
    assert err.value.option == "min_duration" and isinstance(err.value, OptionError)
    assert message.startswith("min_duration: 0 segments from ") and "min_duration=500" in message
    assert "too_short" in message and "TOTAL" in message  # the drop table
    assert err.value.report.total()["too_short"] > 0
    assert len(MCoRecDataset(root, crops="face", cache_dir=tmp_path, min_duration=500, allow_empty=True)) == 0
    with pytest.raises(NoSegmentsError) as err:
        MCoRecDataset(root, crops="face", cache_dir=tmp_path, exclude=["session_00", "session_01"])
    assert err.value.option == "exclude" and "excluded (8 speaker(s))" in str(err.value)


def test_zero_segments_at_the_command_line_is_error_exit_2(dev_split, tmp_path, capsys):
    root, _ = dev_split
    flags = ["--crops", "face", "--cache-dir", str(tmp_path), "--min-duration", "500"]  # typed in ms
    assert main(["index", str(root), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: min_duration: 0 segments from ") and "too_short" in err and "Traceback" not in err
    assert main(["index", str(root), *flags, "--allow-empty"]) == 0
    assert "0 segments" in capsys.readouterr().out
