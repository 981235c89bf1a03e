"""``crops="lip"`` for every face track (SPEC §13): released mouth crops where they exist, the ROI
derived from the face frames where not (ego view included), frame-exact by content. Synthetic
frames are not faces, so the scripted landmark backend (same interface as dlib's) places the
ROI on the whole frame, where the frame-index code survives the crop."""
import json
import shutil

import numpy as np
import pytest
import torch

from mcorec_torch import MCoRecDataError, MCoRecDataset, synthetic
from mcorec_torch.lips import LipsExtraMissing, LandmarkStore, run_lips
from mcorec_torch.qa.verify import check_sample
from mcorec_torch.timeline import SAMPLES_PER_FRAME, ego_start_frame

from scripted_landmarks import ScriptedLandmarks


def covered(first, count, tracks):
    frames = np.arange(first, first + count)
    return np.isin(frames, np.concatenate([np.arange(t.frame_start, t.frame_stop) for t in tracks]))


def assert_frame_exact(ds, specs, view):
    """Every frame shows its frame index (central, or ego for the ego view), padding is zero and
    masked where no track covers the frame, audio is 640*T samples of the central mic."""
    problems, padded = [], 0
    for i in range(len(ds)):
        s = ds[i]
        spec = specs[s["session"]]
        spk = spec.speaker(s["speaker"])
        f0, f1 = s["frame_start"], s["frame_end"]
        first = f0 if view == "central" else ego_start_frame(f0, spk.uem_start, spk.ego.uem_start)
        tracks = spk.tracks if view == "central" else spk.ego.tracks
        assert s["video_mask"].numpy().tolist() == covered(first, f1 - f0, tracks).tolist(), s["id"]
        assert s["video"].shape[1:] == (1, 96, 96)
        padded += int((~s["video_mask"]).sum())
        reference = synthetic.central_audio(spec, f0 * SAMPLES_PER_FRAME, f1 * SAMPLES_PER_FRAME)
        problems += check_sample(s, synthetic.decode_frame_index, reference, view_start=first)
    assert problems == []
    return padded


@pytest.mark.parametrize("view,lip_source", [("central", "derived"), ("ego", "released")])
def test_derived_lip_segments_are_frame_exact_and_the_face_segments_frames(lips_split, tmp_path, view, lip_source):
    root, specs = lips_split
    backend = ScriptedLandmarks(no_face_every=7)
    ds = MCoRecDataset(root, crops="lip", view=view, color="gray", lip_source=lip_source, cache_dir=tmp_path,
                       landmark_backend=backend)
    assert {t.lip for t in ds.index.tracks} == {"derived"}
    assert all(t.path.endswith(".mp4") and not t.path.endswith("_lip.av.mp4") for t in ds.index.tracks)
    assert len(ds) == 3
    assert assert_frame_exact(ds, specs, view) > 0  # some segments cross a gap between tracks: padded
    faces = MCoRecDataset(root, crops="face", view=view, color="gray", cache_dir=tmp_path)
    assert [faces.segment_id(i) for i in range(len(faces))] == [ds.segment_id(i) for i in range(len(ds))]
    for i in range(len(ds)):
        lip, face = ds[i], faces[i]
        assert torch.equal(lip["video_mask"], face["video_mask"]) and torch.equal(lip["audio"], face["audio"])
        codes = [synthetic.decode_frame_index(f) for f, m in zip(face["video"], face["video_mask"]) if m]
        assert [synthetic.decode_frame_index(f) for f, m in zip(lip["video"], lip["video_mask"]) if m] == codes


def test_released_mouth_crops_are_preferred_and_a_crop_without_one_is_derived(lips_split, tmp_path):
    root, specs = lips_split
    copy = tmp_path / "train"
    shutil.copytree(root, copy)
    path = copy / "session_lips" / "metadata.json"
    doc = json.loads(path.read_text())
    del doc["spk_0"]["central"]["crops"][1]["lip"]
    path.write_text(json.dumps(doc))

    def sources():
        ds = MCoRecDataset(copy, crops="lip", color="gray", cache_dir=tmp_path / "c",
                           landmark_backend=ScriptedLandmarks())
        return ds, {t.path.split("speakers/")[1]: t.lip for t in ds.index.tracks}

    # not listed, but beside the face track under the layout's name: found
    _, lips = sources()
    assert lips["spk_0/central_crops/track_01_lip.av.mp4"] == "released"
    (copy / "session_lips" / "speakers" / "spk_0" / "central_crops" / "track_01_lip.av.mp4").unlink()
    ds, lips = sources()
    assert lips == {"spk_0/central_crops/track_00_lip.av.mp4": "released",
                    "spk_0/central_crops/track_01.mp4": "derived",
                    "spk_1/central_crops/track_00_lip.av.mp4": "released"}
    assert_frame_exact(ds, specs, "central")


def test_mouth_crops_written_into_a_mirror_are_read_through_lip_dir(lips_split, tmp_path):
    root, specs = lips_split
    out = tmp_path / "out"
    out.mkdir()
    before = MCoRecDataset(root, crops="lip", view="ego", color="gray", lip_dir=str(out), cache_dir=tmp_path / "c",
                           landmark_backend=ScriptedLandmarks())
    assert {t.lip for t in before.index.tracks} == {"derived"}  # an empty mirror
    run_lips(root, "ego", lip_dir=out, cache_dir=tmp_path / "c", store=LandmarkStore(None, ScriptedLandmarks()))
    # the same options: the index cached above is not reused, the mirror's files are in its key
    ds = MCoRecDataset(root, crops="lip", view="ego", color="gray", lip_dir=str(out), cache_dir=tmp_path / "c")
    assert {t.lip for t in ds.index.tracks} == {"released"}
    assert all(t.path.startswith(str(out / "train" / "session_lips")) for t in ds.index.tracks)
    assert_frame_exact(ds, specs, "ego")
    with pytest.raises(MCoRecDataError, match="lip_dir is not a folder"):
        MCoRecDataset(root, crops="lip", view="ego", lip_dir=str(tmp_path / "typo"), cache_dir=tmp_path / "c")


def test_a_track_without_any_face_fails_to_load_or_is_skipped_and_counted(lips_split, tmp_path):
    root, _ = lips_split
    blind = ScriptedLandmarks(no_face_every=1)  # no face on any frame
    ds = MCoRecDataset(root, crops="lip", view="ego", cache_dir=tmp_path, landmark_backend=blind)
    with pytest.raises(MCoRecDataError, match=r"no face found on any of its \d+ frames \(scripted landmarks\)"):
        ds[0]
    skipping = MCoRecDataset(root, crops="lip", view="ego", cache_dir=tmp_path, landmark_backend=blind,
                             on_error="skip")
    assert [skipping[i] for i in range(len(skipping))] == [None] * 3
    assert skipping.report().total()["skipped"] == 3


def test_landmarks_are_found_once_per_track_and_cached(lips_split, tmp_path):
    root, _ = lips_split
    backend = ScriptedLandmarks()
    ds = MCoRecDataset(root, crops="lip", view="ego", cache_dir=tmp_path, landmark_backend=backend)
    for i in range(len(ds)):
        ds[i]
    frames = sum(t.num_frames for t in ds.index.tracks)
    assert backend.frames_seen == frames  # each track's frames once, however many segments read it
    assert len(list((tmp_path / "landmarks").glob("*.npz"))) == len(ds.index.tracks)
    again = ScriptedLandmarks()
    ds = MCoRecDataset(root, crops="lip", view="ego", cache_dir=tmp_path, landmark_backend=again)
    ds[0]
    assert again.frames_seen == 0  # read back from the cache


def test_the_frame_cache_gives_the_same_derived_frames(lips_split, tmp_path):
    root, _ = lips_split
    kwargs = dict(crops="lip", view="ego", color="rgb", cache_dir=tmp_path, landmark_backend=ScriptedLandmarks(7))
    plain, cached = MCoRecDataset(root, **kwargs), MCoRecDataset(root, frame_cache=True, **kwargs)
    for i in range(len(plain)):
        assert torch.equal(plain[i]["video"], cached[i]["video"])


def test_without_the_extra_a_split_that_needs_derived_rois_says_how_to_install_it(lips_split, tmp_path,
                                                                                   monkeypatch):
    root, _ = lips_split
    monkeypatch.setattr("mcorec_torch.lips.store.lips_extra_available", lambda: False)
    with pytest.raises(LipsExtraMissing, match=r"pip install 'mcorec_torch\[lips\]'"):
        MCoRecDataset(root, crops="lip", view="ego", cache_dir=tmp_path)
    MCoRecDataset(root, crops="lip", view="central", cache_dir=tmp_path)  # released crops need no landmarks
