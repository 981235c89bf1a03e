"""Which segments of a dataset a view keeps: ``MCoRecDataset.select`` and the held-out splits
(``split_by_session``, ``split_by_speaker``), decided here as a boolean mask over the dataset's
items; ``MCoRecDataset`` (the data layer) builds the view from it. No torch.

Rules (docs/research.md, "Selecting and describing"):

- ``sessions``: session folder names; ``speakers``: ``"SESSION/SPEAKER"``; ``conversations``:
  ``"SESSION/ID"`` (one conversation of one session) or ``ID`` (that conversation id in every
  session; ids come from ``speaker_to_cluster.json``). An entry that names nothing of the
  dataset's index is an :class:`~mcorec_torch.checks.OptionError` naming it, with the closest
  name.
- ``min_duration``/``max_duration``: seconds of the cue (``end - start``), bounds included, the
  rule of the dataset options of the same names.
- ``where``: a callable on ``MCoRecDataset.segment_info`` (the sample's keys besides its
  media) returning a bool.
- Criteria combine with AND; the entries of one list with OR.
- Held-out splits: the sessions (or speakers) in a shuffle seeded by ``seed`` are taken into
  the held-out part until its segments come closest to ``fraction`` of the segments, keeping at
  least one session (speaker) in each part.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

import numpy as np

from ..checks import OptionError, check_choice, check_int, check_number, check_text
from .segment_index import SegmentIndex
from ..timeline import seconds_to_ms

__all__ = ["Selection", "SPLIT_UNITS", "HELD_OUT_PARTS", "check_held_out", "held_out_mask"]

#: What a held-out split keeps apart: every segment of a session (speaker) is in one part.
SPLIT_UNITS = ("session", "speaker")
#: The two parts of a held-out split, in the order ``split_by_session`` returns them.
HELD_OUT_PARTS = ("rest", "held_out")

Where = Callable[[Dict[str, Any]], Any]


def _entries(name: str, values: Optional[Iterable[Any]]) -> Optional[Tuple[Any, ...]]:
    """``values`` as a tuple (a single string is one entry); ``None`` stays ``None``."""
    if values is None:
        return None
    if isinstance(values, (str, int)):
        values = [values]
    try:
        return tuple(values)
    except TypeError:
        raise OptionError(name, f"{name} must be a list of names, got {values!r}") from None


def _closest(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Selection:
    """The criteria of ``MCoRecDataset.select`` (module docstring), validated on creation;
    :meth:`mask` applies them to a dataset's items. ``None``: no criterion."""

    sessions: Optional[Tuple[str, ...]] = None
    speakers: Optional[Tuple[str, ...]] = None
    conversations: Optional[Tuple[Union[str, int], ...]] = None
    min_duration: Optional[float] = None
    max_duration: Optional[float] = None
    where: Optional[Where] = None

    def __post_init__(self) -> None:
        for name in ("sessions", "speakers", "conversations"):
            entries = _entries(name, getattr(self, name))
            if entries is not None:
                if name != "conversations":
                    entries = tuple(check_text(name, e) for e in entries)
                object.__setattr__(self, name, entries)
        if self.speakers is not None:
            for entry in self.speakers:
                if entry.count("/") != 1 or not all(entry.split("/")):
                    raise OptionError("speakers", f"speakers must be SESSION/SPEAKER entries (e.g. "
                                                  f"'session_00/spk_1'), got {entry!r}")
        if self.conversations is not None:
            object.__setattr__(self, "conversations", tuple(_conversation(e) for e in self.conversations))
        low = check_number("min_duration", self.min_duration, minimum=0.0, unit="seconds", optional=True)
        high = check_number("max_duration", self.max_duration, minimum=0.0, unit="seconds", optional=True)
        if low is not None and high is not None and high < low:
            raise OptionError("max_duration", f"max_duration must be >= min_duration ({low:g} seconds), got {high!r}")
        object.__setattr__(self, "min_duration", low)
        object.__setattr__(self, "max_duration", high)
        if self.where is not None and not callable(self.where):
            raise OptionError("where", f"where must be a callable on a segment's info dict, got {self.where!r}")

    def describe(self) -> str:
        """The criteria as ``select(name=value, ...)``, for messages."""
        given = [f"{name}={getattr(self, name)!r}" for name in
                 ("sessions", "speakers", "conversations", "min_duration", "max_duration")
                 if getattr(self, name) is not None]
        if self.where is not None:
            given.append(f"where={getattr(self.where, '__name__', 'a callable')}")
        return f"select({', '.join(given)})"

    def mask(self, index: SegmentIndex, rows: np.ndarray, info: Callable[[int], Dict[str, Any]]) -> np.ndarray:
        """Which items (index rows ``rows``) the criteria keep: a bool array like ``rows``.
        ``info(i)``: item ``i``'s info dict, asked only for items the other criteria keep."""
        keep = np.ones(len(rows), dtype=bool)
        speaker_of = index.speaker[rows].astype(np.int64)
        names = _Names(index)
        if self.sessions is not None:
            keep &= np.isin(names.session_of_speaker[speaker_of], names.session_rows(self.sessions))
        if self.speakers is not None:
            keep &= np.isin(speaker_of, names.speaker_rows(self.speakers))
        if self.conversations is not None:
            keep &= np.isin(speaker_of, names.conversation_speaker_rows(self.conversations))
        duration_ms = (index.end_ms[rows] - index.start_ms[rows]).astype(np.int64)
        if self.min_duration is not None:
            keep &= duration_ms >= seconds_to_ms(self.min_duration)
        if self.max_duration is not None:
            keep &= duration_ms <= seconds_to_ms(self.max_duration)
        if self.where is not None:
            for i in np.flatnonzero(keep):
                keep[i] = _where_result(self.where, info(int(i)), int(i))
        return keep


def _conversation(entry: Any) -> Union[str, int]:
    """A conversations entry as ``"SESSION/ID"`` or an int ``ID`` (``"3"`` is ``3``)."""
    if isinstance(entry, bool):
        raise OptionError("conversations", f"conversations must be SESSION/ID entries or ids, got {entry!r}")
    if isinstance(entry, (int, np.integer)):
        return int(entry)
    text = check_text("conversations", entry)
    session, slash, number = text.rpartition("/")
    if not number.lstrip("-").isdigit() or (slash and not session):
        raise OptionError("conversations", f"conversations must be SESSION/ID entries (e.g. 'session_00/1') or "
                                           f"ids, got {entry!r}")
    return f"{session}/{int(number)}" if slash else int(number)


def _where_result(where: Where, info: Dict[str, Any], item: int) -> bool:
    """``where(info)`` as a bool; anything but a bool is an OptionError (a function that forgot
    its ``return`` must not select nothing)."""
    result = where(info)
    if not isinstance(result, (bool, np.bool_)):
        raise OptionError("where", f"where must return True or False, got {result!r} for segment "
                                   f"{info.get('id', item)!r}")
    return bool(result)


class _Names:
    """The sessions, speakers and conversations of an index by name, for checking entries."""

    def __init__(self, index: SegmentIndex) -> None:
        self.index = index
        self.session_of_speaker = np.asarray([s.session for s in index.speakers], dtype=np.int64)
        self.sessions: Dict[str, List[int]] = {}
        for row, session in enumerate(index.sessions):
            self.sessions.setdefault(session.name, []).append(row)
        self.speakers: Dict[Tuple[str, str], List[int]] = {}
        for row, speaker in enumerate(index.speakers):
            key = (index.sessions[speaker.session].name, speaker.name)
            self.speakers.setdefault(key, []).append(row)

    def session_rows(self, names: Sequence[str]) -> np.ndarray:
        rows: List[int] = []
        for name in names:
            if name not in self.sessions:
                raise OptionError("sessions", f"sessions must name sessions of the dataset, got {name!r}: there is "
                                              f"no session {name!r}{_closest(name, sorted(self.sessions))}")
            rows += self.sessions[name]
        return np.asarray(rows, dtype=np.int64)

    def _speakers_of(self, session: str, option: str, entry: str) -> Dict[str, List[int]]:
        if session not in self.sessions:
            raise OptionError(option, f"{option} must name sessions of the dataset, got {entry!r}: there is no "
                                      f"session {session!r}{_closest(session, sorted(self.sessions))}")
        return {name: rows for (s, name), rows in self.speakers.items() if s == session}

    def speaker_rows(self, entries: Sequence[str]) -> np.ndarray:
        rows: List[int] = []
        for entry in entries:
            session, speaker = entry.split("/")
            known = self._speakers_of(session, "speakers", entry)
            if speaker not in known:
                close = difflib.get_close_matches(speaker, sorted(known), n=1)
                hint = f" (did you mean '{session}/{close[0]}'?)" if close else ""
                raise OptionError("speakers", f"speakers must name SESSION/SPEAKER of the dataset, got {entry!r}: "
                                              f"session {session!r} has no speaker {speaker!r} (speakers: "
                                              f"{', '.join(sorted(known)) or 'none'}){hint}")
            rows += known[speaker]
        return np.asarray(rows, dtype=np.int64)

    def conversation_speaker_rows(self, entries: Sequence[Union[str, int]]) -> np.ndarray:
        rows: Set[int] = set()
        for entry in entries:
            if isinstance(entry, int):
                found = [r for r, s in enumerate(self.index.speakers) if s.conversation == entry]
                if not found:
                    ids = sorted({s.conversation for s in self.index.speakers})
                    raise OptionError("conversations", f"conversations must name conversations of the dataset, got "
                                                       f"{entry!r}: no session has conversation {entry} (ids: "
                                                       f"{', '.join(map(str, ids)) or 'none'})")
            else:
                session, number = entry.rsplit("/", 1)
                known = self._speakers_of(session, "conversations", entry)
                found = [r for speaker_rows in known.values() for r in speaker_rows
                         if self.index.speakers[r].conversation == int(number)]
                if not found:
                    ids = sorted({self.index.speakers[r].conversation for rs in known.values() for r in rs})
                    raise OptionError("conversations", f"conversations must name conversations of the dataset, got "
                                                       f"{entry!r}: session {session!r} has no conversation {number} "
                                                       f"(ids: {', '.join(map(str, ids)) or 'none'})")
            rows.update(found)
        return np.asarray(sorted(rows), dtype=np.int64)


def _unit_keys(index: SegmentIndex, rows: np.ndarray, by: str) -> Tuple[np.ndarray, List[Tuple[str, ...]]]:
    """Per item the id of its session (``by="session"``) or speaker, and per id a sort key
    (split, session[, speaker]) that does not depend on the order of the roots."""
    speaker_of = index.speaker[rows].astype(np.int64)
    if by == "session":
        unit_of = np.asarray([s.session for s in index.speakers], dtype=np.int64)[speaker_of]
        keys = [(s.name, s.split) for s in index.sessions]
    else:
        unit_of = speaker_of
        keys = [(index.sessions[s.session].name, s.name, index.sessions[s.session].split) for s in index.speakers]
    return unit_of, keys


def check_held_out(by: str, fraction: float, seed: int) -> Tuple[str, float, int]:
    """``(by, fraction, seed)`` of a held-out split, checked: ``by`` one of :data:`SPLIT_UNITS`,
    ``fraction`` in (0, 1), ``seed`` an integer >= 0 (:class:`~mcorec_torch.checks.OptionError`)."""
    by = check_choice("by", by, SPLIT_UNITS)
    fraction = check_number("fraction", fraction)
    if not 0.0 < fraction < 1.0:
        raise OptionError("fraction", f"fraction must be > 0 and < 1 (the held-out share of the segments), "
                                      f"got {fraction!r}")
    return by, fraction, check_int("seed", seed, minimum=0)


def held_out_mask(index: SegmentIndex, rows: np.ndarray, by: str, fraction: float, seed: int) -> np.ndarray:
    """Which items (index rows ``rows``) go to the held-out part of a split by ``by``
    (``"session"`` or ``"speaker"``): the units (sessions or speakers with segments here), in
    the order of a shuffle seeded by ``seed`` of their names, are taken into the held-out part
    while that brings its segments closer to ``fraction`` of all segments, at least one unit
    and at most all but one. Deterministic for a seed (and whatever the order of the roots)."""
    by, fraction, seed = check_held_out(by, fraction, seed)
    unit_of, keys = _unit_keys(index, rows, by)
    units, counts = np.unique(unit_of, return_counts=True)
    if len(units) < 2:
        raise OptionError("fraction", f"a split by {by} needs segments of at least 2 {by}s, the dataset has "
                                      f"{len(units)} ({len(rows)} segments)")
    order = sorted(range(len(units)), key=lambda k: keys[int(units[k])])
    shuffled = [order[k] for k in np.random.default_rng(seed).permutation(len(order))]
    target = fraction * len(rows)
    taken, total = [shuffled[0]], int(counts[shuffled[0]])
    for k in shuffled[1:-1]:
        if abs(total + int(counts[k]) - target) >= abs(total - target):
            break
        taken.append(k)
        total += int(counts[k])
    return np.isin(unit_of, units[taken])
