"""What the contact sheet of one segment shows, gathered without drawing: the sample (frames,
mask, audio, text), which frames become tiles, the activity of every speaker of its session
around it (their transcript cues), and the tile pixels (nearest-neighbour scaled, padding
frames marked)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Tuple, Union

import numpy as np

from ..checks import OptionError, check_int
from ..corpus.layout import vtt_path
from ..corpus.vtt import read_vtt
from ..timeline import FPS

#: The most frame tiles a contact sheet shows (every ``k``-th frame, ``k = ceil(T / MAX_TILES)``).
TILE_COLUMNS, TILE_ROWS = 8, 3
MAX_TILES = TILE_COLUMNS * TILE_ROWS
#: Edge of a tile in pixels (the crop scaled by nearest neighbour to fit it).
TILE_SIZE = 120
#: RGB of the padding marks drawn into a padding frame's tile (a border and a cross).
PADDING_RGB = (224, 30, 30)
_MARK_WIDTH = 4


def find_segment(dataset: Any, segment: Union[int, str]) -> int:
    """The dataset index of ``segment``: an index (``int``) or a segment id
    (``"session/spk_N/F0-F1"``, SPEC §3). :class:`~mcorec_torch.checks.OptionError` when the
    dataset holds no such segment."""
    if len(dataset) == 0:
        raise OptionError("segment", "the dataset holds no segment to show (see `mcorec-torch index`)")
    if isinstance(segment, (int, np.integer)) and not isinstance(segment, bool):
        return int(check_int("segment", int(segment), minimum=0, maximum=len(dataset) - 1))
    for i in range(len(dataset)):
        if dataset.segment_id(i) == segment:
            return i
    raise OptionError("segment", f"segment must be an index in [0, {len(dataset) - 1}] or the id of one of the "
                                 f"dataset's segments ('session/spk_N/F0-F1'), got {segment!r}")


def frame_step(num_frames: int) -> int:
    """``k``: every ``k``-th frame becomes a tile, so that at most :data:`MAX_TILES` do."""
    return max(1, math.ceil(num_frames / MAX_TILES))


def tile_image(frame: np.ndarray, padding: bool, size: int = TILE_SIZE) -> np.ndarray:
    """One frame ``[C, H, W]`` (C = 1 gray or 3 RGB, uint8) as an RGB ``[h, w, 3]`` tile whose longer
    edge is ``size`` pixels, scaled by nearest neighbour; a padding frame gets a red border and cross."""
    frame = np.asarray(frame)
    rgb = np.repeat(frame, 3, axis=0) if frame.shape[0] == 1 else frame[:3]
    height, width = rgb.shape[1:]
    scale = size / max(height, width)
    rows = (np.arange(max(1, round(height * scale))) / scale).astype(np.int64).clip(0, height - 1)
    cols = (np.arange(max(1, round(width * scale))) / scale).astype(np.int64).clip(0, width - 1)
    tile = np.ascontiguousarray(np.moveaxis(rgb, 0, -1)[np.ix_(rows, cols)], dtype=np.uint8)
    if padding:
        _mark_padding(tile)
    return tile


def _mark_padding(tile: np.ndarray) -> None:
    """A red border and cross, in place."""
    h, w = tile.shape[:2]
    m = _MARK_WIDTH
    for region in (tile[:m], tile[-m:], tile[:, :m], tile[:, -m:]):
        region[...] = PADDING_RGB
    for k in range(-(m // 2), m - m // 2):
        rows = np.arange(h)
        cols = np.clip(rows * (w - 1) // max(h - 1, 1) + k, 0, w - 1)
        tile[rows, cols] = PADDING_RGB
        tile[rows, w - 1 - cols] = PADDING_RGB


@dataclass(frozen=True)
class ActivityRow:
    """One speaker of the segment's session: its transcript's cues overlapping the segment,
    ``(start, end)`` seconds on the central timeline, or ``None`` when it has no transcript."""

    speaker: str
    conversation: int
    target: bool
    cues: Optional[Tuple[Tuple[float, float], ...]]


@dataclass
class SegmentView:
    """Everything a contact sheet shows of one segment (seconds on the central timeline;
    ``t0``/``t1``: the first frame's start and the last frame's end, ``F0 / 25`` and ``F1 / 25``)."""

    index: int
    sample: dict
    t0: float
    t1: float
    every: int
    offsets: List[int]
    activity: List[ActivityRow]
    label_dir: str

    @property
    def frames(self) -> np.ndarray:
        return self.sample["video"].numpy()

    @property
    def mask(self) -> np.ndarray:
        return self.sample["video_mask"].numpy().astype(bool)

    @property
    def audio(self) -> np.ndarray:
        return self.sample["audio"].numpy()


def _activity(dataset: Any, row: int, t0: float, t1: float) -> List[ActivityRow]:
    """The session's speakers (the segment's own first), with their cues between ``t0`` and ``t1``."""
    index = dataset.index
    own = index.speakers[int(index.speaker[row])]
    session = index.sessions[own.session]
    speakers = [own] + [s for s in index.speakers if s.session == own.session and s is not own]
    rows = []
    for speaker in speakers:
        path = vtt_path(session.path, speaker.name, dataset.options.label_dir)
        cues = None
        if Path(path).is_file():
            cues = tuple((c.start, c.end) for c in read_vtt(path) if c.end > t0 and c.start < t1)
        rows.append(ActivityRow(speaker.name, int(speaker.conversation), speaker is own, cues))
    return rows


def segment_view(dataset: Any, segment: Union[int, str]) -> SegmentView:
    """Load ``segment`` of ``dataset`` (an :class:`~mcorec_torch.MCoRecDataset`; no transform
    applied) and gather what its contact sheet shows."""
    i = find_segment(dataset, segment)
    sample = dataset.load(i)
    t0, t1 = sample["frame_start"] / FPS, sample["frame_end"] / FPS
    every = frame_step(sample["frame_end"] - sample["frame_start"])
    offsets = list(range(0, sample["frame_end"] - sample["frame_start"], every))
    activity = _activity(dataset, dataset.index_row(i), t0, t1)
    return SegmentView(i, sample, t0, t1, every, offsets, activity, dataset.options.label_dir)
