"""The GPU stage run with the CPU decoder behind the interface (what CI can run): the same
descriptors, assembly and transforms give the same batches as DataLoader + collate; fallbacks
are counted and said; errors name the file."""
import logging

import pytest
import torch
from torch.utils.data import DataLoader

from mcorec_torch import MCoRecDataset, collate, synthetic
from mcorec_torch.data.samplers import BucketBatchSampler
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.gpu import (FORCE_ENV, CpuFrameDecoder, GpuBatchLoader, NotOnGpu, cuda_unavailable_reason,
                              open_decoder)
from mcorec_torch.gpu.lanes import FallbackLog, Lane
from mcorec_torch.transforms import CenterCrop, Compose, HorizontalFlip

needs_no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="tests the fallback of a machine without CUDA")


def dataset(dev_split, tmp_path, **kwargs):
    root, _ = dev_split
    return MCoRecDataset([root], cache_dir=tmp_path / "cache", **kwargs)


def sampler(ds, seed=3):
    return BucketBatchSampler(ds.lengths, max_frames=400, shuffle=True, seed=seed)


def assert_same_batches(got, want):
    assert len(got) == len(want) > 0
    for a, b in zip(got, want):
        assert sorted(a) == sorted(b)
        for key in b:
            if isinstance(b[key], torch.Tensor):
                assert a[key].dtype == b[key].dtype and torch.equal(a[key].cpu(), b[key]), key
            else:
                assert a[key] == b[key], key


@pytest.mark.parametrize("crops,color,workers", [("lip", "gray", 0), ("face", "rgb", 2)])
def test_cpu_stage_gives_the_dataloaders_batches(dev_split, tmp_path, crops, color, workers):
    ds = dataset(dev_split, tmp_path, crops=crops, color=color)
    want = list(DataLoader(ds, batch_sampler=sampler(ds), collate_fn=collate))
    with GpuBatchLoader(ds, batch_sampler=sampler(ds), num_workers=workers, device="cpu", threads=3) as loader:
        got = list(loader)
        report = loader.report()
    assert_same_batches(got, want)
    assert report["run_fallback"] is None and report["fallbacks"] == {}
    assert report["segments"] == len(ds) and report["frames_decoded"] == int(sum(b["video_mask"].sum() for b in want))
    # frames are the right ones: the synthetic pixels encode the frame index on the central timeline
    batch = got[0]
    for row in range(len(batch["id"])):
        t = int(batch["video_lengths"][row])
        mask = batch["video_mask"][row, :t]
        frames = [synthetic.decode_frame_index(batch["video"][row, k].numpy()) for k in range(t) if mask[k]]
        expected = [batch["frame_start"][row] + k for k in range(t) if mask[k]]
        assert [f - frames[0] for f in frames] == [e - expected[0] for e in expected]


def test_batch_transforms_run_on_the_batch_with_the_per_sample_draws(dev_split, tmp_path):
    ds = dataset(dev_split, tmp_path, crops="lip", color="gray")
    ds.transform = Compose([CenterCrop(64), HorizontalFlip(p=0.5)], seed=5)
    want = list(DataLoader(ds, batch_sampler=sampler(ds), collate_fn=collate))
    with GpuBatchLoader(ds, batch_sampler=sampler(ds), device="cpu", threads=2) as loader:
        got = list(loader)
    assert got[0]["video"].shape[-2:] == (64, 64)
    assert_same_batches(got, want)


def test_sampler_epochs_reach_the_stage(dev_split, tmp_path):
    ds = dataset(dev_split, tmp_path)
    loader = GpuBatchLoader(ds, batch_sampler=sampler(ds), device="cpu")
    first = [b["id"] for b in loader]
    loader.batch_sampler.set_epoch(1)
    second = [b["id"] for b in loader]
    loader.close()
    assert sorted(sum(first, [])) == sorted(sum(second, [])) and first != second


@needs_no_cuda
def test_cuda_asked_without_cuda_falls_back_for_the_run_said_once(dev_split, tmp_path, caplog):
    ds = dataset(dev_split, tmp_path)
    want = list(DataLoader(ds, batch_sampler=sampler(ds), collate_fn=collate))
    with caplog.at_level(logging.WARNING, logger="mcorec_torch.gpu"):
        with GpuBatchLoader(ds, batch_sampler=sampler(ds), device="cuda") as loader:
            got = list(loader)
            report = loader.report()
    assert_same_batches(got, want)
    assert report["device"] == "cpu" and report["run_fallback"] == "torch sees no CUDA device"
    assert report["fallbacks"]["torch sees no CUDA device"] >= 1
    said = [r for r in caplog.records if "falls back to the CPU" in r.getMessage()]
    assert len(said) == 1 and "torch sees no CUDA device" in said[0].getMessage()


def test_forcing_the_cpu_by_environment(monkeypatch):
    monkeypatch.setenv(FORCE_ENV, "cpu")
    assert cuda_unavailable_reason("cuda") == f"{FORCE_ENV}=cpu"
    monkeypatch.delenv(FORCE_ENV)
    assert cuda_unavailable_reason("cpu") == "device cpu is not a CUDA device"


def test_a_file_nvdec_cannot_open_gets_the_cpu_decoder_with_the_reason(dev_split, monkeypatch):
    root, _ = dev_split
    path = sorted(root.glob("*/speakers/*/central_crops/*_lip*.mp4"))[0]
    monkeypatch.setattr("mcorec_torch.gpu.decoders.cuda_unavailable_reason", lambda device: None)
    decoder = open_decoder(path, "cuda")  # no GPU here: opening with the cuda hwaccel fails
    try:
        assert isinstance(decoder, CpuFrameDecoder)
        assert decoder.fallback_reason.startswith("NVDEC cannot open the file")
        assert synthetic.decode_frame_index(decoder.read(3, 1, "gray")[0].numpy()) >= 0
    finally:
        decoder.close()
    assert open_decoder(path, "cpu").fallback_reason is None


class _SystemMemoryDecoder(CpuFrameDecoder):
    """Stands in for an NVDEC decoder whose frames come back in system memory."""

    def read(self, *args, **kwargs):
        raise NotOnGpu("NVDEC returned a yuv420p frame in system memory")


def test_frames_in_system_memory_switch_that_file_to_the_cpu_and_are_counted(dev_split):
    root, _ = dev_split
    path = str(sorted(root.glob("*/speakers/*/central_crops/*_lip*.mp4"))[0])
    log = FallbackLog()
    lane = Lane("test", torch.device("cpu"), _SystemMemoryDecoder, log)
    video = torch.zeros(1, 10, 1, 96, 96, dtype=torch.uint8)
    from mcorec_torch.data.reader import VideoPiece

    lane.submit(video, [(0, VideoPiece(path, 5, 10, 0, 100))], "gray").result()
    lane.submit(video, [(0, VideoPiece(path, 5, 10, 0, 100))], "gray").result()  # now the CPU decoder
    lane.close()
    assert log.counts == {"NVDEC returned a yuv420p frame in system memory": 1}
    want = CpuFrameDecoder(path).read(5, 10, "gray")
    assert torch.equal(video[0], want)


def test_a_missing_track_raises_the_librarys_error_naming_it(dev_split, tmp_path):
    ds = dataset(dev_split, tmp_path)
    loader = GpuBatchLoader(ds, batch_size=4, device="cpu")
    victim = ds.reader.video_plan(ds.index_row(0)).pieces[0].path
    ds.reader.video_plan = _with_missing(ds.reader.video_plan, victim)
    with pytest.raises(MCoRecDataError, match="does not exist"):
        list(loader)
    loader.close()


def _with_missing(plan_of, victim):
    import dataclasses

    def planned(row):
        plan = plan_of(row)
        pieces = tuple(dataclasses.replace(p, path=p.path + ".missing") if p.path == victim else p for p in plan.pieces)
        return dataclasses.replace(plan, pieces=pieces)
    return planned
