"""`check`'s two classes (SPEC §10): a *problem* makes the library refuse, skip, lose or
misplace data, or contradicts the format; a *note* is loadable but unusual. Each finding is
planted alone in a copy of the synthetic dev split (one session, for speed), and its class
and the exit status are asserted (notes only: exit 0; any problem: exit 1). The class of each
kind is declared once (``qa/check/findings.py``) and the guide lists them all."""
import json
import re
import shutil
from pathlib import Path

import pytest

from mcorec_torch.cli import main
from mcorec_torch.qa.check import findings
from mcorec_torch.qa.check.result import NOTE, PROBLEM
from planted import crops, encode, video_only

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHECK_SOURCES = Path(findings.__file__).parent


@pytest.fixture
def session(dev_copy):
    """session_00 of a copy of the dev split that holds only it."""
    shutil.rmtree(dev_copy / "session_01")
    return dev_copy / "session_00"


def check(root, tmp_path, capsys):
    """``mcorec-torch check ROOT``: (exit status, {kind: [levels]}, printed report)."""
    report_file = tmp_path / "check.json"
    status = main(["check", str(root), "--no-decode", "--json", str(report_file), "--cache-dir", str(tmp_path / "c")])
    printed = capsys.readouterr().out
    report = json.loads(report_file.read_text())
    kinds = {}
    for found in report["by_session"].values():
        for finding in found:
            kinds.setdefault(finding["kind"], []).append(finding["level"])
    return status, kinds, printed


def edit_metadata(session, edit):
    path = session / "metadata.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def test_the_clean_copy_has_notes_only(session, tmp_path, capsys):
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert status == 0 and set(kinds) == {"audio_converted"}, printed


def test_overlapping_cues_of_one_speaker_are_a_note(session, tmp_path, capsys):
    vtt = session / "labels" / "spk_2.vtt"
    vtt.write_text(vtt.read_text() + "\n00:00:05.000 --> 00:00:06.000\nonce\n\n00:00:05.500 --> 00:00:06.500\ntwice\n")
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert kinds.get("cue_overlap") == [NOTE, NOTE], printed
    assert "note    labels/spk_2.vtt:" in printed and "each is its own segment" in printed
    assert status == 0


def test_overlapping_tracks_of_one_speaker_are_a_note(session, tmp_path, capsys):
    first, second = (json.loads((crops(session, "spk_0") / f"track_0{k}.json").read_text()) for k in (0, 1))
    shift = second["frame_start"] - (first["frame_start"] + 10)
    second.update(frame_start=second["frame_start"] - shift, frame_end=second["frame_end"] - shift)
    (crops(session, "spk_0") / "track_01.json").write_text(json.dumps(second))
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert kinds.get("tracks_overlap") == [NOTE, NOTE], printed  # the face and the lip track
    assert "track_00.mp4 serves the shared frames" in printed
    assert status == 0


def test_crop_without_audio_beside_a_central_video_with_audio_is_a_note(session, tmp_path, capsys):
    lip = crops(session, "spk_1") / "track_00_lip.av.mp4"
    video_only(lip, lip)
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert kinds.get("crop_without_audio") == [NOTE], printed
    assert "track_00_lip.av.mp4: has no audio stream; the central video's audio is read instead" in printed
    assert status == 0


def test_uem_outside_the_video_is_a_clipped_note(session, tmp_path, capsys):
    def widen(meta):
        meta["spk_0"]["central"]["uem"].update(start=-1.5, end=99.0)
    edit_metadata(session, widen)
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert kinds.get("uem_outside_video") == [NOTE], printed
    line = next(line for line in printed.splitlines() if "uem_outside" in line or "'spk_0.central.uem'" in line)
    assert re.search(r"starts at -1\.5 s, before the video and ends at 99 s, after the video \([\d.]+ s, \d+ frames\): "
                     r"clipped to the video \(cues count from 0 s to [\d.]+ s\)", line), line
    assert status == 0


def test_central_video_without_audio_is_a_note(session, tmp_path, capsys):
    video_only(session / "central_video.mp4", session / "central_video.mp4")
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert kinds.get("central_without_audio") == [NOTE], printed
    assert status == 0


def test_crop_without_audio_where_the_audio_comes_from_the_crops_is_a_problem(session, tmp_path, capsys):
    (session / "central_video.mp4").unlink()
    lip = crops(session, "spk_1") / "track_00_lip.av.mp4"
    video_only(lip, lip)
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert kinds.get("audio_missing") == [PROBLEM] and kinds.get("no_central_video") == [NOTE], printed
    assert status == 1


def test_a_crop_not_at_25_fps_stays_a_problem(session, tmp_path, capsys):
    timing = json.loads((crops(session, "spk_0") / "track_02.json").read_text())
    encode(crops(session, "spk_0") / "track_02.mp4", timing["frame_end"] - timing["frame_start"], 224, 30)
    status, kinds, printed = check(session.parent, tmp_path, capsys)
    assert kinds.get("frame_rate") == [PROBLEM], printed
    assert status == 1


def test_every_kind_is_declared_once_and_reported_by_the_code():
    names = [kind.name for kind in findings.KINDS]
    assert len(names) == len(set(names)) and all(k.level in (PROBLEM, NOTE) for k in findings.KINDS)
    declared = {name for name, value in vars(findings).items() if isinstance(value, findings.Kind)}
    assert {getattr(findings, name) for name in declared} == set(findings.KINDS)  # none left out of KINDS
    code = "\n".join(p.read_text() for p in CHECK_SOURCES.glob("*.py") if p.name != "findings.py")
    unused = [name for name in declared if not re.search(rf"\b(F\.)?{name}\b(?!\s*=)", code)]
    assert not unused, f"kinds check never reports: {unused}"


def test_the_guide_lists_every_kind_and_the_spec_every_note():
    guide = (DOCS / "checking.md").read_text()
    assert findings.markdown_table() in guide, "docs/checking.md: paste findings.markdown_table():\n" + \
        findings.markdown_table()
    spec = (DOCS / "spec.md").read_text()
    section = spec[spec.index("## §10"): spec.index("## §11")]
    for kind in findings.KINDS:
        if kind.level == NOTE:
            assert f"`{kind.name}`" in section, kind.name


def test_check_names_the_video_the_index_leaves_out_for_its_frame_rate(session, tmp_path):
    from mcorec_torch import MCoRecDataset
    from mcorec_torch.index.options import DatasetOptions
    from mcorec_torch.qa.check import check_split

    planted = crops(session, "spk_0") / "track_02.mp4"
    timing = json.loads((crops(session, "spk_0") / "track_02.json").read_text())
    encode(planted, timing["frame_end"] - timing["frame_start"], 224, 30)
    result = check_split(session.parent, decode=False, options=DatasetOptions(crops="face"))
    named = {p.path for p in result.problems if p.kind == "frame_rate"}
    left_out = {f.path for f in MCoRecDataset(session.parent, crops="face", on_error="skip",
                                              cache_dir=tmp_path).report().unusable}
    assert named == left_out == {str(planted)}
