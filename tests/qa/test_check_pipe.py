"""`mcorec-torch check SPLIT --json - | head -1`: the reader closes the pipe after one line and
`check` ends quietly: nothing on stderr (no traceback, no "Exception ignored"), exit status
141 (128 + SIGPIPE: what a shell reports under `set -o pipefail` for a program that a closed
pipe ended, as for `yes | head -1`; without pipefail the shell reports head's 0). When the
whole output fits in the pipe before the reader closes it, `check` ends as usual (0 or 1)."""
import fcntl
import os
import shutil
import subprocess
import sys

import pytest

from mcorec_torch.cli import main

#: The smallest pipe Linux allows: `check` blocks once it holds this much unread.
PIPE_BYTES = 4096
#: Overlapping cues planted (each a note of about 300 bytes of JSON, 150 of text): the
#: output is several times what the pipe and the reader's one read hold.
CUES = 120


def small_pipe():
    """(read end, write end) of a pipe of :data:`PIPE_BYTES` bytes."""
    read_end, write_end = os.pipe()
    try:
        fcntl.fcntl(write_end, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)  # Linux
    except OSError:
        os.close(read_end)
        os.close(write_end)
        pytest.skip("cannot set a pipe's size here (Linux F_SETPIPE_SZ)")
    return read_end, write_end


def first_line_then_close(read_end):
    """Read up to the first newline (as `head -1`), close the pipe, return what was read."""
    got = b""
    while b"\n" not in got:
        chunk = os.read(read_end, PIPE_BYTES)
        if not chunk:
            break
        got += chunk
    os.close(read_end)
    return got.split(b"\n", 1)[0]


@pytest.fixture(scope="module")
def many_notes(dev_split, tmp_path_factory):
    """A one-session copy of the dev split whose check prints :data:`CUES` notes."""
    root, _ = dev_split
    copy = tmp_path_factory.mktemp("pipe") / "dev"
    shutil.copytree(root / "session_00", copy / "session_00")
    vtt = copy / "session_00" / "labels" / "spk_0.vtt"
    starts = (10000 + 50 * k for k in range(CUES))  # ms, all before the common end at 20 s
    vtt.write_text(vtt.read_text() + "".join(f"\n00:00:{ms // 1000:02d}.{ms % 1000:03d} --> 00:00:20.000\nsame\n"
                                             for ms in starts))
    return copy


@pytest.mark.parametrize("output", [["--json", "-"], []], ids=["json", "text"])
def test_check_into_a_reader_that_closes_after_one_line_ends_quietly(many_notes, tmp_path, output):
    read_end, write_end = small_pipe()
    command = [sys.executable, "-m", "mcorec_torch.cli", "check", str(many_notes), "--no-decode", *output,
               "--cache-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    first = first_line_then_close(read_end)
    stderr = process.communicate(timeout=300)[1].decode()
    assert first == (b"{" if output else b"session_00:")
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr == ""
    assert process.returncode == 141


def test_the_planted_notes_are_what_fills_the_output(many_notes, capsys):
    assert main(["check", str(many_notes), "--no-decode", "--json", "-", "--cache-dir", str(many_notes.parent)]) == 0
    out = capsys.readouterr().out
    assert out.count('"cue_overlap"') >= CUES and len(out) > 6 * PIPE_BYTES
