"""Who speaks when, as sample keys (SPEC §4, the ``activity`` and ``non_target`` options).

With ``activity`` set, every sample gets (frames ``[F0, F1)`` on the central timeline, also
for ``view="ego"`` segments, whose frames are the same instants on the ego timeline):

* ``activity`` bool ``[T, S]``: every speaker of the session's ``metadata.json`` (``exclude``d
  speakers too: they still speak), the target in column 0, the others in the order of
  ``metadata.json`` (``spk_2`` before ``spk_10``); ``activity_speakers`` names the columns;
* ``stno`` float32 ``[T, 4]``, one-hot: silence, target alone, non-target alone, overlap
  (:func:`~mcorec_torch.index.activity.stno_from_activity`; who is non-target: ``non_target``);
* with ``activity="asd"``, ``activity_scores`` float32 ``[T, S]``: the ASD scores, 0 where none.

The sources and what "not known" means are in :mod:`mcorec_torch.index.activity`; a speaker
counts as not speaking where their source says nothing, and :func:`activity_coverage` counts
those frames. Each session's activity is computed once per process, on the first sample of the
session that process loads (a DataLoader worker computes its own).
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import torch

from ..checks import OptionError
from ..corpus.layout import cluster_path, labels_dir_exists
from ..corpus.metadata import load_metadata
from ..index.activity import (SessionActivity, non_target_columns, session_activity, session_conversations,
                              stno_from_activity)
from ..index.options import DatasetOptions
from ..index.segment_index import SegmentIndex
from ..timeline import SAMPLES_PER_FRAME
from .sample import ACTIVITY_SPEAKERS

__all__ = ["ActivityTable", "activity_coverage", "check_activity_options"]


class ActivityTable:
    """The activity of the sessions of ``index`` by ``options.activity``, computed on first use
    (per process) and cut into sample keys by :meth:`sample_keys`."""

    def __init__(self, index: SegmentIndex, options: DatasetOptions) -> None:
        if options.activity is None:
            raise ValueError("ActivityTable needs options.activity ('labels' or 'asd')")
        self.index = index
        self.options = options
        self._sessions: Dict[int, SessionActivity] = {}

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_sessions"] = {}  # recomputed where used (a spawned worker's own sessions)
        return state

    def session(self, session: int) -> SessionActivity:
        """The activity of session row ``session`` of the index (computed once per process)."""
        found = self._sessions.get(session)
        if found is None:
            options = self.options
            found = session_activity(self.index.sessions[session].path, options.activity, options.label_dir,
                                     options.asd_exact_baseline)
            self._sessions[session] = found
        return found

    def _non_target(self, table: SessionActivity, name: str) -> np.ndarray:
        """Bool ``[S]``: the columns of target ``name`` that ``stno`` counts as non-target."""
        try:
            return non_target_columns(table, name, self.options.non_target)
        except ValueError as exc:  # a speaker without a conversation (checked when the dataset is built)
            raise OptionError("non_target", str(exc)) from None

    def columns(self, row: int) -> List[str]:
        """``activity_speakers`` of index row ``row``: its session's speakers, its own first."""
        speaker = self.index.speakers[int(self.index.speaker[row])]
        table = self.session(speaker.session)
        return [table.speakers[k] for k in table.column_order(speaker.name)]

    def sample_keys(self, row: int) -> Dict[str, Any]:
        """``activity``, ``activity_speakers``, ``stno`` (and ``activity_scores``) of index row ``row``."""
        index = self.index
        speaker = index.speakers[int(index.speaker[row])]
        table = self.session(speaker.session)
        f0, f1 = int(index.frame_start[row]), int(index.frame_end[row])
        active, _known, scores = table.window(speaker.name, f0, f1)
        columns = self._non_target(table, speaker.name)
        keys: Dict[str, Any] = {
            "activity": torch.from_numpy(np.ascontiguousarray(active.T)),
            ACTIVITY_SPEAKERS: self.columns(row),
            "stno": torch.from_numpy(stno_from_activity(active, columns)),
        }
        if scores is not None:
            keys["activity_scores"] = torch.from_numpy(np.ascontiguousarray(scores.T))
        return keys


    def with_interferer(self, row: int, other_row: int, shift: int) -> Dict[str, torch.Tensor]:
        """``activity``, ``stno`` (and ``activity_scores``) of index row ``row`` after the audio of
        index row ``other_row`` (a segment of the same session) was added to its audio, shifted by
        ``shift`` samples (its sample ``s`` lands on the target's sample ``s + shift``; negative:
        its first ``-shift`` samples fall before the target's start).

        Whoever speaks on the added audio is heard on the target's frames too: every speaker's
        activity over ``other_row``'s frames (the target's column order) is OR-ed onto the frames
        it lands on. An added frame that straddles two target frames (``shift`` not a multiple of
        640) marks both. Scores take the larger of the two. ``stno`` is derived again by the
        dataset's ``non_target`` rule."""
        index = self.index
        speaker = index.speakers[int(index.speaker[row])]
        other = index.speakers[int(index.speaker[other_row])]
        if other.session != speaker.session:
            raise ValueError(f"the interferer {index.segment_id(other_row)} is not of the session of "
                             f"{index.segment_id(row)}: its speakers are not the activity columns")
        table = self.session(speaker.session)
        active, _known, scores = table.window(speaker.name, int(index.frame_start[row]), int(index.frame_end[row]))
        added, _known, added_scores = table.window(speaker.name, int(index.frame_start[other_row]),
                                                   int(index.frame_end[other_row]))
        frames, added_frames = active.shape[1], added.shape[1]
        for lag in sorted({shift // SAMPLES_PER_FRAME, -(-shift // SAMPLES_PER_FRAME)}):
            lo, hi = max(lag, 0), min(frames, added_frames + lag)  # target frames reached at this lag
            if hi <= lo:
                continue
            active[:, lo:hi] |= added[:, lo - lag: hi - lag]
            if scores is not None:
                np.maximum(scores[:, lo:hi], added_scores[:, lo - lag: hi - lag], out=scores[:, lo:hi])
        keys = {"activity": torch.from_numpy(np.ascontiguousarray(active.T)),
                "stno": torch.from_numpy(stno_from_activity(active, self._non_target(table, speaker.name)))}
        if scores is not None:
            keys["activity_scores"] = torch.from_numpy(np.ascontiguousarray(scores.T))
        return keys


def check_activity_options(index: SegmentIndex, options: DatasetOptions) -> None:
    """Refuse, before any sample is loaded, ``activity``/``non_target`` settings the data cannot
    serve (an :class:`~mcorec_torch.checks.OptionError` naming the option and a session):
    ``activity="labels"`` on a session without its transcript folder, ``activity="asd"`` on a
    session whose ``metadata.json`` lists no ASD scores, ``non_target`` other than ``"all"`` on a
    session where ``speaker_to_cluster.json`` does not give every speaker's conversation."""
    if options.activity is None:
        return
    for session in index.sessions:
        if options.activity == "labels" and not labels_dir_exists(session.path, options.label_dir):
            raise OptionError("activity", f"activity='labels' reads the transcripts of every speaker, and session "
                                          f"{session.path} has no {options.label_dir}/ folder (activity='asd' reads "
                                          "its ASD scores)")
        if options.activity == "asd":
            meta = load_metadata(session.path)
            if not any(crop.asd for info in meta.speakers.values() if info.central for crop in info.central.crops):
                raise OptionError("activity", f"activity='asd' reads the ASD scores of the central tracks, and "
                                              f"metadata.json of session {session.path} lists none")
        if options.non_target != "all":
            missing = [name for name, c in session_conversations(session.path, options.label_dir).items() if c < 0]
            if missing:
                raise OptionError("non_target", f"non_target={options.non_target!r} needs every speaker's "
                                                f"conversation, and {cluster_path(session.path, options.label_dir)} "
                                                f"gives none for {', '.join(missing)} (non_target='all' does not "
                                                "need it)")


def activity_coverage(dataset: Any) -> Dict[str, Dict[str, Any]]:
    """Where the activity of a dataset with the ``activity`` option is not known (the speaker is
    then counted as not speaking), over the frames of its segments: ``{"split/session": {"frames":
    frames of its segments, "unknown": {speaker: frames of those segments on which that
    speaker's source says nothing}}}`` (every speaker of the session listed; 0: known
    everywhere). Loads no media."""
    table: ActivityTable = dataset.activity_table
    index = dataset.index
    rows = np.asarray([dataset.index_row(i) for i in range(len(dataset))], dtype=np.int64)
    sessions = np.asarray([index.speakers[int(s)].session for s in index.speaker[rows]], dtype=np.int64)
    out: Dict[str, Dict[str, Any]] = {}
    for session in sorted(set(sessions.tolist())):
        activity = table.session(session)
        unknown_before = np.zeros((len(activity.speakers), activity.num_frames + 1), dtype=np.int64)
        np.cumsum(~activity.known, axis=1, out=unknown_before[:, 1:])
        mine = rows[sessions == session]
        f0 = index.frame_start[mine].astype(np.int64)
        f1 = index.frame_end[mine].astype(np.int64)
        inside0 = np.clip(f0, 0, activity.num_frames)
        inside1 = np.clip(f1, 0, activity.num_frames)
        # frames of [f0, f1) outside [0, N) are not known either
        outside = (f1 - f0) - (inside1 - inside0)
        unknown = (unknown_before[:, inside1] - unknown_before[:, inside0]).sum(axis=1) + outside.sum()
        counts: List[int] = [int(n) for n in unknown]
        entry = index.sessions[session]
        out[f"{entry.split}/{entry.name}"] = {"frames": int((f1 - f0).sum()),
                                              "unknown": dict(zip(activity.speakers, counts))}
    return out
