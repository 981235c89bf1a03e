"""Where derived mouth crops (SPEC §13: ``Track.lip == "derived"``, the file is the FACE video)
must not pass for mouth crop videos: the kaldi export (its ``video.scp`` points at files), the
GPU loader (it decodes track files without cropping)."""
import pytest
import torch

from mcorec_torch import MCoRecDataset
from mcorec_torch.checks import OptionError
from mcorec_torch.export import ExportSettings, export_split, verify_export
from mcorec_torch.lips import LandmarkStore, run_lips

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
