"""``check`` and mouth crops (SPEC §10, §13): a crop without a mouth crop video is a note (its ROI
is derived), and so is a face track whose cached landmarks found no face on most frames; no face
on any frame of a track whose ROI is derived is a problem."""
from mcorec_torch import cli
from mcorec_torch.index.options import DatasetOptions
from mcorec_torch.lips import DlibLandmarks, LandmarkStore, landmark_folder, run_lips
from mcorec_torch.qa.check import check_split

from scripted_landmarks import ScriptedLandmarks


def test_derived_tracks_whose_landmarks_found_no_face_are_problems(lips_split, tmp_path):
    root, _ = lips_split
    options = DatasetOptions(crops="lip", view="ego")
    store = LandmarkStore(tmp_path / "landmarks", ScriptedLandmarks(no_face_every=1))  # no face anywhere
    before = check_split(root, decode=False, options=options, landmarks=store, progress=False)
    assert before.ok and not [n for n in before.notes if n.kind.startswith("landmarks")]  # nothing cached yet
    assert sorted(n.message.split(": ")[1] for n in before.notes if n.kind == "lip_missing") == [
        "key 'spk_0.ego.crops[0]'", "key 'spk_0.ego.crops[1]'", "key 'spk_1.ego.crops[0]'"]
    plan, outcomes, _ = run_lips(root, "ego", cache_dir=tmp_path / "c", store=store, landmarks_only=True)
    assert [o.status for o in outcomes] == ["refused"] * 3
    assert all("no face found on any of its" in o.reason and o.readable for o in outcomes)
    after = check_split(root, decode=False, options=options, landmarks=store, progress=False)
    failed = sorted(p.message.split(": ", 1)[1] for p in after.problems if p.kind == "landmarks_no_face")
    assert failed == [f"scripted landmarks found no face on {n} of its {n} frames (100%): crops='lip' derives its "
                      f"mouth ROI, which cannot be derived, so every segment reading it fails to load (read "
                      f"crops='face', or a mouth crop video for it)" for n in (40, 60, 90)]
    assert not after.ok and not [n for n in after.notes if n.kind == "landmarks_failed"]
    faces = check_split(root, decode=False, options=DatasetOptions(crops="face", view="ego"), landmarks=store,
                        progress=False)  # nothing derives the ROI: a note
    assert faces.ok and sorted(n.message.split(": ", 1)[1] for n in faces.notes if n.kind == "landmarks_failed") == [
        f"scripted landmarks found no face on {n} of its {n} frames (100%): its mouth ROI cannot be derived"
        for n in (40, 60, 90)]


def test_landmarks_found_on_most_frames_are_not_noted(lips_split, tmp_path):
    root, _ = lips_split
    store = LandmarkStore(tmp_path / "landmarks", ScriptedLandmarks(no_face_every=2))  # every other frame
    run_lips(root, "ego", cache_dir=tmp_path / "c", store=store, landmarks_only=True)
    result = check_split(root, decode=False, options=DatasetOptions(view="ego"), landmarks=store, progress=False)
    assert [n for n in result.notes if n.kind == "landmarks_failed"] == []


class StandInForDlib(ScriptedLandmarks):
    """Cached under dlib's name: what the command reads (it computes nothing)."""

    name = DlibLandmarks.name


def test_the_check_command_reads_the_landmark_cache_of_its_cache_dir(lips_split, tmp_path, capsys):
    root, _ = lips_split
    store = LandmarkStore(landmark_folder(tmp_path), StandInForDlib(no_face_every=1))
    store.landmarks(root / "session_lips" / "speakers" / "spk_1" / "ego_crops" / "track_00.mp4")
    status = cli.main(["check", str(root), "--no-decode", "--view", "ego", "--crops", "face", "--cache-dir",
                       str(tmp_path)])
    printed = capsys.readouterr().out
    assert status == 0
    assert "found no face on 90 of its 90 frames" in printed and "spk_1/ego_crops/track_00.mp4" in printed
