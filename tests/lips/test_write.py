"""``mcorec-torch lips``: the written mouth crop videos are frame-exact copies of their face
tracks' timing (presented frames, timestamps, audio), cropped frame by frame, and a run killed
midway then run again writes what one uninterrupted run writes."""
import multiprocessing
import os
import signal
import time

import av
import pytest

from mcorec_torch import cli
from mcorec_torch._io import temporary_target
from mcorec_torch.lips import LandmarkStore, plan_lip_jobs, run_lips
from mcorec_torch.media.audio import decode_audio
from mcorec_torch.qa.verify import audio_lag, gain_db
from mcorec_torch.synthetic import decode_frame_index

from scripted_landmarks import ScriptedLandmarks


def frames_and_times(path):
    """Every presented frame (gray) of ``path`` and its presentation time in seconds."""
    with av.open(str(path)) as container:
        decoded = [(f.to_ndarray(format="gray"), f.time) for f in container.decode(container.streams.video[0])]
    return [f for f, _ in decoded], [t for _, t in decoded]


def scripted_store(folder, **kwargs):
    return LandmarkStore(folder, ScriptedLandmarks(no_face_every=7, **kwargs))


@pytest.fixture(scope="module")
def written(lips_split, tmp_path_factory):
    """One uninterrupted run over the ego view into a mirror folder."""
    root, _ = lips_split
    base = tmp_path_factory.mktemp("written")
    plan, outcomes, _ = run_lips(root, "ego", lip_dir=base / "out", cache_dir=base / "cache",
                                 store=scripted_store(base / "landmarks"))
    return base / "out", plan, outcomes


def test_every_ego_track_gets_a_mouth_crop_in_the_mirror(lips_split, written):
    root, _ = lips_split
    out, plan, outcomes = written
    assert plan.released == 0 and plan.refused == [] and len(outcomes) == 3
    assert [o.status for o in outcomes] == ["written"] * 3
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.mp4")) == [
        f"train/session_lips/speakers/{name}_lip.av.mp4"
        for name in ("spk_0/ego_crops/track_00", "spk_0/ego_crops/track_01", "spk_1/ego_crops/track_00")]
    assert not any(root.rglob("ego_crops/*_lip.av.mp4"))  # the data folder is left alone


def test_a_mouth_crop_has_its_face_tracks_frames_timestamps_and_audio(written):
    _, _, outcomes = written
    for outcome in outcomes:
        face_frames, face_times = frames_and_times(outcome.face)
        lip_frames, lip_times = frames_and_times(outcome.target)
        assert len(lip_frames) == len(face_frames) == outcome.frames
        assert lip_times == face_times
        assert lip_frames[0].shape == (96, 96)
        face_codes = [decode_frame_index(f) for f in face_frames]
        assert [decode_frame_index(f) for f in lip_frames] == face_codes  # ROI j from face frame j
        assert outcome.no_face == sum(code % 7 == 6 for code in face_codes) > 0
        lip_audio = decode_audio(outcome.target, outcome.frames * 640)
        face_audio = decode_audio(outcome.face, outcome.frames * 640)
        assert audio_lag(lip_audio, face_audio) == 0 and abs(gain_db(lip_audio, face_audio)) < 0.5


def test_the_central_view_leaves_released_mouth_crops_alone(lips_split):
    root, _ = lips_split
    plan = plan_lip_jobs(root, "central")
    assert plan.released == 3 and plan.jobs == [] and plan.refused == []


def _run_in_child(root, out, base):
    run_lips(root, "ego", lip_dir=out, cache_dir=base / "cache", store=scripted_store(base / "landmarks", delay=0.3))


def test_a_run_killed_midway_and_run_again_equals_an_uninterrupted_one(lips_split, written, tmp_path):
    root, _ = lips_split
    reference, _, _ = written
    out = tmp_path / "out"
    child = multiprocessing.get_context("fork").Process(target=_run_in_child, args=(root, out, tmp_path))
    child.start()
    deadline = time.monotonic() + 120
    while not any(out.rglob("*_lip.av.mp4")) and child.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    done = sorted(out.rglob("*_lip.av.mp4"))
    assert 1 <= len(done) < 3, "the run was not killed midway"
    plan, outcomes, _ = run_lips(root, "ego", lip_dir=out, cache_dir=tmp_path / "cache",
                                 store=scripted_store(tmp_path / "landmarks"))
    assert sorted(o.status for o in outcomes) == sorted(["kept"] * len(done) + ["written"] * (3 - len(done)))
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file())
    assert not [p for p in out.rglob("*") if temporary_target(p.name)]
    for relative in files:
        assert (out / relative).read_bytes() == (reference / relative).read_bytes(), relative
    _, again, _ = run_lips(root, "ego", lip_dir=out, cache_dir=tmp_path / "cache",
                           store=scripted_store(tmp_path / "landmarks"))
    assert [o.status for o in again] == ["kept"] * 3


def test_without_the_extra_the_command_says_how_to_install_it(lips_split, tmp_path, monkeypatch, capsys):
    root, _ = lips_split
    monkeypatch.setattr("mcorec_torch.lips.store.lips_extra_available", lambda: False)
    status = cli.main(["lips", str(root), "--view", "ego", "--out", str(tmp_path / "out"),
                       "--cache-dir", str(tmp_path / "cache")])
    assert status == 2
    err = capsys.readouterr().err
    assert "error: 3 face track(s) need mouth ROIs" in err and "pip install 'mcorec_torch[lips]'" in err
    assert not (tmp_path / "out").exists()
    # a command that builds a dataset of derived tracks: the same one line, exit 2, no traceback
    status = cli.main(["index", str(root), "--view", "ego", "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: 3 face track(s) need mouth ROIs") and "Traceback" not in err
