"""A baseline conversation clustering from active-speaker scores (SPEC §12) — not the data
library's core: a complete, scoreable ``speaker_to_cluster.json`` from day one.

Inputs, per session: each speaker's **activity timeline** (central frames inside the
speaker's central UEM covered by the spans of the baseline's ASD chunks, :mod:`..index.asd_chunks`,
of all the speaker's central tracks), and pairwise statistics of those timelines as
``[S, S]`` arrays (frames at 25 fps): ``overlap`` (both speak), ``non_overlap`` (exactly one
of the two), ``score`` (the baseline's ``1 - overlap / (overlap + non_overlap)``, 0 when
neither speaks: people in one conversation take turns, people in different ones talk over
each other), and ``turns`` (how often one starts within 1 s after the other stopped).

Clustering: the baseline's complete-linkage agglomerative clustering on ``1 - score``,
merging while the closest clusters are nearer than ``1 - threshold`` (``threshold=0.7``),
at most ``max_conversations`` (4) clusters.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..corpus.metadata import load_metadata, read_track_json
from ..errors import PathLike
from ..index.asd_chunks import CENTRAL_ASD, AsdParameters
from ..index.chunks import asd_track_spans
from ..timeline import FPS, cue_frames


def activity_timelines(session_dir: PathLike, params: AsdParameters = CENTRAL_ASD) -> Tuple[List[str], np.ndarray]:
    """``(speakers, active)``: the speakers of ``metadata.json`` and a bool array ``[S, N]``
    (``N`` central frames, to the end of the last UEM) of where ASD says each speaks."""
    meta = load_metadata(session_dir)
    speakers = list(meta.speakers)
    spans: Dict[str, List[Tuple[int, int]]] = {}
    uems: Dict[str, Tuple[int, int]] = {}
    for name, info in meta.speakers.items():
        spans[name] = []
        if info.central is None:
            uems[name] = (0, 0)
            continue
        uems[name] = cue_frames(*info.central.uem_ms)
        for crop in info.central.crops:
            if crop.asd is not None:
                start = read_track_json(meta.path(crop.crop_metadata)).frame_start
                spans[name] += asd_track_spans(meta.path(crop.asd), start, params, False, name)
    length = max([u[1] for u in uems.values()] + [f1 for s in spans.values() for _, f1 in s] + [0])
    active = np.zeros((len(speakers), length), dtype=bool)
    for k, name in enumerate(speakers):
        for f0, f1 in spans[name]:
            active[k, max(f0, 0):f1] = True
        lo, hi = uems[name]
        active[k, :lo] = False
        active[k, hi:] = False
    return speakers, active


def conversation_statistics(active: np.ndarray, turn_gap_s: float = 1.0) -> Dict[str, np.ndarray]:
    """Pairwise statistics of activity timelines ``[S, N]`` (see the module docstring)."""
    a = np.asarray(active, dtype=bool)
    counts = a.sum(axis=1).astype(np.int64)
    overlap = (a[:, None, :] & a[None, :, :]).sum(axis=2).astype(np.int64)
    non_overlap = counts[:, None] + counts[None, :] - 2 * overlap
    union = overlap + non_overlap
    score = np.where(union > 0, 1.0 - overlap / np.maximum(union, 1), 0.0)
    np.fill_diagonal(score, 0.0)
    turns = np.zeros_like(overlap)
    gap = int(round(turn_gap_s * FPS))
    edges = np.diff(np.pad(a.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    starts = [np.flatnonzero(e == 1) for e in edges]
    stops = [np.flatnonzero(e == -1) for e in edges]
    for i in range(len(a)):
        for j in range(len(a)):
            if i != j and len(stops[i]) and len(starts[j]):
                delay = starts[j][None, :] - stops[i][:, None]
                turns[i, j] += int(((delay >= 0) & (delay <= gap)).any(axis=1).sum())
    turns = turns + turns.T
    return {"frames": counts, "overlap": overlap, "non_overlap": non_overlap, "score": score, "turns": turns}


def cluster_speakers(score: np.ndarray, threshold: float = 0.7, max_conversations: Optional[int] = 4) -> List[int]:
    """Complete-linkage agglomerative clustering of a ``[S, S]`` same-conversation score;
    returns a conversation id per speaker (0, 1, ... in order of first appearance)."""
    n = len(score)
    distance = 1.0 - np.asarray(score, dtype=np.float64)
    clusters: List[List[int]] = [[i] for i in range(n)]
    while len(clusters) > 1:
        best, pair = None, None
        for x in range(len(clusters)):
            for y in range(x + 1, len(clusters)):
                d = max(distance[i, j] for i in clusters[x] for j in clusters[y])
                if best is None or d < best:
                    best, pair = d, (x, y)
        too_many = max_conversations is not None and len(clusters) > max_conversations
        if best >= 1.0 - threshold and not too_many:
            break
        x, y = pair
        clusters[x] += clusters.pop(y)
    labels = [0] * n
    for number, members in enumerate(sorted(clusters, key=min)):
        for i in members:
            labels[i] = number
    return labels


def cluster_session(session_dir: PathLike, threshold: float = 0.7, params: AsdParameters = CENTRAL_ASD) -> Dict[str, int]:
    """``{speaker: conversation id}`` of one session from its ASD scores."""
    speakers, active = activity_timelines(Path(session_dir), params)
    labels = cluster_speakers(conversation_statistics(active)["score"], threshold)
    return dict(zip(speakers, labels))
