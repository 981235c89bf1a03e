"""`check` on a copy of a synthetic split with planted faults (fixture ``faulty``, see
``planted.py``): every fault named in one run, grouped by session; what is loadable but
unusual is a note, not a problem (SPEC §10)."""
import json

import pytest

from mcorec_torch import MCoRecDataError, MCoRecDataset
from mcorec_torch.cli import main
from mcorec_torch.qa.check import check_split
from planted import DEEP_ONLY, NOTES, PROBLEMS


@pytest.fixture(scope="module")
def shallow(faulty):
    return check_split(faulty)


@pytest.fixture(scope="module")
def deep(faulty):
    return check_split(faulty, deep=True, progress=False)


@pytest.mark.parametrize("what,fragment,session", PROBLEMS, ids=[f[0] for f in PROBLEMS])
def test_every_planted_fault_is_named_in_one_run(shallow, deep, what, fragment, session):
    for result in (shallow, deep):
        found = [p for p in result.problems if fragment in str(p)]
        assert found, f"{what}: {fragment!r} not in\n{result.format()}"
        assert all(p.session == session for p in found)
        assert not [n for n in result.notes if fragment in str(n)]


@pytest.mark.parametrize("what,fragment,session", NOTES, ids=[f[0] for f in NOTES])
def test_every_planted_oddity_is_a_note(shallow, what, fragment, session):
    found = [n for n in shallow.notes if fragment in str(n) and n.session == session]
    assert found, f"{what}: {fragment!r} not in the notes of\n{shallow.format()}"
    assert not [p for p in shallow.problems if fragment in str(p)]


def test_mid_file_corruption_needs_deep(shallow, deep):
    what, fragment, session = DEEP_ONLY
    assert not [p for p in shallow.problems if fragment in str(p)]
    found = [p for p in deep.problems if fragment in str(p)]
    assert len(found) == 1 and "spk_3/central_crops/track_01.mp4" in found[0].path and found[0].session == session
    assert deep.frames_decoded > 5000


def test_report_groups_by_session_and_cli_exits_1(faulty, shallow, capsys, tmp_path):
    text = shallow.format()
    assert text.index("session_00:") < text.index("session_01:")
    block = text[text.index("session_00:"): text.index("session_01:")]
    assert "  problem speakers/spk_2/central_crops/track_01.mp4: crop size 96x96" in block
    assert "  note    labels/spk_2.vtt:" in block
    assert main(["check", str(faulty), "--json", str(tmp_path / "c.json")]) == 1
    assert "problem(s)" in capsys.readouterr().out
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["ok"] is False and report["problems"] == len(shallow.problems)
    assert {f["level"] for f in report["by_session"]["session_01"]} == {"problem", "note"}
    kinds = {f["kind"]: f["level"] for findings in report["by_session"].values() for f in findings}
    assert kinds["cue_overlap"] == kinds["tracks_overlap"] == "note" and kinds["frame_rate"] == "problem"
    assert main(["check", str(faulty), "--json", "-", "--no-decode"]) == 1
    assert json.loads(capsys.readouterr().out)["sessions"] == 2


def test_split_without_central_video_passes_with_a_note(dev_split_without_central, tmp_path, capsys):
    root, _ = dev_split_without_central
    assert main(["check", str(root), "--no-decode", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "note    central_video.mp4: no central video" in out and ": OK, " in out and "segments with" in out


def test_split_folder_one_level_off_is_named(dev_split, tmp_path):
    root, _ = dev_split
    for folder, fragment in ((root / "session_00", "this is a session folder"),
                             (root.parent, "this folder holds the splits dev; pass one")):
        result = check_split(folder)
        assert [str(p) for p in result.problems] == [f"{folder}: {result.problems[0].message.split(': ', 1)[1]}"]
        assert fragment in str(result.problems[0])
        with pytest.raises(MCoRecDataError, match=fragment):
            MCoRecDataset(folder, cache_dir=tmp_path)
