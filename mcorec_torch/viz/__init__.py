"""Pictures of the data (the ``viz`` extra, matplotlib): a segment as a contact sheet
(:func:`show_segment`, ``mcorec-torch show``), its short mp4 preview (:func:`preview_segment`,
``show --video``), and a session on the central timeline (:func:`session_timeline`,
``mcorec-torch timeline``).

matplotlib is imported when a picture is drawn, never when this package is imported. Every
picture has a fixed size in pixels, one bundled font (DejaVu Sans) and no date or version in its
file, so the same data give the same bytes; each function returns where it drew what (pixel
boxes and time axes), which the tests read the pictures back with.

The modules: :mod:`._figure` (what every picture shares), :mod:`.segment_data` and
:mod:`.segment` (the contact sheet), :mod:`.preview` (the mp4), :mod:`.lanes` and
:mod:`.session` (the timeline).
"""
from ._figure import MISSING_EXTRA, PixelBox, TimeAxis
from .preview import SegmentPreview, preview_segment
from .segment import SegmentPicture, Tile, show_segment
from .session import TimelinePicture, session_timeline

__all__ = ["MISSING_EXTRA", "PixelBox", "TimeAxis", "SegmentPicture", "Tile", "show_segment", "SegmentPreview",
           "preview_segment", "TimelinePicture", "session_timeline"]
