"""`mcorec-torch demo` (SPEC §9): where it writes, reusing what it wrote, nothing left in the
temporary folder, and the commands it suggests next."""
import argparse
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from mcorec_torch.commands import demo
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.index.options import DatasetOptions


def files_and_times(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow  # the demo: a subprocess writing, indexing and loading a split
def test_the_demo_writes_data_bin_demo_here_and_nothing_into_tmp(demo_run):
    workdir, tmpdir, result = demo_run.workdir, demo_run.tmpdir, demo_run.result
    split = workdir / "data-bin" / "demo" / "dev"
    assert "wrote 2 synthetic sessions to data-bin/demo/dev in" in result.stdout
    assert sorted(p.name for p in split.iterdir()) == ["session_00", "session_01"]
    assert (workdir / "data-bin" / "demo" / "dev.demo.json").is_file()
    assert (workdir / "data-bin" / "demo" / "dev_without_central_videos" / "session_00").is_dir()
    assert list(tmpdir.iterdir()) == []
    assert "verified:" in result.stdout and "TOTAL" in result.stdout and "batch 0: video (4," in result.stdout
    assert "an open-GOP track" in result.stdout and "no central_video.mp4" in result.stdout


@pytest.mark.slow
def test_the_demo_ends_with_three_commands_that_work_on_its_folder(demo_run):
    workdir, tmpdir, env = demo_run.workdir, demo_run.tmpdir, demo_run.env
    lines = demo_run.result.stdout.rstrip("\n").splitlines()
    assert lines[-4].endswith("Next, try:")
    commands = [line.split("#")[0].strip() for line in lines[-3:]]
    assert [shlex.split(c)[:2] for c in commands] == [["mcorec-torch", "check"], ["mcorec-torch", "index"],
                                                      ["mcorec-torch", "export"]]
    for command in commands:
        assert "data-bin/demo/dev" in command
        run = subprocess.run(command, shell=True, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
    assert (workdir / "data-bin" / "demo" / "exports" / "dev-mp4" / "manifest.jsonl").is_file()
    assert list(tmpdir.iterdir()) == []


@pytest.mark.slow
def test_a_second_run_reuses_the_split_it_wrote(demo_run):
    workdir, tmpdir = demo_run.workdir, demo_run.tmpdir
    split = workdir / "data-bin" / "demo" / "dev"
    before = files_and_times(split)
    again = subprocess.run([*demo_run.program, "demo"], cwd=workdir, env=demo_run.env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("reusing the 2 synthetic sessions in data-bin/demo/dev")
    assert files_and_times(split) == before
    assert list(tmpdir.iterdir()) == []


@pytest.mark.slow  # writes a split
def test_a_split_that_changed_is_written_again(demo_run, tmp_path):
    workdir = demo_run.workdir
    out = tmp_path / "out"
    shutil.copytree(workdir / "data-bin" / "demo" / "dev", out / "dev")
    shutil.copy(workdir / "data-bin" / "demo" / "dev.demo.json", out / "dev.demo.json")
    specs, reused = demo.prepare_split(out, "dev", 2)
    assert reused and [s.name for s in specs] == ["session_00", "session_01"]

    left_by_a_killed_run = out / ".dev.tmp99999999-1"
    (left_by_a_killed_run / "session_00").mkdir(parents=True)
    video = out / "dev" / "session_01" / "central_video.mp4"
    size = video.stat().st_size
    with open(video, "r+b") as handle:
        handle.truncate(size // 2)
    _, reused = demo.prepare_split(out, "dev", 2)
    assert not reused and video.stat().st_size == size
    assert sorted(p.name for p in out.iterdir()) == ["dev", "dev.demo.json"]  # no temporary left

    _, reused = demo.prepare_split(out, "dev", 1)  # another number of sessions: written again
    assert not reused and sorted(p.name for p in (out / "dev").iterdir()) == ["session_00"]


def test_a_folder_the_demo_did_not_write_is_refused_not_replaced(tmp_path):
    mine = tmp_path / "dev" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("mine")
    with pytest.raises(MCoRecDataError) as info:
        demo.prepare_split(tmp_path, "dev", 1)
    assert str(info.value).startswith(f"{tmp_path / 'dev'}: exists and was not written by mcorec-torch demo")
    assert mine.read_text() == "mine"


def test_next_commands_carry_the_segment_flags_that_differ_and_paths_as_typed_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = DatasetOptions(crops="lip", color="gray", min_duration=0.1, view="ego", audio="ego",
                             max_duration=12.5, frame_cache=True)
    commands = [command for command, _ in demo.next_commands(Path("data-bin/demo"), Path("data-bin/demo/train"),
                                                             options)]
    flags = "--view ego --audio ego --max-duration 12.5 --frame-cache"
    assert commands == [f"mcorec-torch check data-bin/demo/train {flags}",
                        f"mcorec-torch index data-bin/demo/train --crops face {flags}",
                        f"mcorec-torch export data-bin/demo/train data-bin/demo/exports/train-mp4 --format mp4 {flags}"]
    elsewhere = tmp_path.parent / "other place"
    assert demo.shown(elsewhere) == shlex.quote(str(elsewhere.resolve()))


def test_the_interruption_note_says_whether_the_split_was_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(out="data-bin/demo", view="central", audio="central")
    assert demo.interrupted_note(args) == ("data-bin/demo/dev was not completed, nothing of it is kept; "
                                           "run the same command again to write it")
    (tmp_path / "data-bin" / "demo" / "dev").mkdir(parents=True)
    (tmp_path / "data-bin" / "demo" / "dev.demo.json").write_text("{}")
    assert demo.interrupted_note(args).startswith("the synthetic split data-bin/demo/dev is complete and kept")


def test_the_default_folder_is_data_bin_demo_of_the_working_directory():
    from mcorec_torch.cli import build_parser

    args = build_parser().parse_args(["demo"])
    assert args.out == os.path.join("data-bin", "demo") and args.sessions == 2


def test_the_demo_reads_face_crops_for_the_ego_view_unless_crops_are_given():
    from mcorec_torch.checks import OptionError
    from mcorec_torch.cli import build_parser

    def crops(*flags):
        return demo.demo_crops(build_parser().parse_args(["demo", *flags]))

    assert crops() == ("lip", "") and crops("--crops", "face") == ("face", "")
    assert crops("--view", "ego", "--crops", "face") == ("face", "")
    chosen, line = crops("--view", "ego")
    assert chosen == "face" and line.startswith("reading face crops (--view ego without --crops): ")
    assert "frame-index codes, not faces" in line
    with pytest.raises(OptionError, match="use --crops face, or leave --crops out"):
        crops("--view", "ego", "--crops", "lip")


def test_the_commands_after_an_ego_demo_read_its_face_crops(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = DatasetOptions(crops="face", color="gray", min_duration=0.1, view="ego")
    commands = [command for command, _ in demo.next_commands(Path("data-bin/demo"), Path("data-bin/demo/train"),
                                                             options)]
    assert commands == ["mcorec-torch check data-bin/demo/train --crops face --view ego",
                        "mcorec-torch index data-bin/demo/train --crops face --view ego",
                        "mcorec-torch export data-bin/demo/train data-bin/demo/exports/train-mp4 --format mp4 "
                        "--crops face --view ego"]


@pytest.mark.slow  # the demo: writing, indexing and loading a train split
def test_the_demo_of_the_ego_view_runs(tmp_path, capsys):
    from mcorec_torch import cli

    status = cli.main(["demo", "--view", "ego", "--out", str(tmp_path / "demo"), "--workers", "0"])
    printed = capsys.readouterr()
    assert status == 0, printed.out + printed.err
    assert "reading face crops (--view ego without --crops)" in printed.out
    assert "verified: " in printed.out and "E0..E0+T-1 (ego frames)" in printed.out
    assert "batch 0: video (4, " in printed.out and ", 1, 224, 224) torch.uint8" in printed.out
