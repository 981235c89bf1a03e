"""What every picture of :mod:`mcorec_torch.viz` shares: matplotlib (the ``viz`` extra) imported on
first use with the Agg canvas, fixed sizes in pixels, one bundled font, PNG files without dates
or versions in them, and the pixel boxes a caller (a test) finds the drawn parts at.

Coordinates returned to callers are PNG pixels: ``x`` to the right from the left edge, ``y``
down from the top edge, boxes half-open ``[x0, x1) x [y0, y1)``.
"""
from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, Tuple

from .._io import atomic_path
from ..errors import PathLike

#: Dots per inch of every picture: sizes are given in pixels and divided by it.
DPI = 100
#: The font of every picture (bundled with matplotlib, so the same glyphs everywhere).
FONT_FAMILY = "DejaVu Sans"
#: matplotlib settings of every picture (applied with ``rc_context``; the user's stay untouched).
RC = {
    "font.family": FONT_FAMILY,
    "font.size": 9,
    "svg.hashsalt": "mcorec_torch",
    "path.simplify": True,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
}
#: PNG metadata: no ``Software`` version (and matplotlib writes no date), so equal pictures are equal files.
PNG_METADATA = {"Software": None}
MISSING_EXTRA = "pictures need matplotlib: pip install 'mcorec_torch[viz]'"

#: Colours of the fixed parts (RGB hex), chosen apart from every conversation and outcome colour.
CUE_LINE = "#ff00ff"   # the segment's cue start and end
WAVEFORM = "#1f4e79"
PADDING = "#e01e1e"    # padding frames (video_mask False)
PRESENT = "#2ca02c"    # frames that exist
#: Conversation colours (``speaker_to_cluster.json`` ids modulo their number); -1 (unknown) is grey.
CONVERSATIONS = ("#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#bcbd22", "#8c564b", "#393b79", "#637939")
UNKNOWN_CONVERSATION = "#a0a0a0"


def conversation_colour(conversation: int) -> str:
    """The colour of conversation ``conversation`` (the same in every picture)."""
    return UNKNOWN_CONVERSATION if conversation < 0 else CONVERSATIONS[conversation % len(CONVERSATIONS)]


def require(module: str = "matplotlib") -> ModuleType:
    """``import module`` (matplotlib or PIL, both from the ``viz`` extra); an :class:`ImportError`
    naming the extra when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(MISSING_EXTRA) from exc


@dataclass(frozen=True)
class PixelBox:
    """A rectangle of the PNG in pixels: columns ``[x0, x1)``, rows ``[y0, y1)`` (rows from the top)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class TimeAxis:
    """A panel whose x axis is seconds on the central timeline: its pixel ``box`` and the
    seconds ``t0`` and ``t1`` at its left and right edge."""

    box: PixelBox
    t0: float
    t1: float

    def column(self, seconds: float) -> float:
        """PNG column (pixels from the left edge, fractional) of time ``seconds``."""
        return self.box.x0 + (seconds - self.t0) / (self.t1 - self.t0) * (self.box.x1 - self.box.x0)


@contextlib.contextmanager
def figure(width_px: int, height_px: int) -> Iterator[Any]:
    """A matplotlib ``Figure`` of ``width_px`` x ``height_px`` pixels on an Agg canvas (no window,
    no pyplot, no global backend change), drawn under :data:`RC`."""
    matplotlib = require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
        FigureCanvasAgg(fig)
        yield fig


def axes_at(fig: Any, box: PixelBox) -> Any:
    """New axes filling ``box`` (PNG pixels) exactly."""
    width, height = fig.bbox.width, fig.bbox.height
    return fig.add_axes((box.x0 / width, 1 - box.y1 / height, box.width / width, box.height / height))


def text_at(fig: Any, x: float, y: float, text: str, **kwargs: Any) -> Any:
    """``text`` with its anchor at PNG pixel ``(x, y)`` (default: left, baseline-ish top)."""
    kwargs.setdefault("va", "top")
    return fig.text(x / fig.bbox.width, 1 - y / fig.bbox.height, text, **kwargs)


def time_axis(fig: Any, ax: Any) -> TimeAxis:
    """The :class:`TimeAxis` of ``ax`` (its x limits in seconds) in PNG pixels (axes placed by
    :func:`axes_at` are where they are without a draw)."""
    t0, t1 = (float(v) for v in ax.get_xlim())
    (left, bottom), (right, top) = ax.transAxes.transform([(0.0, 0.0), (1.0, 1.0)])
    height = fig.bbox.height
    box = PixelBox(int(round(left)), int(round(height - top)), int(round(right)), int(round(height - bottom)))
    return TimeAxis(box, t0, t1)


def save_png(fig: Any, path: PathLike) -> Path:
    """Write ``fig`` as a PNG at ``path`` (atomically; parents created) at :data:`DPI`, with
    the same bytes for the same picture (no date, no software version)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata=PNG_METADATA)
    return path


def legend_patches(colours: Dict[str, str], **kwargs: Any) -> Tuple[Any, ...]:
    """Legend handles: one filled rectangle per ``{label: colour}``."""
    from matplotlib.patches import Patch

    return tuple(Patch(facecolor=colour, edgecolor="black", linewidth=0.4, label=label, **kwargs)
                 for label, colour in colours.items())
