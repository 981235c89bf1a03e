"""``preview_segment``: a segment as a short mp4 for listening while watching (``mcorec-torch show
--video``): every frame of the segment scaled up by nearest neighbour, its id, central frame
number and time, the transcript burned in, a bar with the cue's span and the playing frame,
and the segment's audio. Padding frames (``video_mask`` False) say so in red."""
from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Union

import numpy as np

from .._io import atomic_path
from ..errors import PathLike
from ..media.encode import write_mp4
from ..timeline import FPS
from ._figure import FONT_FAMILY, PixelBox, require
from .segment_data import PADDING_RGB, find_segment, tile_image

#: Size of a preview frame in pixels (width, height; even, as H.264 4:2:0 needs).
SIZE = (640, 400)
#: Edge of the scaled crop in the preview, pixels.
CROP_SIZE = 288
_CROP_X0, _CROP_Y0 = 16, 16
_TEXT_X0 = _CROP_X0 + CROP_SIZE + 20
_BAR = PixelBox(16, 372, 624, 388)


@dataclass(frozen=True)
class SegmentPreview:
    """What :func:`preview_segment` wrote: the mp4 ``path``, its ``frames`` (the segment's,
    one per central frame at 25 fps), the pixel box of the scaled crop in every frame, and
    ``seconds``: the time it took."""

    path: Path
    segment_id: str
    frames: int
    crop: PixelBox
    seconds: float


def _font(size: int) -> Any:
    """DejaVu Sans (bundled with matplotlib) at ``size`` pixels, as a PIL font."""
    require("matplotlib")
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(family=FONT_FAMILY))
    return require("PIL.ImageFont").truetype(path, size)


def _background(sample: dict) -> Any:
    """The parts of every frame that do not change: id, speaker, times, transcript, the cue's span."""
    image_module = require("PIL.Image")
    draw_module = require("PIL.ImageDraw")
    image = image_module.new("RGB", SIZE, (24, 24, 24))
    draw = draw_module.Draw(image)
    small, large = _font(13), _font(16)
    conversation = sample["conversation"]
    lines = [sample["id"], f"{sample['speaker']} · conversation {conversation if conversation >= 0 else '?'}",
             f"frames {sample['frame_start']}-{sample['frame_end']}",
             f"{'cue' if 'text' in sample else 'chunk'} {sample['start']:.3f}-{sample['end']:.3f} s"]
    draw.multiline_text((_TEXT_X0, _CROP_Y0), "\n".join(lines), font=small, fill=(220, 220, 220), spacing=4)
    text = sample.get("text")
    words = textwrap.wrap(text, 62, max_lines=3, placeholder=" ...") if text else ["(no text: an unlabeled chunk)"]
    draw.multiline_text((_CROP_X0, _CROP_Y0 + CROP_SIZE + 10), "\n".join(words), font=large, fill=(255, 255, 255),
                        spacing=4)
    t0, t1 = sample["frame_start"] / FPS, sample["frame_end"] / FPS
    span = _BAR.x1 - _BAR.x0
    x_start = _BAR.x0 + round((sample["start"] - t0) / (t1 - t0) * span)
    x_end = _BAR.x0 + round((sample["end"] - t0) / (t1 - t0) * span)
    draw.rectangle((_BAR.x0, _BAR.y0, _BAR.x1 - 1, _BAR.y1 - 1), fill=(70, 70, 70))
    draw.rectangle((x_start, _BAR.y0, max(x_start, x_end - 1), _BAR.y1 - 1), fill=(200, 170, 40))
    return image


def _frames(sample: dict) -> Iterator[np.ndarray]:
    """The preview's frames, uint8 ``[H, W, 3]``."""
    image_module = require("PIL.Image")
    draw_module = require("PIL.ImageDraw")
    background = _background(sample)
    font = _font(16)
    video, mask = sample["video"].numpy(), sample["video_mask"].numpy().astype(bool)
    count = len(mask)
    for j in range(count):
        image = background.copy()
        tile = tile_image(video[j], not mask[j], CROP_SIZE)
        image.paste(image_module.fromarray(tile), (_CROP_X0, _CROP_Y0))
        draw = draw_module.Draw(image)
        frame = sample["frame_start"] + j
        label = f"frame {frame} · {frame / FPS:.2f} s" + ("  PADDING" if not mask[j] else "")
        draw.text((_TEXT_X0, _CROP_Y0 + 110), label, font=font, fill=PADDING_RGB if not mask[j] else (255, 255, 255))
        x = _BAR.x0 + (2 * j + 1) * (_BAR.x1 - _BAR.x0) // (2 * count)
        draw.rectangle((x - 1, _BAR.y0 - 4, x + 1, _BAR.y1 + 3), fill=(255, 255, 255))
        yield np.asarray(image)


def preview_segment(dataset: Any, segment: Union[int, str], path: PathLike) -> SegmentPreview:
    """Write segment ``segment`` (a dataset index or a segment id) of ``dataset`` (an
    :class:`~mcorec_torch.MCoRecDataset`) as an mp4 preview at ``path`` (atomically): H.264 at
    25 fps, one frame per segment frame, with the segment's audio (AAC, 16 kHz). Needs the
    ``viz`` extra (matplotlib, which brings PIL)."""
    started = time.perf_counter()
    i = find_segment(dataset, segment)
    sample = dataset.load(i)
    with atomic_path(path) as tmp:
        write_mp4(tmp, _frames(sample), audio=sample["audio"].numpy())
    height, width = sample["video"].shape[2:]
    scale = CROP_SIZE / max(height, width)
    crop = PixelBox(_CROP_X0, _CROP_Y0, _CROP_X0 + max(1, round(width * scale)), _CROP_Y0 + max(1, round(height * scale)))
    return SegmentPreview(Path(path), sample["id"], len(sample["video_mask"]), crop, time.perf_counter() - started)
