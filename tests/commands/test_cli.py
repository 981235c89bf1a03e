"""`mcorec-torch` subcommands (SPEC §9)."""
import json
import subprocess
import sys

import pytest

from mcorec_torch.cli import main


def test_index_prints_report_and_writes_json(dev_split, tmp_path, capsys):
    root, _ = dev_split
    assert main(["index", str(root), "--crops", "face", "--cache-dir", str(tmp_path), "--json",
                 str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "TOTAL" in out and "session_01" in out and "kept" in out and "index ready in" in out
    report = json.loads((tmp_path / "r.json").read_text())
    kept = report["total"]["kept"]
    assert f"{kept} segments" in out
    assert set(report["splits"]["dev"]) == {"session_00", "session_01"}


def test_index_reports_bad_input_without_traceback(tmp_path, capsys):
    assert main(["index", str(tmp_path / "missing"), "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "split directory does not exist" in err and "Traceback" not in err


def test_check_ok_and_exit_codes(dev_split, tmp_path, capsys):
    root, _ = dev_split
    assert main(["check", str(root), "--no-decode"]) == 0
    assert "checked 2 session(s)" in capsys.readouterr().out
    (tmp_path / "session_x").mkdir()
    assert main(["check", str(tmp_path)]) == 1
    assert "metadata.json" in capsys.readouterr().out


@pytest.mark.parametrize("flag,value,message", [
    ("--min-duration", "-1", "min_duration must be >= 0 seconds, got -1.0"),
    ("--min-duration", "soon", "expected a number, got 'soon'"),
])
def test_a_bad_option_value_is_a_usage_error_without_traceback(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as stopped:
        main(["index", str(tmp_path), flag, value])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"argument {flag}: {message}" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["index", "check"])
def test_options_that_clash_are_a_bad_input_exit_without_traceback(tmp_path, capsys, command):
    code = main([command, str(tmp_path), "--segments", "asd", "--view", "ego"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: command line: segments='asd' reads the central view" in err and "Traceback" not in err


def test_the_parser_of_every_command_starts_without_torch():
    """Building the parser (every subcommand's flags and choices) imports neither torch nor
    sentencepiece, so ``check`` and ``index`` start fast."""
    code = ("import sys; from mcorec_torch.cli import build_parser; build_parser(); "
            "print('torch' in sys.modules, 'sentencepiece' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False False"


@pytest.mark.parametrize("arguments, message", [
    (["--shard", "3/2"], "shard must be i/n with 0 <= i < n"),
    (["--shard-size", "lots"], "shard_size must be"),
])
def test_export_bad_input_exits_2_like_every_command(dev_split, tmp_path, capsys, arguments, message):
    """SPEC §9: bad input at the command line is `error: <message>` and exit 2 (export said 1)."""
    root, _ = dev_split
    code = main(["export", str(root), str(tmp_path / "out"), "--format", "mp4", "--cache-dir", str(tmp_path),
                 *arguments])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
