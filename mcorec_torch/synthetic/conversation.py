"""Who talks when in a synthetic session: conversations that hold a floor (SPEC §12's baseline
clustering reads exactly this structure from the ASD scores).

Each conversation is a sequence of **rounds** of 1.6-3.6 s; in every round one member, the
**holder**, speaks through it, and the others listen, now and then saying a short
backchannel (0.4-0.64 s):

* **turn-taking inside a conversation**: in conversation 0 the holder changes from round to
  round, or keeps the floor for a second round (probability :data:`KEEP_FLOOR`, never a
  third); turns are separated by gaps of 80-600 ms, sometimes (:data:`OVERLAP_AT_CHANGE`) by
  an overlap of 80-240 ms;
* **parallel conversations, in step**: conversation ``c``'s rounds are conversation 0's with
  every boundary moved later by a share of the round after it (``c *`` :data:`TWO_SHIFT` of
  two conversations, ``c / C`` of ``C > 2``; +-0.05), and its holder in round ``k`` is the
  *partner* (same position in the conversation, modulo its size) of conversation 0's holder
  in round ``k``. So every speaker talks over speakers of the other conversations for a
  planned share of its turns: over its partners for most of a turn, over the others at the
  changes of holder. Left to chance (independent conversations), the overlap ratios of a
  24 s session scatter around the baseline's threshold (two independent 2-person
  conversations overlap by about 1/3 of their union; the baseline merges below 0.3), and
  a speaker who happens to talk little overlaps nobody: the clustering would find the
  conversations by luck.

The floor comes first: a speaker's cues are its turns (:func:`speaker_cues`), and the edge
cases of the SPEC §4 rules are placed on them afterwards (:mod:`.edges`). Deterministic from
the generator passed in.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..timeline import MS_PER_FRAME

__all__ = ["Floor", "CuePlanner", "speaker_cues", "add_backchannel", "split_turn", "ROUND_MS", "KEEP_FLOOR",
           "TWO_SHIFT", "TURN_GAP_MS", "OVERLAP_AT_CHANGE", "BACKCHANNEL", "BACKCHANNEL_MS",
           "BACKCHANNEL_CLEARANCE", "MAX_CUE_MS", "MIN_CUE_MS"]

#: length of a round (ms, inclusive range)
ROUND_MS = (1600, 3600)
#: probability that a holder keeps the floor for the next round
KEEP_FLOOR = 0.2
#: how far (fraction of a round) conversation ``c`` of ``C`` moves its round boundaries after
#: conversation 0's: ``c * TWO_SHIFT`` for two conversations, ``c / C`` for more
TWO_SHIFT = 0.35
#: silence at each side of a change of holder (ms): gaps of 80-600 ms between turns
TURN_GAP_MS = (40, 300)
#: probability that the next holder starts 80-240 ms before the previous one stops
OVERLAP_AT_CHANGE = 0.1
#: probability per round and conversation of a backchannel by a listener, and its length (ms)
BACKCHANNEL = 0.15
BACKCHANNEL_MS = (400, 640)
#: a backchannel keeps this far (ms) from the listener's own turns: more than the 25-frame gap
#: the baseline's ASD chunks merge, so it never joins a turn into the holder's round
BACKCHANNEL_CLEARANCE = 1200
#: cues of a turn are 0.4-4 s; longer turns are said as several cues with 100-300 ms pauses
MIN_CUE_MS, MAX_CUE_MS = 400, 4000

Interval = Tuple[int, int]


def _rounds(rng: np.random.Generator, duration_ms: int) -> List[Interval]:
    """``[start, end)`` ms of the rounds: from 0.2-0.8 s to at most 0.2 s before the end."""
    rounds: List[Interval] = []
    t = int(rng.integers(200, 801))
    stop = duration_ms - 200
    while t + ROUND_MS[0] <= stop:
        end = min(t + int(rng.integers(ROUND_MS[0], ROUND_MS[1] + 1)), stop)
        if stop - end < ROUND_MS[0]:  # no room for another round: this one runs to the end
            end = stop
        rounds.append((t, end))
        t = end
    return rounds


def _shifted(rng: np.random.Generator, rounds: Sequence[Interval], shift: float) -> List[Interval]:
    """``rounds`` with every inner boundary moved later by ``shift`` (+-0.05) of the round after it."""
    bounds = [rounds[0][0]]
    for a, b in rounds[1:]:
        bounds.append(a + int((shift + rng.uniform(-0.05, 0.05)) * (b - a)))
    bounds.append(rounds[-1][1])
    return list(zip(bounds[:-1], bounds[1:]))


class CuePlanner:
    """The cues of one speaker, ``[start, end)`` ms, kept at least ``margin`` ms apart and
    inside ``[0, duration_ms]``."""

    def __init__(self, duration_ms: int, margin: int = 60) -> None:
        self.duration_ms = duration_ms
        self.margin = margin
        self.intervals: List[Interval] = []

    def free(self, start: int, end: int) -> bool:
        if start < 0 or end > self.duration_ms or end <= start:
            return False
        return all(end + self.margin <= s or start >= e + self.margin for s, e in self.intervals)

    def add(self, start: int, end: int) -> bool:
        if not self.free(start, end):
            return False
        self.intervals.append((start, end))
        return True


class Floor:
    """The rounds of each conversation and the holder of each of its rounds.

    ``conversations``: the speaker numbers of each conversation (conversation ``c`` is
    ``conversations[c]``; position ``j`` of a speaker is its index there)."""

    def __init__(self, rng: np.random.Generator, duration_ms: int, conversations: Sequence[Sequence[int]]) -> None:
        self.rng = rng
        self.conversations = [list(members) for members in conversations]
        self.conversation_of = {s: c for c, members in enumerate(self.conversations) for s in members}
        base = _rounds(rng, int(duration_ms))
        step = TWO_SHIFT if len(self.conversations) == 2 else 1.0 / len(self.conversations)
        self.rounds: List[List[Interval]] = [base] + [_shifted(rng, base, c * step) if base else []
                                                       for c in range(1, len(self.conversations))]
        self.holders: List[List[int]] = [self._reference_holders()]
        self.holders += [self._follower_holders(c) for c in range(1, len(self.conversations))]

    def _reference_holders(self) -> List[int]:
        """Conversation 0: the holder changes each round, or keeps it for a second one
        (:data:`KEEP_FLOOR`)."""
        held: List[int] = []
        for _ in self.rounds[0]:
            others = [s for s in self.conversations[0] if not held or s != held[-1]]
            second = len(held) < 2 or held[-1] != held[-2]
            keep = bool(held) and (not others or (second and self.rng.random() < KEEP_FLOOR))
            held.append(held[-1] if keep else int(self.rng.choice(others)))
        return held

    def _follower_holders(self, c: int) -> List[int]:
        """Conversation ``c``: the partner of conversation 0's holder of the same round."""
        members = self.conversations[c]
        position = {s: j for j, s in enumerate(self.conversations[0])}
        return [members[position[reference] % len(members)] for reference in self.holders[0]]

    def turns(self, speaker: int) -> List[Interval]:
        """``[start, end)`` ms of the runs of consecutive rounds ``speaker`` holds, trimmed by
        the gap (or overlap) at each change of holder."""
        c = self.conversation_of[speaker]
        rounds, held = self.rounds[c], self.holders[c]
        runs: List[Interval] = []
        k = 0
        while k < len(rounds):
            if held[k] != speaker:
                k += 1
                continue
            first = k
            while k + 1 < len(rounds) and held[k + 1] == speaker:
                k += 1
            start = rounds[first][0] + (self._lead_in() if first > 0 else 0)
            end = rounds[k][1] - (int(self.rng.integers(*TURN_GAP_MS)) if k + 1 < len(rounds) else 0)
            runs.append((start, end))
            k += 1
        return runs

    def _lead_in(self) -> int:
        """Where a turn starts after its round's start (ms): a gap, or a short overlap."""
        if self.rng.random() < OVERLAP_AT_CHANGE:
            return -int(self.rng.integers(80, 241))
        return int(self.rng.integers(*TURN_GAP_MS))

    def listening_rounds(self, speaker: int) -> List[Interval]:
        """The rounds in which another member of ``speaker``'s conversation holds the floor."""
        c = self.conversation_of[speaker]
        return [r for r, h in zip(self.rounds[c], self.holders[c]) if h != speaker]


def split_turn(rng: np.random.Generator, start: int, end: int) -> List[Interval]:
    """Cues of one stretch of speech ``[start, end)`` ms: itself when at most
    :data:`MAX_CUE_MS`, else pieces of 1.2-4 s with pauses of 100-300 ms; pieces shorter
    than :data:`MIN_CUE_MS` are left out."""
    cues: List[Interval] = []
    t = start
    while end - t >= MIN_CUE_MS:
        if end - t <= MAX_CUE_MS:
            cues.append((t, end))
            break
        stop = t + int(rng.integers(1200, MAX_CUE_MS + 1))
        if end - stop < MIN_CUE_MS + 300:  # keep the last piece long enough to say
            stop = end - MIN_CUE_MS - 300
        cues.append((t, stop))
        t = stop + int(rng.integers(100, 301))
    return cues


def _turn_cues(rng: np.random.Generator, floor: Floor, planner: CuePlanner, speaker: int) -> None:
    for start, end in floor.turns(speaker):
        for s, e in split_turn(rng, start, end):
            if s % MS_PER_FRAME == 0:  # starts off the frame grid
                s += 7
            if rng.random() < 0.15 and e - s > MIN_CUE_MS + MS_PER_FRAME:  # some ends on it
                e = e // MS_PER_FRAME * MS_PER_FRAME
            planner.add(s, e)


def add_backchannel(rng: np.random.Generator, planner: CuePlanner, round_ms: Interval,
                    clearance: int = BACKCHANNEL_CLEARANCE) -> Optional[Interval]:
    """A backchannel of 0.4-0.64 s near the middle of ``round_ms``, if the speaker says
    nothing within ``clearance`` ms of it; returns it."""
    a, b = round_ms
    length = int(rng.integers(BACKCHANNEL_MS[0], BACKCHANNEL_MS[1] + 1))
    start = (a + b - length) // 2 + int(rng.integers(-300, 301))
    end = start + length
    if any(s < end + clearance and start < e + clearance for s, e in planner.intervals):
        return None
    return (start, end) if planner.add(start, end) else None


def speaker_cues(rng: np.random.Generator, floor: Floor, duration_ms: int) -> List[CuePlanner]:
    """Every speaker's cues (by speaker number): the turns the floor gives it, said as cues of
    0.4-4 s (starts off the 40 ms frame grid, 15% of the ends on it), then a backchannel by a
    random listener in :data:`BACKCHANNEL` of the rounds of each conversation."""
    planners = [CuePlanner(duration_ms) for _ in floor.conversation_of]
    for speaker in sorted(floor.conversation_of):
        _turn_cues(rng, floor, planners[speaker], speaker)
    for c, members in enumerate(floor.conversations):
        for round_ms, holder in zip(floor.rounds[c], floor.holders[c]):
            listeners = [s for s in members if s != holder]
            if listeners and rng.random() < BACKCHANNEL:
                add_backchannel(rng, planners[int(rng.choice(listeners))], round_ms)
    return planners
