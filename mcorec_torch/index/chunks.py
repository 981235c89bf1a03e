"""Segments without transcripts (SPEC §12): the chunks a model decodes on a split with or
without ``labels/``. One function per source of ``DatasetOptions.segments``:

* ``"asd"``: the baseline's chunks of each central track's ``track_XX_asd.json``
  (:mod:`.asd_chunks`; ``chunk_size`` is its ``max_chunk_size``; ``asd_exact_baseline`` picks
  what the baseline's inference runs (25-frame merge gap, last frame dropped) or the documented
  parameter table with the corrected end frame: :func:`.asd_chunks.chunking_parameters`). A
  track whose crop lists no ``asd`` file gets fixed windows instead, as
  the baseline's inference does, with a warning.
* ``"windows"``: each track cut into ``ceil(n / W)`` equal windows of at most ``W =
  int(chunk_size * 25)`` frames (the last one shorter).
* ``"ranges"``: the cue times of any VTT-like file, ``SESSION/<label_dir>/spk_N.vtt`` (text
  ignored; speakers without a file get no chunks).

Every function returns ``(chunks, faults)``: chunks as ``(F0, F1, start_ms, end_ms)`` on the
central timeline, sorted and without duplicates, and the outcome names of what was not a
chunk (counted in the index report by the builder).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..corpus.asd_scores import read_asd_scores
from ..corpus.cues import cue_fault
from ..corpus.layout import vtt_path
from ..corpus.metadata import SessionMetadata, ViewInfo
from ..corpus.vtt import read_vtt
from ..errors import MCoRecDataError
from ..timeline import cue_frames, frame_to_ms, seconds_to_frames
from .asd_chunks import AsdParameters, asd_chunks, asd_regions, chunk_frames, chunking_parameters
from .options import DatasetOptions
from .segment_index import Track

logger = logging.getLogger(__name__)

Chunk = Tuple[int, int, int, int]  # F0, F1 (central frames), start_ms, end_ms
DUPLICATE = "duplicate"


def _framed(spans: Sequence[Tuple[int, int]]) -> List[Chunk]:
    return [(f0, f1, frame_to_ms(f0), frame_to_ms(f1)) for f0, f1 in spans]


def window_spans(start: int, num_frames: int, window_s: float) -> List[Tuple[int, int]]:
    """``[F0, F1)`` of the equal windows over frames ``[start, start + num_frames)``: ``ceil(n / W)``
    windows of ``ceil(n / windows)`` frames, ``W = int(window_s * 25)``."""
    width = max(1, seconds_to_frames(window_s))
    n = int(num_frames)
    if n <= 0:
        return []
    size = -(-n // -(-n // width))
    return [(start + a, start + min(a + size, n)) for a in range(0, n, size)]


def asd_track_spans(path, track_start: int, params: AsdParameters, exact_baseline: bool,
                    speaker: str = "") -> List[Tuple[int, int]]:
    """``[F0, F1)`` central frames of the ASD chunks of the track starting at central frame
    ``track_start`` (the scores' smallest key is its first frame). ``path`` is an ASD file
    that metadata lists (for ``speaker``): a missing one is an error, never no activity."""
    if not Path(path).is_file():
        raise MCoRecDataError(path, f"ASD scores listed in metadata.json ({speaker}) do not exist")
    frames, scores = read_asd_scores(path)
    return score_spans(frames, scores, track_start, params, exact_baseline)


def score_spans(frames: np.ndarray, scores: np.ndarray, track_start: int, params: AsdParameters,
                exact_baseline: bool, split: bool = True) -> List[Tuple[int, int]]:
    """``[F0, F1)`` central frames of the ASD chunks of one track's scores (``frames``: its keys,
    sorted, as :func:`~mcorec_torch.corpus.asd_scores.read_asd_scores` returns them; the smallest
    is central frame ``track_start``); ``split=False``: of its regions, not cut into chunks
    (:func:`.asd_chunks.asd_regions`)."""
    if len(frames) == 0:
        return []
    first_key = int(frames[0])
    found = asd_chunks(frames, scores, params) if split else asd_regions(frames, scores, params)
    return [chunk_frames(c, first_key, track_start, exact_baseline) for c in found]


def plan_chunks(options: DatasetOptions, meta: SessionMetadata, speaker: str, view: ViewInfo,
                tracks: Sequence[Optional[Track]], session_frames=None) -> Tuple[List[Chunk], List[str]]:
    """The chunks of one speaker by ``options.segments`` (``tracks``: the speaker's tracks of
    ``view``, in the order of ``view.crops``; a crop the index cannot use is a track spanning what
    its track json says, whose chunks then count as ``bad_file``, or ``None``: no chunks)."""
    faults: List[str] = []
    chunks: List[Chunk] = []
    if options.segments == "ranges":
        path = vtt_path(meta.session_dir, speaker, options.label_dir)
        if not path.is_file():
            logger.warning("segments='ranges': %s does not exist; speaker %s/%s gets no chunks",
                           path, meta.name, speaker)
            return [], []
        for cue in read_vtt(path):
            fault = cue_fault(cue, None, session_frames)  # the usable-cue rule, without the UEM
            if fault is not None:
                faults.append(fault)
            else:
                chunks.append((*cue_frames(cue.start_ms, cue.end_ms), cue.start_ms, cue.end_ms))
    else:
        params = chunking_parameters(options.asd_exact_baseline, options.chunk_size)
        windows = 0
        for crop, track in zip(view.crops, tracks):
            if track is None:  # a crop whose track json does not read (the index lists it as unusable)
                continue
            if options.segments == "asd" and crop.asd is not None:
                chunks += _framed(asd_track_spans(meta.path(crop.asd), track.start, params,
                                                  options.asd_exact_baseline, speaker))
            else:
                windows += options.segments == "asd"
                chunks += _framed(window_spans(track.start, track.num_frames, options.chunk_size))
        if windows:
            logger.warning("segments='asd': %d track(s) of %s/%s list no asd scores; fixed %.1f s windows "
                           "instead", windows, meta.name, speaker, options.chunk_size)
    unique = sorted(set(chunks))
    faults += [DUPLICATE] * (len(chunks) - len(unique))
    return unique, faults
