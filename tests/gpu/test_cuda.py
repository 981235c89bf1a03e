"""On a CUDA machine with NVDEC (skipped cleanly elsewhere): NVDEC gray bit-identical to the CPU
path, RGB within RGB_TOLERANCE, frame indices exact from every position on B-frame and
open-GOP tracks, and no growth of open files or GPU memory over 500 segments.
``scripts/gpu_check.sh`` runs these on the GPU machine."""
import os

import pytest
import torch
from torch.utils.data import DataLoader

from mcorec_torch import MCoRecDataset, collate
from mcorec_torch.gpu import RGB_TOLERANCE, CpuFrameDecoder, GpuBatchLoader, NvdecFrameDecoder, cuda_unavailable_reason

reason = cuda_unavailable_reason("cuda:0")
pytestmark = pytest.mark.skipif(reason is not None, reason=f"no GPU decoding here: {reason}")


def loaders(dev_split, tmp_path, crops, color, threads=4):
    root, _ = dev_split
    ds = MCoRecDataset([root], crops=crops, color=color, cache_dir=tmp_path / "cache")
    cpu = DataLoader(ds, batch_size=8, collate_fn=collate)
    return ds, cpu, GpuBatchLoader(ds, batch_size=8, device="cuda:0", threads=threads)


@pytest.mark.parametrize("crops", ["lip", "face"])
def test_nvdec_gray_is_bit_identical_to_the_cpu_path(dev_split, tmp_path, crops):
    ds, cpu, gpu = loaders(dev_split, tmp_path, crops, "gray")
    with gpu:
        for a, b in zip(gpu, cpu):
            assert a["video"].device.type == "cuda"
            assert torch.equal(a["video"].cpu(), b["video"])
        report = gpu.report()
    assert report["run_fallback"] is None and report["fallbacks"] == {}, report
    assert report["decoders"].get("NvdecFrameDecoder", 0) == report["files_opened"] > 0, report


def test_nvdec_rgb_is_within_tolerance(dev_split, tmp_path):
    ds, cpu, gpu = loaders(dev_split, tmp_path, "face", "rgb")
    worst = 0
    with gpu:
        for a, b in zip(gpu, cpu):
            worst = max(worst, int((a["video"].cpu().int() - b["video"].int()).abs().max()))
        assert gpu.report()["fallbacks"] == {}
    print(f"largest NVDEC RGB difference from the CPU path: {worst}")
    assert worst <= RGB_TOLERANCE


def test_every_read_position_on_the_crop_tracks(dev_split, tmp_path):
    """The split's tracks include B-frame and open-GOP encodings: frames read by NVDEC from
    fresh positions equal the CPU decoder's."""
    root, _ = dev_split
    tracks = MCoRecDataset([root], crops="lip", cache_dir=tmp_path / "cache").index.tracks
    for track in tracks:
        path = track.path
        cpu = CpuFrameDecoder(path)
        want = cpu.read(0, min(int(track.num_frames), 120), "gray")
        for first in range(0, want.shape[0] - 3, 7):
            gpu = NvdecFrameDecoder(path, torch.device("cuda:0"))
            try:
                assert torch.equal(gpu.read(first, 3, "gray").cpu(), want[first: first + 3]), (path, first)
            finally:
                gpu.close()
        cpu.close()


def test_no_growth_of_open_files_or_gpu_memory_over_500_segments(dev_split, tmp_path):
    root, _ = dev_split
    ds = MCoRecDataset([root], crops="lip", color="gray", cache_dir=tmp_path / "cache")
    loader = GpuBatchLoader(ds, batch_size=8, shuffle=True, device="cuda:0", threads=4, max_open=4)
    seen, marks = 0, []
    while seen < 500:
        for batch in loader:
            seen += len(batch["id"])
            if len(marks) < 2 and seen >= (100 if not marks else 500 - 8):
                torch.cuda.synchronize()
                marks.append((len(os.listdir("/proc/self/fd")), torch.cuda.memory_allocated()))
            if seen >= 500:
                break
    torch.cuda.synchronize()
    end = (len(os.listdir("/proc/self/fd")), torch.cuda.memory_allocated())
    loader.close()
    print(f"open fds / GPU bytes after 100 segments {marks[0]}, after 500 {end}")
    assert end[0] <= marks[0][0] + 2
    assert end[1] <= marks[0][1] + 64 * 2 ** 20
