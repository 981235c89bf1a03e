"""``show_segment``: one segment as a PNG contact sheet (``mcorec-torch show``).

From the top: the segment id, speaker, conversation, session, frames and cue times, the cue
text; a grid of every ``k``-th frame (central frame number above each tile, padding frames
crossed out in red); then four panels on one time axis, seconds on the central timeline from
the first frame's start ``F0 / 25`` to the last frame's end ``F1 / 25``: the mask (green: a
frame exists, red: padding), the activity of every speaker of the session (their transcript
cues, the segment's own speaker first, coloured by conversation), the audio waveform and its
spectrogram. Magenta lines mark the cue's start and end.
"""
from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Tuple, Union

import numpy as np

from ..errors import PathLike
from ..timeline import SAMPLE_RATE
from ._figure import (CUE_LINE, PADDING, PRESENT, WAVEFORM, PixelBox, TimeAxis, axes_at, conversation_colour,
                      figure, save_png, text_at, time_axis)
from .segment_data import TILE_COLUMNS, TILE_SIZE, SegmentView, segment_view, tile_image

#: Size of a contact sheet in pixels (width, height).
SIZE = (1200, 1000)
_TILE_X0, _TILE_Y0, _TILE_PITCH_X, _TILE_PITCH_Y, _LABEL = 50, 110, 140, 150, 18
_PANEL_X = (110, 1160)
_PANELS = {"mask": (575, 593), "activity": (605, 700), "waveform": (712, 812), "spectrogram": (824, 944)}
_STFT_WINDOW, _STFT_HOP = 400, 160  # 25 ms Hann windows every 10 ms (samples at 16 kHz)


@dataclass(frozen=True)
class Tile:
    """One frame tile: ``offset`` (frame of the segment, from 0), ``frame`` (central frame
    number ``F0 + offset``), ``padding`` (``video_mask`` False) and its pixel ``box``."""

    offset: int
    frame: int
    padding: bool
    box: PixelBox


@dataclass(frozen=True)
class SegmentPicture:
    """What :func:`show_segment` drew and where: ``size`` (width, height) in pixels, ``every``
    (the step between tiles, frames), the ``tiles``, the time panels (``mask``, ``activity``,
    ``waveform``, ``spectrogram``: their pixel boxes and seconds at their edges), the speakers of
    the activity rows top to bottom, and ``seconds``: the time it took (loading, drawing, writing)."""

    path: Path
    segment_id: str
    size: Tuple[int, int]
    every: int
    tiles: Tuple[Tile, ...]
    mask: TimeAxis
    activity: TimeAxis
    waveform: TimeAxis
    spectrogram: TimeAxis
    activity_rows: Tuple[str, ...]
    seconds: float


def show_segment(dataset: Any, segment: Union[int, str], path: PathLike) -> SegmentPicture:
    """Draw segment ``segment`` (a dataset index or a segment id, SPEC §3) of ``dataset`` (an
    :class:`~mcorec_torch.MCoRecDataset`) as a PNG contact sheet at ``path`` (module docstring);
    returns where everything was drawn. Needs the ``viz`` extra (matplotlib)."""
    started = time.perf_counter()
    view = segment_view(dataset, segment)
    with figure(*SIZE) as fig:
        _header(fig, view)
        tiles = _tiles(fig, view)
        panels = {name: axes_at(fig, PixelBox(_PANEL_X[0], y0, _PANEL_X[1], y1))
                  for name, (y0, y1) in _PANELS.items()}
        _mask_panel(panels["mask"], view)
        rows = _activity_panel(panels["activity"], view)
        _waveform_panel(panels["waveform"], view)
        _spectrogram_panel(panels["spectrogram"], view)
        for ax in panels.values():
            ax.set_xlim(view.t0, view.t1)
            for t in (view.sample["start"], view.sample["end"]):
                ax.axvline(t, color=CUE_LINE, linewidth=1.2, antialiased=False, zorder=5)
        for name in ("mask", "activity", "waveform"):
            panels[name].tick_params(labelbottom=False)
        panels["spectrogram"].set_xlabel(f"seconds on the central timeline: frames {view.sample['frame_start']} "
                                         f"to {view.sample['frame_end']} ({view.t0:.2f}-{view.t1:.2f} s); magenta: "
                                         f"the {_what(view)}'s start and end")
        axes = {name: time_axis(fig, ax) for name, ax in panels.items()}
        save_png(fig, path)
    return SegmentPicture(Path(path), view.sample["id"], SIZE, view.every, tiles, axes["mask"], axes["activity"],
                          axes["waveform"], axes["spectrogram"], rows, time.perf_counter() - started)


def _header(fig: Any, view: SegmentView) -> None:
    sample = view.sample
    mask = view.mask
    text_at(fig, 12, 8, sample["id"], fontsize=12, fontweight="bold")
    conversation = sample["conversation"]
    info = (f"session {sample['session']} · speaker {sample['speaker']} · conversation "
            f"{conversation if conversation >= 0 else 'unknown'} · frames {sample['frame_start']}-"
            f"{sample['frame_end']} ({len(mask)} frames, {int((~mask).sum())} padding) · {_what(view)} "
            f"{sample['start']:.3f}-{sample['end']:.3f} s · {_every(view.every)} shown, central frame numbers")
    text_at(fig, 12, 32, info, fontsize=9)
    if "text" in sample:
        lines = textwrap.wrap(sample["text"], 170, max_lines=3, placeholder=" ...") or ["(empty text)"]
    else:
        lines = [f"no text: an unlabeled chunk (SPEC §12) of track {sample.get('track')}"]
    text_at(fig, 12, 52, "\n".join(lines), fontsize=9, style="italic", parse_math=False)


def _what(view: SegmentView) -> str:
    """``"cue"`` for a transcript segment, ``"chunk"`` for an unlabeled one (SPEC §12)."""
    return "cue" if "text" in view.sample else "chunk"


def _every(step: int) -> str:
    """``"every frame"``, ``"every 2nd frame"``, ``"every 11th frame"``, ..."""
    if step == 1:
        return "every frame"
    suffix = "th" if 10 <= step % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(step % 10, "th")
    return f"every {step}{suffix} frame"


def _tiles(fig: Any, view: SegmentView) -> Tuple[Tile, ...]:
    frames, mask, height = view.frames, view.mask, SIZE[1]
    tiles = []
    for n, offset in enumerate(view.offsets):
        row, column = divmod(n, TILE_COLUMNS)
        x0 = _TILE_X0 + column * _TILE_PITCH_X
        y0 = _TILE_Y0 + row * _TILE_PITCH_Y + _LABEL
        padding = not bool(mask[offset])
        image = tile_image(frames[offset], padding, TILE_SIZE)
        fig.figimage(image, xo=x0, yo=height - y0 - image.shape[0], origin="upper")
        frame = view.sample["frame_start"] + offset
        text_at(fig, x0, y0 - _LABEL + 2, f"{frame}" + (" padding" if padding else ""), fontsize=9,
                color=PADDING if padding else "black", fontweight="bold" if padding else "normal")
        tiles.append(Tile(offset, frame, padding, PixelBox(x0, y0, x0 + image.shape[1], y0 + image.shape[0])))
    return tuple(tiles)


def _mask_panel(ax: Any, view: SegmentView) -> None:
    from matplotlib.colors import ListedColormap

    ax.imshow(view.mask[None, :].astype(np.uint8), extent=(view.t0, view.t1, 0, 1), aspect="auto",
              interpolation="nearest", cmap=ListedColormap([PADDING, PRESENT]), vmin=0, vmax=1)
    ax.set_yticks([])
    ax.set_ylabel("mask", rotation=0, ha="right", va="center")


def _activity_panel(ax: Any, view: SegmentView) -> Tuple[str, ...]:
    rows = view.activity
    n = len(rows)
    for k, row in enumerate(rows):
        y = n - 1 - k
        if row.cues is None:
            ax.text(view.t0 + 0.01 * (view.t1 - view.t0), y + 0.5, f"no transcript ({view.label_dir}/{row.speaker}.vtt)",
                    va="center", fontsize=7, color="dimgray")
            continue
        spans = [(s, e - s) for s, e in row.cues]
        ax.broken_barh(spans, (y + 0.15, 0.7), facecolors=conversation_colour(row.conversation),
                       edgecolor="black", linewidth=0.4)
    ax.set_ylim(0, max(n, 1))
    ax.set_yticks([n - 1 - k + 0.5 for k in range(n)])
    ax.set_yticklabels([f"{row.speaker} (this)" if row.target else row.speaker for row in rows], fontsize=7)
    return tuple(row.speaker for row in rows)


def _waveform_panel(ax: Any, view: SegmentView) -> None:
    """The audio as its per-column minimum and maximum, a step envelope from ``t0`` to ``t1``."""
    audio = np.asarray(view.audio, dtype=np.float32)
    columns = max(1, min(len(audio), _PANEL_X[1] - _PANEL_X[0]))
    edges = np.linspace(0, len(audio), columns + 1).astype(np.int64)
    low = np.minimum.reduceat(audio, edges[:-1]) if len(audio) else np.zeros(1)
    high = np.maximum.reduceat(audio, edges[:-1]) if len(audio) else np.zeros(1)
    times = view.t0 + edges / SAMPLE_RATE
    x = np.repeat(times, 2)[1:-1]
    ax.fill_between(x, np.repeat(low, 2), np.repeat(high, 2), color=WAVEFORM, linewidth=0, antialiased=False)
    peak = float(np.abs(audio).max()) if len(audio) else 0.0
    ax.set_ylim(-1.05 * peak if peak else -1, 1.05 * peak if peak else 1)
    if peak == 0.0:
        ax.text(0.5, 0.5, "silent: every sample is 0", transform=ax.transAxes, ha="center", va="center")
    ax.set_ylabel("audio", rotation=0, ha="right", va="center")
    ax.set_yticks([])


def spectrogram(audio: np.ndarray) -> np.ndarray:
    """Log power (dB) ``[257 bins, len(audio) // 160 columns]`` of 25 ms Hann windows centred on
    every 10 ms (column ``c`` is samples ``[160 c, 160 c + 160)``), 0 to 8 kHz."""
    audio = np.asarray(audio, dtype=np.float64)
    columns = len(audio) // _STFT_HOP
    if columns == 0:
        return np.zeros((257, 1))
    half = _STFT_WINDOW // 2
    padded = np.pad(audio, (half, half + _STFT_WINDOW))
    starts = np.arange(columns) * _STFT_HOP + _STFT_HOP // 2
    windows = padded[starts[:, None] + np.arange(_STFT_WINDOW)[None, :]] * np.hanning(_STFT_WINDOW)
    power = np.abs(np.fft.rfft(windows, n=512, axis=1)) ** 2
    return (10.0 * np.log10(power + 1e-10)).T


def _spectrogram_panel(ax: Any, view: SegmentView) -> None:
    power = spectrogram(view.audio)
    top = float(power.max())
    ax.imshow(power, extent=(view.t0, view.t0 + power.shape[1] * _STFT_HOP / SAMPLE_RATE, 0, SAMPLE_RATE / 2000),
              origin="lower", aspect="auto", interpolation="nearest", cmap="magma", vmin=top - 80, vmax=top)
    ax.set_ylabel("kHz", rotation=0, ha="right", va="center")
    ax.set_yticks([0, 4, 8])
