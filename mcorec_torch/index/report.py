"""Counts of what the index kept, dropped, merged or skipped, and why (SPEC §3, §10)."""
from __future__ import annotations

from collections import Counter
from typing import Dict, List, Mapping, Tuple

from ..corpus.cues import CUE_FAULTS

#: Reasons a cue does not become a segment of its own, in the order they are checked: the
#: cue rule's (:data:`~mcorec_torch.corpus.cues.CUE_FAULTS`), then the segment options'.
DROP_REASONS = (*CUE_FAULTS, "too_short", "too_long", "no_video", "no_audio", "empty_text",
                "duplicate")  # duplicate: a chunk (SPEC §12) with the frames of another of its speaker
#: Cues absorbed into the previous segment by ``merge_gap`` (not dropped: their text and time are kept).
MERGED = "merged"
KEPT = "kept"
SKIPPED = "skipped"  # samples that failed to load with on_error="skip" (counted per process)

Key = Tuple[str, str, str]  # (split, session, speaker)


class IndexReport:
    """Per (split, session, speaker) counts of cues by outcome.

    Every cue of every speaker ends in exactly one outcome, so for any group
    ``kept + merged + sum(dropped) == cues``.
    """

    def __init__(self, counts: Mapping[Key, Mapping[str, int]] = ()) -> None:
        self.counts: Dict[Key, Counter] = {k: Counter(v) for k, v in dict(counts).items()}

    def add(self, key: Key, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(key, Counter())[outcome] += n

    def merged_with(self, other: "IndexReport") -> "IndexReport":
        result = IndexReport(self.counts)
        for key, counter in other.counts.items():
            for outcome, n in counter.items():
                result.add(key, outcome, n)
        return result

    def _group(self, depth: int) -> Dict[Tuple[str, ...], Counter]:
        groups: Dict[Tuple[str, ...], Counter] = {}
        for key, counter in self.counts.items():
            groups.setdefault(key[:depth], Counter()).update(counter)
        return groups

    def total(self) -> Counter:
        """Counts summed over everything."""
        return self._group(0).get((), Counter())

    def by_split(self) -> Dict[str, Counter]:
        return {k[0]: v for k, v in self._group(1).items()}

    def by_session(self) -> Dict[Tuple[str, str], Counter]:
        return {(k[0], k[1]): v for k, v in self._group(2).items()}

    def by_speaker(self) -> Dict[Key, Counter]:
        return {k: Counter(v) for k, v in self.counts.items()}

    @property
    def kept(self) -> int:
        return self.total()[KEPT]

    @staticmethod
    def cues(counter: Mapping[str, int]) -> int:
        """Cues accounted for by one counter (every outcome except samples skipped at load)."""
        return sum(n for outcome, n in counter.items() if outcome != SKIPPED)

    def to_dict(self) -> dict:
        """JSON-friendly nested ``{split: {session: {speaker: {outcome: n}}}}`` plus totals."""
        nested: Dict[str, dict] = {}
        for (split, session, speaker), counter in sorted(self.counts.items()):
            nested.setdefault(split, {}).setdefault(session, {})[speaker] = dict(counter)
        return {"total": dict(self.total()), "splits": nested}

    def format(self, per_session: bool = True) -> str:
        """A readable table: one row per split (and session), columns = outcomes."""
        columns: List[str] = [KEPT, MERGED, *DROP_REASONS, SKIPPED]
        present = [c for c in columns if self.total()[c]] or [KEPT]
        rows: List[Tuple[str, Counter]] = []
        for split, counter in sorted(self.by_split().items()):
            rows.append((split, counter))
            if per_session:
                for (s, session), c in sorted(self.by_session().items()):
                    if s == split:
                        rows.append((f"  {session}", c))
        rows.append(("TOTAL", self.total()))
        width = max([len(r[0]) for r in rows] + [5])
        header = f"{'':<{width}} {'cues':>6} " + " ".join(f"{c:>12}" for c in present)
        lines = [header]
        for label, counter in rows:
            lines.append(f"{label:<{width}} {self.cues(counter):>6} " + " ".join(f"{counter[c]:>12}" for c in present))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

