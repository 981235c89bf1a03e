"""Where derived mouth crops (SPEC §13: ``Track.lip == "derived"``, the file is the FACE video)
must not pass for mouth crop videos: the kaldi export (its ``video.scp`` points at files), the
GPU loader (it decodes track files without cropping)."""
import json

import numpy as np
import pytest
import torch

from mcorec_torch import MCoRecDataset, cli
from mcorec_torch.checks import OptionError
from mcorec_torch.export import ExportSettings, export_split, verify_export
from mcorec_torch.index.options import DatasetOptions
from mcorec_torch.lips import DlibLandmarks, LandmarkStore, landmark_folder, run_lips
from mcorec_torch.qa.check import check_split
from mcorec_torch.synthetic import decode_frame_index

from scripted_landmarks import ScriptedLandmarks


def derived_ego(root, cache_dir, **options):
    """The ego view of the lips split with crops='lip': every track derived (no mouth crop video)."""
    ds = MCoRecDataset(root, crops="lip", view="ego", color="gray", cache_dir=cache_dir,
                       landmark_backend=ScriptedLandmarks(), **options)
    assert {t.lip for t in ds.index.tracks} == {"derived"} and len(ds) == 3
    return ds


def test_kaldi_export_of_derived_lip_tracks_is_refused_before_writing(lips_split, tmp_path):
    root, _ = lips_split
    ds = derived_ego(root, tmp_path / "cache")
    out = tmp_path / "out"
    with pytest.raises(OptionError, match="mcorec-torch lips SPLIT_DIR") as err:
        export_split(ds, "train", out, ExportSettings("kaldi"), progress=False)
    message = str(err.value)
    assert err.value.option == "crops" and "crops='face'" in message
    first = next(t.path for t in ds.index.tracks if t.lip == "derived" and t.path in message)
    assert first.endswith("ego_crops/track_00.mp4") and "and 2 other face track(s)" in message
    assert not out.exists() or not list(out.rglob("*"))  # nothing written, no export.json


def test_kaldi_export_points_at_the_mouth_crops_the_lips_command_wrote(lips_split, tmp_path):
    root, _ = lips_split
    lips = tmp_path / "lips"
    run_lips(root, "ego", lip_dir=lips, cache_dir=tmp_path / "c", store=LandmarkStore(None, ScriptedLandmarks()))
    ds = MCoRecDataset(root, crops="lip", view="ego", color="gray", cache_dir=tmp_path / "cache", lip_dir=str(lips))
    assert {t.lip for t in ds.index.tracks} == {"released"}
    out = tmp_path / "out"
    export_split(ds, "train", out, ExportSettings("kaldi"), progress=False)
    videos = [line.split()[1] for line in (out / "kaldi" / "video_segments").read_text().splitlines()]
    assert len(videos) >= 3 and all(v.startswith(str(lips)) and v.endswith("_lip.av.mp4") for v in videos)
    assert verify_export(out, ds, count=3)["problems"] == []


def test_kaldi_verify_flags_an_export_pointing_at_derived_lip_tracks(lips_split, tmp_path, monkeypatch):
    from mcorec_torch.export.formats.kaldi import KaldiFormat

    root, _ = lips_split
    ds = derived_ego(root, tmp_path / "cache")
    out = tmp_path / "out"
    monkeypatch.setattr(KaldiFormat, "check_plan", lambda self, plan: None)  # as exported before the refusal
    export_split(ds, "train", out, ExportSettings("kaldi"), progress=False)
    monkeypatch.undo()
    problems = verify_export(out, ds, count=3)["problems"]
    assert len(problems) == 3 and all("the face video of a derived lip track" in p for p in problems)
    assert all("ego_crops/track_0" in p and "_lip.av.mp4" not in p for p in problems)


def test_the_gpu_loader_refuses_derived_lip_tracks_when_built(lips_split, tmp_path):
    from mcorec_torch.gpu import GpuBatchLoader

    root, _ = lips_split
    ds = derived_ego(root, tmp_path / "cache", lip_source="derived")
    with pytest.raises(OptionError, match="lip_source='derived'") as err:
        GpuBatchLoader(ds, batch_size=2, device="cpu")
    message = str(err.value)
    assert err.value.option == "crops" and "3 track(s)" in message and "ego_crops/track_00.mp4" in message
    assert "cut on the CPU path" in message and "mcorec-torch lips SPLIT_DIR" in message


def test_the_gpu_loader_reads_the_mouth_crops_the_lips_command_wrote(lips_split, tmp_path):
    from mcorec_torch import collate
    from mcorec_torch.gpu import GpuBatchLoader

    root, _ = lips_split
    lips = tmp_path / "lips"
    run_lips(root, "ego", lip_dir=lips, cache_dir=tmp_path / "c", store=LandmarkStore(None, ScriptedLandmarks()))
    ds = MCoRecDataset(root, crops="lip", view="ego", color="gray", cache_dir=tmp_path / "cache", lip_dir=str(lips))
    with GpuBatchLoader(ds, batch_size=3, device="cpu", threads=1) as loader:
        (batch,) = list(loader)
    want = collate([ds[i] for i in range(3)])
    assert batch["video"].shape == want["video"].shape and batch["video"].shape[2:] == (1, 96, 96)
    assert torch.equal(batch["video"], want["video"]) and torch.equal(batch["video_mask"], want["video_mask"])


class StandInForDlib(ScriptedLandmarks):
    """Cached under dlib's name: what the check command reads (it computes nothing)."""

    name = DlibLandmarks.name


class FaceOnEveryFourthFrame(StandInForDlib):
    """A face on frames whose code is a multiple of 4 only: no face on 75% of the frames."""

    def detect(self, frames):
        points, _ = super().detect(frames)
        codes = np.array([decode_frame_index(f, strict=False) for f in frames])
        return points, codes % 4 == 0


def plant_landmarks(cache_dir, backend, face_track):
    """Cache ``backend``'s landmarks of ``face_track`` where ``--cache-dir cache_dir`` reads them."""
    return LandmarkStore(landmark_folder(cache_dir), backend).landmarks(face_track)


def check_cli(root, cache_dir, capsys, *flags):
    status = cli.main(["check", str(root), "--no-decode", "--view", "ego", "--json", "-", "--cache-dir",
                       str(cache_dir), *flags])
    report = json.loads(capsys.readouterr().out)
    found = [f for findings in report["by_session"].values() for f in findings]
    return status, {(f["kind"], f["level"]) for f in found if f["kind"].startswith("landmarks")}


def test_check_a_derived_track_without_a_face_on_any_frame_is_a_problem(lips_split, tmp_path, capsys):
    root, _ = lips_split
    track = root / "session_lips" / "speakers" / "spk_1" / "ego_crops" / "track_00.mp4"
    assert plant_landmarks(tmp_path, StandInForDlib(no_face_every=1), track).missing == 90
    assert check_cli(root, tmp_path, capsys, "--crops", "lip") == (1, {("landmarks_no_face", "problem")})
    assert check_cli(root, tmp_path, capsys, "--crops", "face") == (0, {("landmarks_failed", "note")})


def test_check_a_derived_track_with_a_face_on_few_frames_is_a_note(lips_split, tmp_path, capsys):
    root, _ = lips_split
    track = root / "session_lips" / "speakers" / "spk_1" / "ego_crops" / "track_00.mp4"
    assert plant_landmarks(tmp_path, FaceOnEveryFourthFrame(), track).missing_share > 0.7
    assert check_cli(root, tmp_path, capsys, "--crops", "lip") == (0, {("landmarks_failed", "note")})
    ds = MCoRecDataset(root, crops="lip", view="ego", color="gray", cache_dir=tmp_path,
                       landmark_backend=FaceOnEveryFourthFrame())
    spk_1 = [i for i in range(len(ds)) if ds[i]["speaker"] == "spk_1"]
    assert spk_1 and all(ds[i]["video_mask"].any() for i in spk_1)  # interpolated: it loads


def test_check_does_not_call_a_crop_the_lips_command_wrote_missing(lips_split, tmp_path):
    root, _ = lips_split
    lips = tmp_path / "lips"
    run_lips(root, "ego", lip_dir=lips, cache_dir=tmp_path / "c", store=LandmarkStore(None, ScriptedLandmarks()))
    kinds = [n.kind for n in check_split(root, decode=False, options=DatasetOptions(crops="lip", view="ego"),
                                         progress=False).notes]
    assert kinds.count("lip_missing") == 3
    written = check_split(root, decode=False, options=DatasetOptions(crops="lip", view="ego", lip_dir=str(lips)),
                          progress=False)
    assert [n for n in written.notes if n.kind == "lip_missing"] == [] and written.ok
