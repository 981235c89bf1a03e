"""A baseline conversation clustering from active-speaker scores (SPEC §12) — not the data
library's core: a complete, scoreable ``speaker_to_cluster.json`` from day one.

It follows the official baseline (``src/cluster/conv_spks.py``: ``get_speaker_activity_segments``,
``calculate_conversation_scores``, ``cluster_speakers``):

* **Activity.** A speaker's central tracks' scores are put together on the central timeline
  (each track's smallest key is its first frame; a later track wins a frame two share, as
  the baseline's ``dict.update`` of the files in name order) and chunked *as one sequence*
  by :func:`~mcorec_torch.index.asd_chunks.asd_chunks` with the parameters the baseline's
  call without parameters gets (:data:`ACTIVITY_ASD`: gaps of up to 25 frames merged, chunks
  of at most 10 s). A chunk is active on frames ``[first, last)`` (the baseline's
  ``(first/25, last/25)``). As in the baseline, a chunk that ends before the speaker's
  central UEM starts, or starts after it ends, is left out and the others are kept whole
  (not clipped). The baseline then shifts each speaker's times by its own UEM start; that
  shift is left out here (the same for speakers who share a UEM, it would otherwise move
  speakers with different UEMs against each other).
* **Statistics** of pairs of timelines as ``[S, S]`` arrays (frames at 25 fps): ``overlap``
  (both speak), ``non_overlap`` (exactly one of the two), ``score`` (the baseline's
  ``1 - overlap / (overlap + non_overlap)``, 0 when neither speaks: people in one
  conversation take turns, people in different ones talk over each other), and ``turns``
  (how often one starts within 1 s after the other stopped).
* **Clustering**: the baseline's complete-linkage agglomerative clustering on ``1 - score``,
  merging while the closest clusters are nearer than ``1 - threshold`` (``threshold=0.7``),
  at most ``max_conversations`` (4) clusters.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..corpus.asd_scores import read_asd_scores
from ..corpus.metadata import load_metadata, read_track_json
from ..errors import MCoRecDataError, PathLike
from ..index.asd_chunks import CENTRAL_ASD, TABLE_MAX_CHUNK_SIZE, AsdParameters, asd_chunks
from ..timeline import FPS, frame_to_ms

#: The chunking behind the activity: the official clustering calls ``segment_by_asd`` without
#: parameters, so the table's ``max_chunk_size`` (10 s) and the 25-frame merge gap apply.
ACTIVITY_ASD = dataclasses.replace(CENTRAL_ASD, max_chunk_size=TABLE_MAX_CHUNK_SIZE)

#: One track's scores: ``(central frame of its first key, key frames, scores)``.
TrackScores = Tuple[int, np.ndarray, np.ndarray]


def merged_scores(tracks: Sequence[TrackScores]) -> Tuple[np.ndarray, np.ndarray]:
    """``(frames, scores)`` of one speaker on central frames, sorted: key ``k`` of a track is
    frame ``start + k - first key``; where tracks share a frame, the later one's score."""
    frames = [start + np.asarray(keys, np.int64) - int(keys[0]) for start, keys, _ in tracks if len(keys)]
    if not frames:
        return np.zeros(0, np.int64), np.zeros(0)
    all_frames = np.concatenate(frames)
    all_scores = np.concatenate([np.asarray(s, np.float64) for _, keys, s in tracks if len(keys)])
    last = len(all_frames) - 1 - np.unique(all_frames[::-1], return_index=True)[1]  # the last of each frame
    return all_frames[last], all_scores[last]


def speaker_activity(tracks: Sequence[TrackScores], uem_ms: Tuple[int, int], length: int,
                     params: AsdParameters = ACTIVITY_ASD) -> np.ndarray:
    """Bool ``[length]``: the central frames on which the chunks of the speaker's merged
    scores are active (frames ``[first, last)``), for the chunks that reach into the UEM
    ``uem_ms`` (``(start, end)`` ms): not ending before its start nor starting after its end."""
    active = np.zeros(int(length), dtype=bool)
    frames, scores = merged_scores(tracks)
    for chunk in asd_chunks(frames, scores, params):
        if frame_to_ms(chunk.last) >= uem_ms[0] and frame_to_ms(chunk.first) <= uem_ms[1]:
            active[max(chunk.first, 0):max(chunk.last, 0)] = True
    return active


def _session_tracks(session_dir: PathLike) -> Tuple[List[str], Dict[str, Tuple[int, int]], Dict[str, List[TrackScores]]]:
    """The speakers of ``metadata.json``, their central UEMs (ms) and their tracks' scores
    (in the order of the ASD file names). A listed ASD file that is missing is an error."""
    meta = load_metadata(session_dir)
    uems: Dict[str, Tuple[int, int]] = {}
    tracks: Dict[str, List[TrackScores]] = {}
    for name, info in meta.speakers.items():
        uems[name], tracks[name] = (0, 0), []
        if info.central is None:
            continue
        uems[name] = info.central.uem_ms
        listed = []
        for crop in info.central.crops:
            if crop.asd is None:
                continue
            path = meta.path(crop.asd)
            if not path.is_file():
                raise MCoRecDataError(path, f"ASD scores listed in metadata.json ({name}) do not exist")
            listed.append((path.name, read_track_json(meta.path(crop.crop_metadata)).frame_start, path))
        for _, start, path in sorted(listed):
            keys, scores = read_asd_scores(path)
            tracks[name].append((start, keys, scores))
    return list(meta.speakers), uems, tracks


def activity_timelines(session_dir: PathLike, params: AsdParameters = ACTIVITY_ASD) -> Tuple[List[str], np.ndarray]:
    """``(speakers, active)``: the speakers of ``metadata.json`` and a bool array ``[S, N]``
    (``N`` central frames, to the last frame of any track) of where ASD says each speaks."""
    speakers, uems, tracks = _session_tracks(Path(session_dir))
    ends = [int(start + keys[-1] - keys[0]) + 1 for spk in tracks.values() for start, keys, _ in spk if len(keys)]
    length = max(ends + [0])
    active = np.zeros((len(speakers), length), dtype=bool)
    for k, name in enumerate(speakers):
        active[k] = speaker_activity(tracks[name], uems[name], length, params)
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


def cluster_session(session_dir: PathLike, threshold: float = 0.7, params: AsdParameters = ACTIVITY_ASD) -> Dict[str, int]:
    """``{speaker: conversation id}`` of one session from its ASD scores."""
    speakers, active = activity_timelines(Path(session_dir), params)
    labels = cluster_speakers(conversation_statistics(active)["score"], threshold)
    return dict(zip(speakers, labels))
