"""``session_timeline``: one session on the central timeline as a PNG (``mcorec-torch timeline``).

One lane per speaker, tinted with its conversation's colour, seconds from 0 to the end of the
central video. In each lane, from the top: the face tracks (dark) and the gaps between them inside
the UEM (red), above a black bar over the central UEM, with everything outside the UEM shaded;
the reference cues (kept ones in the conversation's colour, merged ones hatched, dropped ones
cross-hatched in the colour of their reason); the hypotheses (in the colour of the conversation
the hypothesis folder gives them); the ASD score curve (clipped to +-3, the onset threshold
dashed) over the ASD chunks (green). What is missing is written in the picture.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..errors import PathLike
from ..index.options import DatasetOptions
from ..index.report import KEPT, MERGED
from ..timeline import FPS
from ._figure import PixelBox, TimeAxis, axes_at, conversation_colour, figure, legend_patches, save_png, text_at
from .lanes import CueMark, Lane, SessionLanes, session_lanes

WIDTH = 1600
_HEADER, _LANE, _GAP, _FOOTER = 70, 118, 8, 118
_X = (150, 1560)
#: Rows of a lane: name -> (bottom, top) in the lane's data units (0 at the bottom, 6 at the top).
ROWS = {"tracks": (5.1, 5.9), "uem": (4.8, 4.95), "reference": (3.6, 4.5), "hypothesis": (2.6, 3.4),
        "asd": (0.1, 2.4)}
#: Colours of dropped cues, by reason (a cue with several possible reasons is white).
DROPPED = {"bad_cue": "#000000", "outside_uem": "#ff7f0e", "beyond_video": "#8b0000", "too_short": "#f7b6d2",
           "too_long": "#c49c94", "no_video": "#d62728", "no_audio": "#7f7f7f", "bad_file": "#e7ba52",
           "empty_text": "#c7c7c7"}
TRACK, GAP, OUTSIDE_UEM, ASD_CHUNK, ASD_CURVE = "#3b4a5a", "#f08080", "#e4e4e4", "#98df8a", "#006400"


@dataclass(frozen=True)
class TimelinePicture:
    """What :func:`session_timeline` drew and where: ``size`` (width, height) in pixels,
    ``axis`` (the time axis every lane shares: pixel columns of seconds), per speaker its lane's
    pixel box and each row's (``rows[(speaker, row)]``, rows of :data:`ROWS`), what was drawn
    (``data``) and ``seconds``: the time it took (index, reading, drawing, writing)."""

    path: Path
    size: Tuple[int, int]
    axis: TimeAxis
    lanes: Dict[str, PixelBox]
    rows: Dict[Tuple[str, str], PixelBox]
    data: SessionLanes
    seconds: float


def cue_colour(cue: CueMark, conversation: int) -> str:
    """The face colour of a reference cue: its conversation's when kept or merged, else its reason's."""
    if cue.outcome in (KEPT, MERGED):
        return conversation_colour(conversation)
    return DROPPED.get(cue.outcome, "#ffffff")


def session_timeline(session_dir: PathLike, path: PathLike, *, hyp_dir: Optional[PathLike] = None,
                     options: Optional[DatasetOptions] = None, cache_dir: Optional[PathLike] = None) -> TimelinePicture:
    """Draw the session folder ``session_dir`` on the central timeline as a PNG at ``path`` (module
    docstring). ``hyp_dir``: a folder of ``spk_N.vtt`` hypotheses (default ``SESSION/output`` when it
    exists); ``options``: the dataset options that decide the cues' outcomes and the ASD chunks
    (``view`` central, ``segments`` labels); ``cache_dir``: the index cache. Needs the ``viz`` extra."""
    started = time.perf_counter()
    data = session_lanes(session_dir, options, cache_dir, hyp_dir)
    height = _HEADER + len(data.lanes) * (_LANE + _GAP) + _FOOTER
    with figure(WIDTH, height) as fig:
        _header(fig, data)
        axes, lanes, rows = [], {}, {}
        for k, lane in enumerate(data.lanes):
            y0 = _HEADER + k * (_LANE + _GAP)
            box = PixelBox(_X[0], y0, _X[1], y0 + _LANE)
            ax = axes_at(fig, box)
            _lane(fig, ax, lane, data, box)
            axes.append(ax)
            lanes[lane.speaker] = box
            rows.update({(lane.speaker, name): _row_box(box, bottom, top) for name, (bottom, top) in ROWS.items()})
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        if axes:
            axes[-1].set_xlabel("seconds on the central timeline")
        _legend(fig, data)
        axis = TimeAxis(PixelBox(_X[0], _HEADER, _X[1], height - _FOOTER - _GAP), 0.0, data.duration)
        save_png(fig, path)
    return TimelinePicture(Path(path), (WIDTH, height), axis, lanes, rows, data, time.perf_counter() - started)


def _row_box(lane: PixelBox, bottom: float, top: float) -> PixelBox:
    """Pixel box of the lane rows between data heights ``bottom`` and ``top`` (of 0..6)."""
    scale = lane.height / 6.0
    return PixelBox(lane.x0, lane.y1 - int(round(top * scale)), lane.x1, lane.y1 - int(round(bottom * scale)))


def _header(fig: Any, data: SessionLanes) -> None:
    frames = f"{data.session_frames} frames, " if data.session_frames else ""
    text_at(fig, 12, 8, f"{data.session_dir.name}: {len(data.lanes)} speakers, {frames}{data.duration:.2f} s",
            fontsize=12, fontweight="bold")
    hyp = f"hypotheses: {data.hyp_dir}" if data.hyp_dir else ""
    notes = " · ".join(data.notes + ([hyp] if hyp else []))
    text_at(fig, 12, 32, notes or "every piece present", fontsize=9, color="firebrick" if data.notes else "black",
            parse_math=False)
    text_at(fig, 12, 50, "rows per speaker: face tracks (red: gaps inside the UEM) over the UEM bar · reference cues "
            "· hypotheses · ASD score and chunks", fontsize=8, color="dimgray")


def _lane(fig: Any, ax: Any, lane: Lane, data: SessionLanes, box: PixelBox) -> None:
    ax.set_xlim(0.0, data.duration)
    ax.set_ylim(0, 6)
    ax.set_facecolor(_tint(conversation_colour(lane.conversation)))
    if lane.uem is not None:
        for start, end in ((0.0, lane.uem[0]), (lane.uem[1], data.duration)):
            if end > start:
                ax.axvspan(start, end, facecolor=OUTSIDE_UEM, edgecolor="none", zorder=0.5)
        _bars(ax, [lane.uem], "uem", "black")
    _bars(ax, lane.tracks, "tracks", TRACK)
    _bars(ax, _gaps(lane), "tracks", GAP, hatch="//")
    for cue in lane.cues or []:
        hatch = None if cue.outcome == KEPT else "//" if cue.outcome == MERGED else "xx"
        _bars(ax, [(cue.start, cue.end)], "reference", cue_colour(cue, lane.conversation), hatch=hatch)
    hyp_colour = conversation_colour(lane.hyp_conversation if lane.hyp_conversation is not None else -1)
    _bars(ax, [(c.start, c.end) for c in lane.hypotheses or []], "hypothesis", hyp_colour)
    _asd(ax, lane, data)
    _missing(ax, lane, data)
    ax.set_yticks([sum(ROWS[r]) / 2 for r in ("tracks", "reference", "hypothesis", "asd")])
    ax.set_yticklabels(["tracks", "reference", "hypothesis", "ASD"], fontsize=7)
    conversation = lane.conversation if lane.conversation >= 0 else "?"
    text_at(fig, 10, box.y0 + 6, lane.speaker, fontsize=11, fontweight="bold")
    text_at(fig, 10, box.y0 + 26, f"conversation {conversation}", fontsize=8,
            color=conversation_colour(lane.conversation))
    text_at(fig, 10, box.y0 + 42, _counts(lane), fontsize=7, color="dimgray", linespacing=1.3)


def _bars(ax: Any, spans: List[Tuple[float, float]], row: str, colour: str, hatch: Optional[str] = None) -> None:
    if not spans:
        return
    bottom, top = ROWS[row]
    ax.broken_barh([(s, e - s) for s, e in spans], (bottom, top - bottom), facecolors=colour,
                   edgecolor="black" if hatch or row != "tracks" else "none", linewidth=0.4, hatch=hatch, zorder=2)


def _gaps(lane: Lane) -> List[Tuple[float, float]]:
    """Spans inside the UEM (or between the first and last track) that no face track covers."""
    tracks = sorted(lane.tracks)
    if lane.uem is not None:
        lo, hi = lane.uem
    elif tracks:
        lo, hi = tracks[0][0], max(e for _, e in tracks)
    else:
        return []
    gaps, cursor = [], lo
    for start, end in tracks:
        if start > cursor:
            gaps.append((cursor, min(start, hi)))
        cursor = max(cursor, end)
    if cursor < hi:
        gaps.append((cursor, hi))
    return [(s, e) for s, e in gaps if e > s]


def _asd(ax: Any, lane: Lane, data: SessionLanes) -> None:
    bottom, top = ROWS["asd"]
    middle, scale = (bottom + top) / 2, (top - bottom) / 6.2
    _bars(ax, lane.asd_chunks, "asd", ASD_CHUNK, hatch=None)
    for frames, scores in lane.asd:
        ax.plot((frames + 0.5) / FPS, middle + np.clip(scores, -3, 3) * scale, color=ASD_CURVE, linewidth=0.6, zorder=3)
    if lane.asd:
        ax.axhline(middle + data.onset * scale, color=ASD_CURVE, linewidth=0.5, linestyle="--", zorder=3)


def _missing(ax: Any, lane: Lane, data: SessionLanes) -> None:
    """Say in the lane what a missing piece means."""
    def say(row: str, text: str) -> None:
        ax.text(0.005 * data.duration, sum(ROWS[row]) / 2, text, va="center", fontsize=7, color="firebrick",
                zorder=4, parse_math=False)

    if lane.cues is None and "reference" in ROWS:
        say("reference", "no transcript: no reference cues")
    if lane.hypotheses is None and data.hyp_dir is not None:
        say("hypothesis", f"no hypothesis file {lane.speaker}.vtt")
    if lane.notes:
        say("asd", "; ".join(lane.notes) + ("" if lane.asd else " (no ASD score)"))
    if lane.uem is None:
        say("tracks", "no central UEM")


def _counts(lane: Lane) -> str:
    """``"12 kept\\n2 outside_uem"``: the lane's cues by outcome."""
    if lane.cues is None:
        return "no transcript"
    counts: Dict[str, int] = {}
    for cue in lane.cues:
        counts[cue.outcome] = counts.get(cue.outcome, 0) + 1
    order = [KEPT, MERGED] + sorted(k for k in counts if k not in (KEPT, MERGED))
    return "\n".join(f"{counts[k]} {k}" for k in order if counts.get(k))


def _tint(colour: str) -> Tuple[float, float, float]:
    """A very light version of ``colour`` (the lane's background)."""
    rgb = np.array([int(colour[i: i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return tuple(float(v) for v in 1.0 - 0.1 * (1.0 - rgb))


def _legend(fig: Any, data: SessionLanes) -> None:
    conversations = sorted({lane.conversation for lane in data.lanes} | {lane.hyp_conversation for lane in data.lanes
                                                                         if lane.hyp_conversation is not None})
    colours = {f"conversation {c}" if c >= 0 else "conversation unknown": conversation_colour(c) for c in conversations}
    colours.update({"face track": TRACK, "outside the UEM": OUTSIDE_UEM, "ASD chunk": ASD_CHUNK})
    outcomes = sorted({c.outcome for lane in data.lanes for c in lane.cues or []} - {KEPT, MERGED})
    handles = list(legend_patches(colours))
    handles += legend_patches({"track gap": GAP}, hatch="//")
    if any(c.outcome == MERGED for lane in data.lanes for c in lane.cues or []):
        handles += legend_patches({"merged cue": "#ffffff"}, hatch="//")
    handles += legend_patches({f"dropped: {o}": DROPPED.get(o, "#ffffff") for o in outcomes}, hatch="xx")
    from matplotlib.lines import Line2D

    handles.append(Line2D([], [], color=ASD_CURVE, linewidth=0.8, label="ASD score (dashed: onset)"))
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(_X[0] / WIDTH, 0.0), ncol=6, frameon=False,
               fontsize=8, title="kept cues and hypotheses take their conversation's colour", title_fontsize=8)
