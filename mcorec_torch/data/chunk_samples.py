"""Helpers of the dataset for segments without text (SPEC §12: ``segments="asd"``,
``"windows"`` or ``"ranges"``): which track a chunk came from, chunk counts, and the warning
for chunks an option dropped."""
from __future__ import annotations

import logging
from typing import Dict

from ..index.options import DatasetOptions
from ..index.report import KEPT, NOT_CUES, IndexReport
from ..index.segment_index import SegmentIndex

logger = logging.getLogger(__name__)


def chunk_track(index: SegmentIndex, row: int) -> int:
    """Position (in the speaker's ``crops`` list of ``metadata.json``) of the track holding the
    first covered frame of index row ``row``; -1 when no track covers any of its frames."""
    pieces = index.pieces(row)
    if not pieces:
        return -1
    return index.tracks[pieces[0][0]].position


def chunk_counts(report: IndexReport) -> Dict[str, Dict[str, int]]:
    """``{session: {speaker: chunks kept}}`` (every speaker of every session, zeros included)."""
    counts: Dict[str, Dict[str, int]] = {}
    for (_split, session, speaker), counter in sorted(report.by_speaker().items()):
        counts.setdefault(session, {})[speaker] = int(counter[KEPT])
    return counts


def warn_dropped_chunks(report: IndexReport, options: DatasetOptions) -> int:
    """Log a warning naming how many chunks ``min_duration``/``max_duration`` or missing video
    dropped (they are counted in the report too); returns that number."""
    total = report.total()
    dropped = {reason: n for reason, n in total.items() if reason != KEPT and reason not in NOT_CUES and n}
    if dropped:
        logger.warning("segments=%r: %d chunk(s) are not segments (%s; max_duration=%s, min_duration=%s): "
                       "their speech will have no hypothesis", options.segments, sum(dropped.values()),
                       ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())), options.max_duration,
                       options.min_duration)
    return sum(dropped.values())
