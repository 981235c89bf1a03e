"""How every command ends (SPEC §9, ``commands/_exit.py``): ``--version``, "did you mean" for a
misspelled subcommand, flag or choice, Ctrl-C (exit 130, one line, no traceback, nothing
half-written) and a closed stdout (exit 141 without a word)."""
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from mcorec_torch.cli import main
from mcorec_torch.commands._exit import (DEFAULT_INTERRUPTED_NOTE, EXIT_BROKEN_PIPE, EXIT_INTERRUPTED,
                                         exit_code_of)


def usage_error(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err


def test_version_is_the_installed_packages(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"mcorec-torch {version('mcorec_torch')}\n"


def test_a_misspelled_subcommand_names_the_closest(capsys):
    err = usage_error(capsys, ["indx", "data"])
    assert "invalid choice: 'indx'" in err and err.rstrip().endswith("(did you mean index?)")
    assert "did you mean export-merge" in usage_error(capsys, ["export_merge", "out"])


def test_a_misspelled_flag_names_the_subcommands_closest_flags(capsys):
    err = usage_error(capsys, ["index", "data", "--colour", "gray", "--rebuilt"])
    assert err.splitlines()[0].startswith("usage: mcorec-torch index")  # the subcommand's usage
    assert err.rstrip().endswith("mcorec-torch index: error: unrecognized arguments: --colour gray --rebuilt; "
                                 "--colour: did you mean --color?; --rebuilt: did you mean --rebuild?")
    assert "--rebuld: did you mean --rebuild?" in usage_error(capsys, ["index", "data", "--rebuld=1"])
    assert "did you mean" not in usage_error(capsys, ["index", "data", "--zzzzzz"])


def test_a_misspelled_choice_names_the_closest(capsys):
    err = usage_error(capsys, ["export", "a", "b", "--format", "mpp"])
    assert "argument --format: invalid choice: 'mpp'" in err and err.rstrip().endswith("(did you mean mp4?)")


def test_ctrl_c_is_one_line_and_exit_130(capsys):
    def interrupted_run():
        raise KeyboardInterrupt

    assert exit_code_of(interrupted_run, interrupted=lambda: "3 of 5 kept; run it again") == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "interrupted: 3 of 5 kept; run it again\n"

    def broken_note():
        raise OSError("cannot say")

    assert exit_code_of(interrupted_run, interrupted=broken_note) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == f"interrupted: {DEFAULT_INTERRUPTED_NOTE}\n"

    def handled_interrupt():  # code that handled Ctrl-C raises it again with its own line
        raise KeyboardInterrupt("export interrupted: 1 of 2 sessions complete in out\n(4 segments)")

    assert exit_code_of(handled_interrupt, interrupted=lambda: "not this") == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "export interrupted: 1 of 2 sessions complete in out (4 segments)\n"


def test_a_broken_pipe_that_is_not_stdout_is_not_silenced():
    def pipe_to_a_child_broke():
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):  # pytest's stdout is open: the error is about another pipe
        exit_code_of(pipe_to_a_child_broke)


def program():
    script = Path(sys.executable).with_name("mcorec-torch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mcorec_torch.cli"]


@pytest.mark.parametrize("arguments, status", [
    (["check", "{split}", "--no-decode", "--json", "-"], EXIT_BROKEN_PIPE),
    (["check", "{split}", "--no-decode"], EXIT_BROKEN_PIPE),
    (["index", "{split}", "--cache-dir", "{cache}"], EXIT_BROKEN_PIPE),
    (["index", "--help"], 0),  # argparse itself ignores a failed write of its help
    (["--version"], 0),
], ids=lambda value: " ".join(value) if isinstance(value, list) else str(value))
def test_a_closed_stdout_ends_quietly(dev_split, tmp_path, arguments, status):
    """``mcorec-torch ... | head``: the reader closes the pipe before the command writes."""
    root, _ = dev_split
    argv = [a.format(split=root, cache=tmp_path) for a in arguments]
    child = subprocess.Popen([*program(), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child.stdout.close()  # before the interpreter has even started: every write of it fails
    err = child.stderr.read()
    assert child.wait(timeout=300) == status, err
    assert err == ""


def _sigint_as_in_a_terminal():
    """In the child before it starts: SIGINT back to its default action. A test run started in
    the background of a non-interactive shell (``cmd &``, some CI runners) inherits SIGINT
    ignored, and Python then never turns it into ``KeyboardInterrupt``."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(argv, ready, cwd, env=None, timeout=300):
    """Run ``mcorec-torch argv`` in ``cwd`` as Ctrl-C finds it in a terminal (its own process
    group, which SIGINT reaches whole, DataLoader and pool workers included), wait until
    ``ready()``, send SIGINT, and return ``(exit status, stdout, stderr)``."""
    env = dict(env or os.environ, PYTHONUNBUFFERED="1")
    with open(cwd / "stdout.txt", "w") as out, open(cwd / "stderr.txt", "w") as err:
        child = subprocess.Popen([*program(), *argv], cwd=cwd, stdout=out, stderr=err, env=env,
                                 start_new_session=True, preexec_fn=_sigint_as_in_a_terminal)
        deadline = time.monotonic() + timeout
        while not ready():
            assert child.poll() is None, (cwd / "stdout.txt").read_text() + (cwd / "stderr.txt").read_text()
            assert time.monotonic() < deadline, "the command never got to the point to interrupt"
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGINT)
        code = child.wait(timeout=120)
    return code, (cwd / "stdout.txt").read_text(), (cwd / "stderr.txt").read_text()


def assert_one_interrupted_line(code, err):
    """Exit 130, no traceback, and one line about the interruption, the last on stderr (log
    lines of the command may come before it); returns that line."""
    assert code == EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Exception ignored" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert [line for line in lines if "interrupted" in line] == lines[-1:], err
    return lines[-1]


@pytest.mark.slow  # the demo writing a split
def test_ctrl_c_while_the_demo_writes_keeps_nothing_half_written(tmp_path):
    out = tmp_path / "out"
    code, _, err = interrupt(["demo", "--out", str(out)], lambda: any(out.glob(".dev.tmp*")), tmp_path)
    line = assert_one_interrupted_line(code, err)
    assert line == "interrupted: out/dev was not completed, nothing of it is kept; run the same command again to write it"
    assert sorted(p.name for p in out.iterdir()) == []  # neither the split nor its temporary


@pytest.mark.slow  # the demo loading with DataLoader workers
def test_ctrl_c_while_the_demo_loads_keeps_the_split_and_says_so(demo_run):
    stdout = demo_run.workdir / "stdout.txt"
    code, _, err = interrupt(["demo"], lambda: stdout.exists() and "batch 0:" in stdout.read_text(),
                             demo_run.workdir, demo_run.env)
    line = assert_one_interrupted_line(code, err)
    assert line == ("interrupted: the synthetic split data-bin/demo/dev is complete and kept; "
                    "run the same command again to reuse it")
    assert list(demo_run.tmpdir.iterdir()) == []


@pytest.mark.slow  # decodes tracks in pool workers
def test_ctrl_c_while_pool_workers_build_the_frame_cache_is_one_line(dev_split, tmp_path):
    root, _ = dev_split
    frames = tmp_path / "cache" / "frames"
    code, _, err = interrupt(["cache", str(root), "--cache-dir", str(tmp_path / "cache"), "--workers", "2"],
                             lambda: frames.is_dir() and any(p.is_file() for p in frames.rglob("*")), tmp_path)
    assert assert_one_interrupted_line(code, err) == ("interrupted: every track built so far is kept whole in the "
                                                      "frame cache; the same command again builds the rest")
    assert not [p for p in frames.rglob("*") if ".tmp" in p.name], "a temporary file was left"


@pytest.mark.slow  # exports a split with pool workers, twice
def test_ctrl_c_during_export_keeps_whole_sessions_and_the_same_command_finishes(dev_split, tmp_path):
    root, _ = dev_split
    out = tmp_path / "out"
    argv = ["export", str(root), str(out), "--format", "mp4", "--workers", "2", "--cache-dir", str(tmp_path / "c")]
    code, _, err = interrupt(argv, lambda: any(out.rglob("*.mp4")), tmp_path)
    line = assert_one_interrupted_line(code, err)  # the export's own line: how many sessions are complete
    assert line.startswith("export interrupted: ") and "the same export run again continues" in line
    assert not [p for p in out.rglob("*") if ".tmp" in p.name], "a temporary file was left"
    again = subprocess.run([*program(), *argv], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "complete from an earlier run" in again.stdout


def test_the_module_version_is_the_installed_packages():
    """``mcorec_torch.__version__`` was a second, hand-kept copy of pyproject.toml's version."""
    import mcorec_torch
    from importlib.metadata import version

    assert mcorec_torch.__version__ == version("mcorec_torch")
