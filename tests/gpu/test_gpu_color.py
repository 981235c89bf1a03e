"""SPEC §8 colour in torch (the GPU stage's conversion), pinned on CPU tensors against the CPU
path: gray bit-identical, RGB within RGB_TOLERANCE of swscale."""
import av
import numpy as np
import pytest
import torch
from av.video.reformatter import VideoReformatter

from mcorec_torch.gpu import RGB_TOLERANCE, gray_from_luma, rgb_from_nv12, rgb_from_planes
from mcorec_torch.media.color import GRAY_LUT, frame_to_gray, frame_to_rgb


def planes(frame):
    return [torch.from_numpy(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width].copy())
            for p in frame.planes]


def nv12(cb, cr):
    chroma = torch.empty(cb.shape[0], 2 * cb.shape[1], dtype=torch.uint8)
    chroma[:, 0::2], chroma[:, 1::2] = cb, cr
    return chroma


def test_gray_is_the_spec_table_for_every_luma_value():
    luma = torch.arange(256, dtype=torch.uint8).reshape(16, 16)
    assert torch.equal(gray_from_luma(luma), torch.from_numpy(GRAY_LUT).reshape(16, 16))
    assert gray_from_luma(torch.tensor([16, 235, 0, 255], dtype=torch.uint8)).tolist() == [0, 255, 0, 255]
    with pytest.raises(TypeError):
        gray_from_luma(luma.float())


@pytest.mark.parametrize("size", [(96, 96), (224, 224), (88, 88), (30, 46)])
def test_rgb_of_random_pictures_is_within_tolerance_of_swscale(size):
    height, width = size
    rng = np.random.default_rng(height * 7 + width)
    picture = rng.integers(0, 256, (height * 3 // 2, width), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
    y, cb, cr = planes(frame)
    ours = rgb_from_planes(y, cb, cr)
    want = torch.from_numpy(np.ascontiguousarray(frame_to_rgb(frame, VideoReformatter())))
    diff = (ours.int() - want.int()).abs()
    assert ours.shape == (3, height, width) and ours.dtype == torch.uint8
    assert int(diff.max()) <= RGB_TOLERANCE
    assert float((diff > 1).float().mean()) < 0.25  # rounding differences, not a wrong matrix
    assert torch.equal(rgb_from_nv12(y, nv12(cb, cr)), ours)


def test_decoded_frames_of_a_split_gray_exact_rgb_within_tolerance(dev_split):
    root, _ = dev_split
    path = sorted(root.glob("*/speakers/*/central_crops/*.mp4"))[0]
    reformatter = VideoReformatter()
    with av.open(str(path)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k == 30:
                break
            y, cb, cr = planes(frame)
            assert torch.equal(gray_from_luma(y), torch.from_numpy(frame_to_gray(frame, reformatter)))
            rgb = torch.from_numpy(np.ascontiguousarray(frame_to_rgb(frame, reformatter)))
            assert int((rgb_from_planes(y, cb, cr).int() - rgb.int()).abs().max()) <= RGB_TOLERANCE


def test_a_wrong_matrix_would_be_caught():
    """The tolerance is tight enough to catch swapped chroma planes."""
    frame = av.VideoFrame.from_ndarray(np.random.default_rng(3).integers(0, 256, (144, 96), dtype=np.uint8),
                                       format="yuv420p")
    y, cb, cr = planes(frame)
    want = torch.from_numpy(np.ascontiguousarray(frame_to_rgb(frame, VideoReformatter())))
    assert int((rgb_from_planes(y, cr, cb).int() - want.int()).abs().max()) > 20
