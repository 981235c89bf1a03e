"""Which media files the index can use (SPEC §3, §10), and the ``on_error`` decision on those it
cannot.

A file is left out when it does not read (missing, truncated, corrupt: an error under
``on_error="raise"``) or when its video is not 25 fps (:func:`~mcorec_torch.media.probe.timing_fault`:
left out under both settings, as the reader would put its frames in the wrong places). The
index records both the same way under either setting and leaves out what they serve (a crop's
track, the central video, an ego video's audio), so one cached index serves both settings;
:func:`settle_unusable` then raises or logs.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

from ..corpus.metadata import SessionMetadata, read_track_json
from ..errors import MCoRecDataError, PathLike
from ..media.headers import HeaderCache
from ..media.probe import MediaHeader, timing_fault
from .report import IndexReport, Key, UnusableFile
from .segment_index import Track

logger = logging.getLogger(__name__)

#: What an unusable crop would have covered: ``(first frame, frames)`` on its view's timeline,
#: ``None`` where its track json did not read either (then it may have covered anything).
LostSpan = Optional[Tuple[int, int]]


class MediaFiles:
    """The headers of the media files an index is built from, each file judged usable or not;
    those that are not are noted in ``report`` (:meth:`IndexReport.add_unusable`)."""

    def __init__(self, headers: HeaderCache, report: IndexReport) -> None:
        self.headers = headers
        self.report = report

    def unusable(self, place: Key, serves: str, path: PathLike, reason: str, *, error: bool,
                 key: Optional[str] = None, line: Optional[int] = None) -> None:
        """Note a file the index leaves out (see :class:`~mcorec_torch.index.report.UnusableFile`)."""
        self.report.add_unusable(UnusableFile(str(path), reason, *place, serves=serves, error=error, key=key,
                                              line=line))

    def unreadable(self, place: Key, serves: str, exc: MCoRecDataError) -> None:
        """Note the file ``exc`` names as one that does not read."""
        self.unusable(place, serves, exc.path or "", exc.message, error=True, key=exc.key, line=exc.line)

    def crop_track(self, meta: SessionMetadata, place: Key, track_json: str, media_path: Path, key: str,
                   what: str, owner: int) -> Tuple[Optional[Track], bool]:
        """``(track, True)`` for a usable crop (``media_path`` and its ``track_json``, ``what``: e.g.
        ``"central crop 1"``, ``key``: its key in metadata.json, ``owner``: the speaker row); for
        one that cannot be used (noted), ``(track, False)`` spanning what its track json states
        (size 0x0), or ``(None, False)`` when that does not read either."""
        serves = f"{what} of {place[2]}"
        try:
            timing = read_track_json(meta.path(track_json))
        except MCoRecDataError as exc:
            self.unreadable(place, serves, exc)
            return None, False
        expected = timing.frame_end - timing.frame_start
        lost = Track(path=str(media_path), start=timing.frame_start, num_frames=expected, width=0, height=0,
                     owner=owner)
        if not media_path.is_file():
            self.unusable(place, serves, media_path, f"crop video listed in metadata.json ({key}) does not exist",
                          error=True)
            return lost, False
        try:
            frames = self.headers.frame_count(media_path, expected=expected)
            header = self.headers.header(media_path)
        except MCoRecDataError as exc:
            self.unreadable(place, serves, exc)
            return lost, False
        fault = timing_fault(header, frames)
        if fault is not None:
            self.unusable(place, serves, media_path, fault, error=False)
            return lost, False
        return Track(path=str(media_path), start=timing.frame_start, num_frames=frames, width=header.width,
                     height=header.height, owner=owner), True

    def whole_video(self, path: Path, place: Key, serves: str) -> Optional[Tuple[MediaHeader, int]]:
        """``(header, frames it spans)`` of a whole-session video (central or ego), or ``None``
        when it cannot be used (noted): it does not read or is not 25 fps. Its span comes from
        the header, counted by decoding only where the header says nothing
        (:attr:`~mcorec_torch.media.probe.MediaHeader.span_frames`)."""
        try:
            header = self.headers.header(path)
            span = header.span_frames or self.headers.frame_count(path)
        except MCoRecDataError as exc:
            self.unreadable(place, serves, exc)
            return None
        fault = timing_fault(header, span)
        if fault is not None:
            self.unusable(place, serves, path, fault, error=False)
            return None
        return header, span


def lost_overlap(lost: Sequence[LostSpan], pieces: Sequence[Tuple[int, int, int, int]], first: int,
                 count: int) -> bool:
    """Whether a crop the index could not use would have covered some frame of view frames
    ``[first, first + count)`` that ``pieces`` (``(track, offset, track frame, length)``) leave
    uncovered (a span of ``None``: maybe)."""
    if not lost:
        return False
    missing = np.ones(count, dtype=bool)
    for _, offset, _, length in pieces:
        missing[offset: offset + length] = False
    for span in lost:
        if span is None:
            return True
        lo, hi = max(first, span[0]), min(first + count, span[0] + span[1])
        if hi > lo and missing[lo - first: hi - first].any():
            return True
    return False


def settle_unusable(report: IndexReport, on_error: str) -> None:
    """The ``on_error`` decision on the files the index left out (SPEC §10): under ``"raise"``
    a file that does not read is an :class:`~mcorec_torch.errors.MCoRecDataError` naming it (the
    first one); otherwise each unusable file is logged once (a video that is not 25 fps is left
    out under both settings)."""
    unreadable = [f for f in report.unusable if f.error]
    if unreadable and on_error == "raise":
        first = unreadable[0]
        more = f"; {len(unreadable) - 1} more file(s) do not read" if len(unreadable) > 1 else ""
        raise MCoRecDataError(first.path, f"{first.reason} (it serves {first.serves} of {first.split}/"
                                          f"{first.session}{more}; on_error='skip' leaves out what they serve "
                                          f"and goes on)", key=first.key, line=first.line)
    for file in report.unusable:
        logger.warning("left out %s/%s %s: %s", file.split, file.session, file.serves, file.as_error())
