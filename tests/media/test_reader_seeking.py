"""How the reader chooses between seeking and decoding on, and the skipping of unreferenced
frames before the wanted range: both change the work done, never the frames returned."""
import numpy as np
import pytest

from mcorec_torch.media import VideoReader
from test_real_world_encodings import NUM_FRAMES, indices, open_gop_files, packet_frames, write_video  # noqa: F401

# keyframes every 30 frames, 3 B-frames in a pyramid: half of the B-frames are unreferenced
CLOSED_GOP = "b-pyramid=normal:bframes=3:keyint=30:min-keyint=30:scenecut=0"


@pytest.fixture(scope="module")
def b_frame_file(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("seeking") / "b.mp4", {"x264-params": CLOSED_GOP})


def keyframes(path):
    return sorted(index for index, key in packet_frames(path) if key)


def read_all(path, positions, skip):
    reader = VideoReader(path)
    reader.skip_unwanted = skip
    try:
        return [reader.read(first, count, "gray") for first, count in positions], reader.frames_decoded
    finally:
        reader.close()


@pytest.mark.parametrize("name", ["b-frames", "open-gop", "open-gop-fragmented", "closed-gop-b-pyramid"])
def test_skipping_unreferenced_frames_returns_the_same_frames(open_gop_files, b_frame_file, name):  # noqa: F811
    path = b_frame_file if name == "b-frames" else open_gop_files[name]
    rng = np.random.default_rng(11)
    positions = [(int(f), int(rng.integers(1, 30))) for f in rng.integers(0, NUM_FRAMES - 30, 40)]
    skipped, decoded_with_skip = read_all(path, positions, skip=True)
    plain, decoded_without = read_all(path, positions, skip=False)
    for (first, count), a, b in zip(positions, skipped, plain):
        assert indices(a) == list(range(first, first + count))
        assert np.array_equal(a, b), (first, count)
    assert decoded_with_skip <= decoded_without


def test_the_walk_to_a_late_frame_of_a_gop_skips_unreferenced_frames(b_frame_file):
    """Frame 28 is 28 frames after keyframe 0: without skipping all 29 frames are decoded; with
    it, the unreferenced B-frames on the way are not (x264 chooses where B-frames go; here
    21 frames are decoded instead of 29)."""
    assert keyframes(b_frame_file)[:2] == [0, 30]
    _, with_skip = read_all(b_frame_file, [(28, 1)], skip=True)
    _, without = read_all(b_frame_file, [(28, 1)], skip=False)
    assert without >= 29
    assert with_skip <= without - 5


def test_reads_in_file_order_seek_once(b_frame_file):
    reader = VideoReader(b_frame_file)
    assert reader._keyframes_complete and reader._keyframes[:3] == [0, 30, 60]
    for first in range(0, 140, 10):  # consecutive 10-frame reads across four keyframes
        assert indices(reader.read(first, 10, "gray")) == list(range(first, first + 10))
    assert reader.seeks == 1
    assert reader.frames_decoded == 140
    reader.close()


def test_a_gap_without_a_keyframe_decodes_on_and_a_gap_across_one_seeks(b_frame_file):
    reader = VideoReader(b_frame_file)
    reader.read(0, 5, "gray")
    assert reader.seeks == 1
    reader.read(25, 4, "gray")  # 20 frames ahead, no keyframe in between (next one at 30)
    assert reader.seeks == 1
    reader.read(95, 3, "gray")  # keyframes 30, 60, 90 lie in between: seek to 90
    assert reader.seeks == 2
    assert indices(reader.read(40, 3, "gray")) == [40, 41, 42]  # backwards: seek
    assert reader.seeks == 3
    reader.close()


def test_fragmented_file_without_a_sample_index_decodes_on_only_within_the_limit(open_gop_files):  # noqa: F811
    reader = VideoReader(open_gop_files["open-gop-fragmented"])
    assert not reader._keyframes_complete
    reader.read(0, 2, "gray")
    reader.read(20, 2, "gray")  # within 64 frames, no keyframe seen between: decode on
    assert reader.seeks == 1
    assert indices(reader.read(130, 5, "gray")) == list(range(130, 135))  # 108 ahead: seek
    assert reader.seeks == 2
    reader.close()
